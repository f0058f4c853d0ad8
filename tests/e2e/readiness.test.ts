/**
 * /readyz while Unleash cannot be reached: 200 `degraded`, and the part that makes it degraded
 * says so (`flags.degraded` true, with why), with no stack trace in the answer; the log says the
 * flag source is failing once, in one line without a stack, not at every refresh.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { freePort } from '../support/private-postgres.js';

describe.skipIf(noPostgres)('readiness with Unleash away', () => {
  let gw: TestGateway;
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  beforeAll(async () => {
    const port = await freePort();
    gw = await startTestGateway({
      logStream: sink,
      env: {
        LOG_LEVEL: 'info',
        UNLEASH_URL: `http://127.0.0.1:${port}/api`,
        UNLEASH_API_TOKEN: 'default:development.client-token',
        UNLEASH_ADMIN_TOKEN: '*:*.admin-token',
        UNLEASH_REFRESH_MS: '100',
      },
    });
  }, 60_000);
  afterAll(async () => {
    await gw?.close();
  });

  it('is degraded, says which part is, and shows no stack', async () => {
    // A dozen refreshes fail meanwhile.
    await new Promise((r) => setTimeout(r, 1500));
    const res = await gw.request('GET', '/readyz', undefined, null);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.database.status).toBe('ok');
    expect(res.body.flags).toMatchObject({ kind: 'unleash', degraded: true });
    expect(typeof res.body.flags.detail).toBe('string');
    expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |"stack"/);
  });

  it('logs the failing flag source once, in one line without a stack', () => {
    const lines = logs
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const flagLines = lines.filter((l) => l.level >= 40 && /flag/i.test(String(l.msg)));
    expect(flagLines).toHaveLength(1);
    expect(flagLines[0].msg).toMatch(/^flag source failing: .+ \(routing on the last known flags; see \/readyz\)$/);
    expect(logs).not.toMatch(/"stack"|\\n\s+at /);
  });
});
