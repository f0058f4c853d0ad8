/**
 * The command line against a real gateway on loopback (and the bundled example upstream behind
 * it): every resource's commands, in text and with --json, their errors, and the real entry point
 * (bin/chain-canary.js) for --version, an unreachable gateway and example-upstream.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleUpstream, type RunningExampleUpstream } from '../../src/cli/example-upstream.js';
import { runCli, VERSION } from '../../src/cli/program.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';
import { freePort } from '../support/private-postgres.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** A child process that loads the CLI through tsx: minutes on a busy shared machine, not seconds. */
const CHILD_TIMEOUT = 300_000;

interface CliResult {
  code: number;
  out: string;
  err: string;
}

describe.skipIf(noPostgres)('chain-canary CLI against a running gateway', () => {
  let gw: TestGateway;
  let upstream: RunningExampleUpstream;
  let dir: string;

  beforeAll(async () => {
    [gw, upstream] = await Promise.all([startTestGateway({ listen: true }), startExampleUpstream({ port: 0, host: '127.0.0.1' })]);
    dir = mkdtempSync(join(tmpdir(), 'cc-cli-'));
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]): Promise<CliResult> => {
    let out = '';
    let err = '';
    const code = await runCli(['--url', gw.url!, '--token', ADMIN, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  };
  /** Runs with --json and parses what it printed. */
  const cliJson = async (...args: string[]): Promise<any> => {
    const r = await cli('--json', ...args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.out);
  };
  const file = (name: string, value: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };

  it('--version prints the package version', async () => {
    const r = await cli('--version');
    expect(r).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
  });

  it('tenants put and list', async () => {
    expect(await cli('tenants', 'put', 'acme', '--name', 'ACME')).toEqual({ code: 0, out: 'tenant acme (ACME)\n', err: '' });
    expect(await cliJson('tenants', 'put', 'globex')).toMatchObject({ id: 'globex', name: null });
    const list = await cli('tenants', 'list');
    expect(list.code).toBe(0);
    expect(list.out.split('\n')[0]).toMatch(/^TENANT\s+NAME\s+CREATED$/);
    expect(list.out).toMatch(/^acme\s+ACME\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    expect((await cliJson('tenants', 'list')).items.map((t: { id: string }) => t.id).sort()).toEqual(['acme', 'globex']);
  });

  it('keys create and revoke; a revoked key stops working', async () => {
    const text = await cli('keys', 'create', 'acme', '--name', 'ci');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^key [0-9a-f-]{36} \(ci\) for tenant acme:\n {2}\S{20,}\nShown only now/);
    const created = await cliJson('keys', 'create', 'acme', '--name', 'review-ui');
    expect(created).toMatchObject({ id: expect.any(String), key: expect.any(String), name: 'review-ui', tenantId: 'acme' });
    expect((await gw.request('GET', '/v1/runs?tenant=acme', undefined, created.key)).status).not.toBe(401);
    expect(await cliJson('keys', 'revoke', 'acme', created.id)).toEqual({ tenantId: 'acme', keyId: created.id, revoked: true });
    expect((await gw.request('GET', '/v1/runs?tenant=acme', undefined, created.key)).status).toBe(401);
    const again = await cli('keys', 'revoke', 'acme', '00000000-0000-4000-8000-000000000000');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^error 404 \(not_found\): .+\n$/);
  });

  it('chains put, list and get; versions add and list (the example upstream as v1 and v2)', async () => {
    const put = await cli('chains', 'put', 'invoice-extraction', '-d', 'Invoices');
    expect(put).toEqual({
      code: 0,
      out: 'chain invoice-extraction: Invoices\ncurrent version: – (none registered yet)\nenvironments: dev, staging, prod\n',
      err: '',
    });
    expect(await cli('versions', 'add', 'invoice-extraction', 'v1', '--endpoint', `${upstream.url}/invoke`)).toEqual({
      code: 0,
      out: `version v1 of invoice-extraction: http ${upstream.url}/invoke\n`,
      err: '',
    });
    expect(
      await cliJson('versions', 'add', 'invoice-extraction', 'v2', '-e', `${upstream.url}/v2/invoke`, '--timeout-ms', '5000'),
    ).toMatchObject({
      chain: 'invoice-extraction',
      version: 'v2',
      adapter: { type: 'http', url: `${upstream.url}/v2/invoke`, timeoutMs: 5000 },
    });
    const openai = file('v3.json', { type: 'openai', model: 'gpt-4o-mini', messages: [{ role: 'user', content: '{{input.text}}' }] });
    expect(await cliJson('versions', 'add', 'invoice-extraction', 'v3', '-f', openai)).toMatchObject({
      version: 'v3',
      adapter: { type: 'openai', model: 'gpt-4o-mini' },
    });

    const list = await cli('chains', 'list');
    expect(list.out).toMatch(/^CHAIN\s+CURRENT\s+DESCRIPTION\ninvoice-extraction\s+v1\s+Invoices\n$/);
    expect((await cliJson('chains', 'list')).items).toHaveLength(1);
    const get = await cli('chains', 'get', 'invoice-extraction');
    expect(get.out).toContain('current version: v1');
    expect(get.out).toMatch(/^v2\s+http http:\/\/127\.0\.0\.1:\d+\/v2\/invoke\s+\d{4}-/m);
    expect(get.out).toMatch(/^v3\s+openai openai gpt-4o-mini\s+\d{4}-/m);
    expect((await cliJson('chains', 'get', 'invoice-extraction')).versions.map((v: { version: string }) => v.version)).toEqual([
      'v1',
      'v2',
      'v3',
    ]);
    expect((await cliJson('versions', 'list', 'invoice-extraction')).items).toHaveLength(3);
    expect((await cli('versions', 'list', 'invoice-extraction')).out.split('\n')[0]).toMatch(/^VERSION\s+CALLS\s+CREATED$/);

    // The gateway calls the example upstream: its deterministic extraction comes back.
    const invoke = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', {
      tenant: 'acme',
      environment: 'staging',
      input: { text: 'Invoice 1017 from ACME GmbH, total 42.50 EUR, dated 2026-01-31' },
    });
    expect(invoke.status).toBe(200);
    expect(invoke.body).toMatchObject({ version: 'v1', output: { vendor: 'ACME GmbH', total: 42.5, currency: 'EUR', date: '2026-01-31' } });
  });

  it('versions add needs exactly one of --url and --file; a bad file is one line', async () => {
    const neither = await cli('versions', 'add', 'invoice-extraction', 'v9');
    expect(neither).toEqual({ code: 1, out: '', err: 'versions add: give either --endpoint <invokeUrl> or --file <adapter.json>\n' });
    const missing = await cli('versions', 'add', 'invoice-extraction', 'v9', '-f', join(dir, 'nope.json'));
    expect(missing).toEqual({ code: 1, out: '', err: `cannot read ${join(dir, 'nope.json')}: ENOENT\n` });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"type": ');
    expect((await cli('versions', 'add', 'invoice-extraction', 'v9', '-f', bad)).err).toMatch(
      new RegExp(`^${bad} is not valid JSON: .+\\n$`),
    );
    // A 400 from the gateway keeps its code and message.
    const invalid = await cli('versions', 'add', 'invoice-extraction', 'v9', '--endpoint', 'not a url');
    expect(invalid.code).toBe(1);
    expect(invalid.err).toMatch(/^error 400 \(\w+\): .+\n$/);
  });

  it('rollouts: create, status with the comparison, events, advance, pause, resume; rollback requires --reason', async () => {
    const spec = file('rollout.json', {
      chain: 'invoice-extraction',
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['staging'], tenants: ['acme'], percent: 100 },
        { environments: ['prod'], tenants: ['acme', 'globex'], percent: 50, splitBy: 'unit' },
      ],
      guardrails: [
        { metric: 'latency_p95_ms', max: 2000, minSamples: 1 },
        { metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 },
      ],
    });
    const created = await cli('rollout', 'create', '-f', spec);
    expect(created.code).toBe(0);
    const id = /^([0-9a-f-]{36}) {2}invoice-extraction {2}v1 → v2 {2}RUNNING {2}stage 1\/2\n$/.exec(created.out)?.[1];
    expect(id).toBeDefined();

    for (let i = 0; i < 3; i++) {
      const r = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', {
        tenant: 'acme',
        environment: 'staging',
        input: { text: `Invoice 20${i} from ACME GmbH, total 10.00 EUR` },
      });
      expect(r.body).toMatchObject({ variant: 'candidate', version: 'v2', output: { total: 200 + i } });
    }
    await gw.services().writer.flush();

    const status = await cli('rollout', 'status', id!);
    expect(status.code).toBe(0);
    // The latency limit reads in the unit it was written in.
    expect(status.out).toMatch(
      /^guardrail latency_p95_ms \(limit 2000 ms\): \w+, bound [\d.]+% of runs slower than 2000 ms \(5% allowed\), \d+ samples?$/m,
    );
    expect(status.out).toMatch(
      /^guardrail override_rate \(limit \+5 points over control\): waiting, bound n\/a, 0 samples \(of 100 needed\)$/m,
    );
    expect(status.out).not.toContain('threshold');
    const statusJson = await cliJson('rollout', 'status', id!);
    expect(statusJson.rollout).toMatchObject({ id, status: 'running' });
    expect(statusJson.comparison.guardrails.find((g: { metric: string }) => g.metric === 'latency_p95_ms')).toMatchObject({ maxMs: 2000 });

    expect((await cli('rollout', 'status')).out).toContain(`${id}  invoice-extraction  v1 → v2  RUNNING  stage 1/2`);
    expect((await cliJson('rollouts', 'status')).items.map((r: { id: string }) => r.id)).toEqual([id]);

    expect((await cli('rollout', 'advance', id!)).out).toContain('RUNNING  stage 2/2');
    expect((await cli('rollout', 'pause', id!, '--reason', 'lunch')).out).toContain('PAUSED  stage 2/2');
    expect(await cliJson('rollout', 'resume', id!)).toMatchObject({ status: 'running', stage: 1 });

    const noReason = await cli('rollout', 'rollback', id!);
    expect(noReason.code).toBe(1);
    expect(noReason.err).toBe("error: required option '-r, --reason <reason>' not specified\n");
    expect((await gw.request('GET', `/v1/rollouts/${id}`)).body.status).toBe('running');

    expect((await cli('rollout', 'rollback', id!, '-r', 'reviewers complain')).out).toContain('ROLLED_BACK');
    const events = await cli('rollout', 'events', id!);
    expect(events.out).toMatch(/ rolled_back\s+admin:ADMIN_TOKEN\s+"reviewers complain"$/m);
    expect(
      events.out
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['created', 'advanced', 'paused', 'resumed', 'rolled_back']);
    expect((await cliJson('rollout', 'events', id!)).events.at(-1)).toMatchObject({ type: 'rolled_back', reason: 'reviewers complain' });
  }, 120_000);

  it('a shadow-only rollout ("stages": []) reads "shadow only: no traffic moves", not "stage 1/0"', async () => {
    const spec = file('shadow-only.json', {
      chain: 'invoice-extraction',
      control: 'v1',
      candidate: 'v2',
      stages: [],
      shadow: { percent: 100 },
    });
    const created = await cli('rollout', 'create', '-f', spec);
    expect(created.code).toBe(0);
    const id = /^([0-9a-f-]{36}) {2}invoice-extraction {2}v1 → v2 {2}RUNNING {2}shadow only: no traffic moves\n$/.exec(created.out)?.[1];
    expect(id).toBeDefined();
    const one = await cli('rollout', 'status', id!);
    expect(one.code).toBe(0);
    expect(one.out.split('\n')[0]).toBe(`${id}  invoice-extraction  v1 → v2  RUNNING  shadow only: no traffic moves`);
    const list = await cli('rollout', 'status');
    expect(list.out).toContain(`${id}  invoice-extraction  v1 → v2  RUNNING  shadow only: no traffic moves`);
    expect(list.out).not.toContain('stage 1/0');
    expect((await cli('rollout', 'rollback', id!, '-r', 'measured enough')).out).toContain('ROLLED_BACK  shadow only: no traffic moves');
  });

  it('an API error is one line; with --json it is the API error shape on stderr', async () => {
    expect(await cli('chains', 'get', 'no-such-chain')).toEqual({
      code: 1,
      out: '',
      err: expect.stringMatching(/^error 404 \(not_found\): [^\n]+\n$/),
    });
    const json = await cli('--json', 'chains', 'get', 'no-such-chain');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.err)).toMatchObject({ status: 404, error: { code: 'not_found', message: expect.any(String) } });
    const wrongToken = await runCli(['--url', gw.url!, '--token', 'not-the-admin-token', 'tenants', 'list'], {
      out: () => {},
      err: () => {},
    });
    expect(wrongToken).toBe(1);
  });

  it('a gateway that is not running: one clear line, not ECONNREFUSED', async () => {
    const port = await freePort();
    let err = '';
    const code = await runCli(['--url', `http://127.0.0.1:${port}`, '--token', ADMIN, 'tenants', 'list'], {
      out: () => {},
      err: (s) => (err += s),
    });
    expect(code).toBe(1);
    expect(err).toBe(
      `Cannot reach the gateway at http://127.0.0.1:${port}: connection refused (ECONNREFUSED). Is it running? Pass --url or set CHAIN_CANARY_URL.\n`,
    );
  });
});

describe('the installed entry point (bin/chain-canary.js)', () => {
  const bin = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['bin/chain-canary.js', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      encoding: 'utf8',
      timeout: CHILD_TIMEOUT,
    });

  it(
    '--version',
    () => {
      const r = bin(['--version']);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${VERSION}\n`);
    },
    CHILD_TIMEOUT,
  );

  it('an unreachable gateway, with --json: the error as JSON on stderr, exit 1', async () => {
    const port = await freePort();
    const r = bin(['rollout', 'status', '--json'], { CHAIN_CANARY_URL: `http://127.0.0.1:${port}`, CHAIN_CANARY_TOKEN: 'x'.repeat(20) });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toEqual({
      error: {
        code: 'gateway_unreachable',
        message: `Cannot reach the gateway at http://127.0.0.1:${port}: connection refused (ECONNREFUSED). Is it running? Pass --url or set CHAIN_CANARY_URL.`,
      },
    });
  });

  it(
    "example-upstream answers LangServe's /invoke shape",
    async () => {
      const child = spawn(process.execPath, ['bin/chain-canary.js', 'example-upstream', '--port', '0'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        let out = '';
        const url = await new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
            if (m) resolve(m[1]!);
          });
          child.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
        });
        expect(out).toContain(`v2   POST ${url}/v2/invoke`);
        const post = (path: string, body: unknown) =>
          fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
            async (r) => ({ status: r.status, body: await r.json() }),
          );
        const text = 'Invoice 1017 from ACME GmbH, total 1,234.50 EUR, dated 2026-01-31';
        const v1 = await post('/invoke', { input: { text } });
        expect(v1.status).toBe(200);
        expect(v1.body).toMatchObject({
          output: { vendor: 'ACME GmbH', total: 1234.5, currency: 'EUR', date: '2026-01-31' },
          metadata: { run_id: expect.any(String) },
        });
        expect((await post('/v2/invoke', { input: { text } })).body.output).toEqual({
          vendor: 'ACME GmbH',
          total: 1017,
          currency: 'EUR',
          date: '2026-01-31',
        });
        expect((await post('/invoke', { nope: 1 })).status).toBe(422);
        expect((await post('/elsewhere', { input: {} })).status).toBe(404);
      } finally {
        child.kill('SIGTERM');
      }
    },
    CHILD_TIMEOUT,
  );
});
