/**
 * A replay's dataset going away, end to end on PostgreSQL and PGlite (README "Datasets, replays
 * and the gate"): a dataset with a queued or running replay is not deleted (409
 * `dataset_in_use`, naming the replay); cancelled, it is. A tenant erased while a replay of its
 * cases runs (DELETE /v1/tenants/{id}/runs) takes those cases with it: the replay finishes
 * without them, and neither path logs an error (nothing is left to resume).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { startHeldUpstream, type HeldUpstream } from '../support/held-upstream.js';

const storages = [...(noPostgres ? [] : (['postgres'] as const)), ...(process.env.CC_SKIP_PGLITE ? [] : (['pglite'] as const))];
const WAIT = { timeoutMs: 60_000, everyMs: 25 };
const output = (input: any) => ({ total: input.n * 10 });

describe.each(storages)('a replay whose dataset goes away, on %s', { timeout: 120_000 }, (storage) => {
  let gw: TestGateway;
  let live: HeldUpstream;
  let held: HeldUpstream;
  let logs = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs += chunk.toString();
      done();
    },
  });
  /** Log lines at error (50) or above. */
  const errors = () =>
    logs
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((l) => l.level >= 50);

  beforeAll(async () => {
    live = await startHeldUpstream({ output });
    live.release();
    held = await startHeldUpstream({ output });
    gw = await startTestGateway({ storage, logStream: sink });
    for (const t of ['acme', 'globex']) expect((await gw.request('PUT', `/v1/tenants/${t}`, {})).status).toBe(201);
    expect((await gw.request('PUT', '/v1/chains/invoices', {})).status).toBe(201);
    for (const [version, url] of [
      ['v1', live.url],
      ['held', held.url],
    ] as const) {
      expect((await gw.request('POST', '/v1/chains/invoices/versions', { version, adapter: { type: 'http', url } })).status).toBe(201);
    }
  });
  afterAll(async () => {
    held?.release();
    await gw?.close();
    await Promise.all([live?.close(), held?.close()]);
  });

  it('a dataset with a running replay is not deleted (409 naming the replay); cancelled, it is, without an error', async () => {
    const d = await gw.request('POST', '/v1/datasets', { name: 'held', chain: 'invoices' });
    const cases = Array.from({ length: 6 }, (_, i) => ({ input: { n: i + 1 }, expected: output({ n: i + 1 }) }));
    expect((await gw.request('POST', `/v1/datasets/${d.body.id}/cases`, cases)).status).toBe(201);
    held.hold();
    const before = held.received;
    const replay = (await gw.request('POST', `/v1/datasets/${d.body.id}/replays`, { version: 'held', concurrency: 2 })).body;
    await eventually('the replay calls the upstream', async () => held.received >= before + 2, WAIT);
    const refused = await gw.request('DELETE', `/v1/datasets/${d.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'dataset_in_use', details: { datasetId: d.body.id, replayId: replay.id } });
    expect(refused.body.error.message).toContain(`POST /v1/replays/${replay.id}/cancel`);
    expect((await gw.request('GET', `/v1/datasets/${d.body.id}`)).status).toBe(200);

    expect((await gw.request('POST', `/v1/replays/${replay.id}/cancel`)).status).toBe(200);
    expect((await gw.request('DELETE', `/v1/datasets/${d.body.id}`)).status).toBe(204);
    expect((await gw.request('GET', `/v1/replays/${replay.id}`)).status).toBe(404);
    // The calls that were in flight answer now; nothing is recorded against the deleted replay.
    held.release();
    await new Promise((r) => setTimeout(r, 300));
    expect(errors()).toEqual([]);
  });

  it('erasing a tenant while a replay of its cases runs: the replay finishes without them, without an error', async () => {
    // Reviewed runs of both tenants, alternating, so that the held calls include globex cases.
    for (let n = 1; n <= 8; n++) {
      const run = await gw.request('POST', '/v1/chains/invoices/invoke', {
        tenant: n % 2 === 0 ? 'acme' : 'globex',
        environment: 'prod',
        input: { n },
      });
      expect(run.status).toBe(200);
      expect((await gw.request('POST', `/v1/runs/${run.body.runId}/feedback`, { overrides: [] })).status).toBe(200);
    }
    await gw.services().writer.flush();
    const d = await gw.request('POST', '/v1/datasets', { name: 'both tenants', chain: 'invoices', from: { limit: 100 } });
    expect(d.body.cases).toBe(8);
    held.hold();
    const before = held.received;
    const replay = (await gw.request('POST', `/v1/datasets/${d.body.id}/replays`, { version: 'held', concurrency: 4 })).body;
    await eventually('four calls held', async () => held.received >= before + 4, WAIT);

    const erasure = await gw.request('DELETE', '/v1/tenants/globex/runs');
    expect(erasure.status).toBe(202);
    const erased = await eventually(
      'erasure done',
      async () => {
        const s = (await gw.request('GET', erasure.body.statusUrl)).body;
        return s.status !== 'running' && s;
      },
      WAIT,
    );
    expect(erased).toMatchObject({ status: 'done', deletedDatasetCases: 4 });
    // The held calls (globex cases among them) answer after their cases are gone.
    held.release();
    const done = await eventually(
      'replay done',
      async () => {
        const r = (await gw.request('GET', `/v1/replays/${replay.id}`)).body;
        return r.status === 'done' && r;
      },
      WAIT,
    );
    expect(done.progress.done).toBe(4);
    expect(done.result).toMatchObject({ cases: 4, errors: 0 });
    const results = (await gw.request('GET', `/v1/replays/${replay.id}/cases`)).body.items;
    expect(results).toHaveLength(4);
    expect(errors()).toEqual([]);
  });
});
