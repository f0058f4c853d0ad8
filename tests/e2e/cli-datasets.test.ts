/**
 * `chain-canary dataset create|list|export` and `chain-canary replay --dataset … --version …`
 * against a real gateway on loopback, with loopback upstreams: text and --json, a file of cases
 * (JSON Lines) in and out, a replay followed to its end and compared with another pair by pair.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayVersionArgs } from '../../src/cli/commands/datasets.js';
import { runCli, VERSION } from '../../src/cli/program.js';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstream.js';
import { ADMIN, noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

describe('replayVersionArgs', () => {
  it('turns --version after `replay` into the chain version, and leaves it alone elsewhere', () => {
    expect(replayVersionArgs(['replay', '--dataset', 'd', '--version', 'v2'])).toEqual([
      'replay',
      '--dataset',
      'd',
      '--replay-version',
      'v2',
    ]);
    expect(replayVersionArgs(['--url', 'http://x', '--json', 'replay', '--version=v3'])).toEqual([
      '--url',
      'http://x',
      '--json',
      'replay',
      '--replay-version=v3',
    ]);
    expect(replayVersionArgs(['--version'])).toEqual(['--version']);
    expect(replayVersionArgs(['rollout', 'status', '--version'])).toEqual(['rollout', 'status', '--version']);
    expect(replayVersionArgs(['--token', 'replay', 'tenants', 'list', '--version'])).toEqual([
      '--token',
      'replay',
      'tenants',
      'list',
      '--version',
    ]);
  });
});

describe.skipIf(noPostgres)('chain-canary dataset and replay commands', { timeout: 120_000 }, () => {
  let gw: TestGateway;
  let v1: FakeUpstream;
  let v2: FakeUpstream;
  let dir: string;

  const cli = async (...args: string[]) => {
    let out = '';
    let err = '';
    const code = await runCli(['--url', gw.url!, '--token', ADMIN, ...args], { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  };
  const cliJson = async (...args: string[]): Promise<any> => {
    const r = await cli('--json', ...args);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.out);
  };

  beforeAll(async () => {
    [v1, v2] = await Promise.all([
      startFakeUpstream({ behaviour: { output: (i: any) => ({ total: i.n * 10 }) } }),
      // v2 gets every fifth total wrong.
      startFakeUpstream({ behaviour: { output: (i: any) => ({ total: i.n % 5 === 0 ? 0 : i.n * 10 }) } }),
    ]);
    gw = await startTestGateway({ listen: true });
    dir = mkdtempSync(join(tmpdir(), 'cc-cli-datasets-'));
    expect((await gw.request('PUT', '/v1/tenants/acme', {})).status).toBe(201);
    expect((await gw.request('PUT', '/v1/chains/invoices', {})).status).toBe(201);
    for (const [version, up] of [
      ['v1', v1],
      ['v2', v2],
    ] as const) {
      expect((await gw.request('POST', '/v1/chains/invoices/versions', { version, adapter: { type: 'http', url: up.url } })).status).toBe(
        201,
      );
    }
    for (let n = 1; n <= 20; n++) {
      const run = await gw.request('POST', '/v1/chains/invoices/invoke', { tenant: 'acme', environment: 'prod', input: { n } });
      // The reviewers corrected every tenth total.
      const fb = await gw.request('POST', `/v1/runs/${run.body.runId}/feedback`, { final: { total: n % 10 === 0 ? n * 10 + 1 : n * 10 } });
      expect(fb.status).toBe(200);
    }
    await gw.services().writer.flush();
  });
  afterAll(async () => {
    await gw?.close();
    await Promise.all([v1?.close(), v2?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  let fromRuns: any;

  it('dataset create from reviewed runs, and list', async () => {
    const text = await cli('dataset', 'create', 'december', '--chain', 'invoices', '--environments', 'prod', '--limit', '50');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^dataset [0-9a-f-]{36} {2}december {2}\(chain invoices\): 20 cases; fields total\n$/);
    fromRuns = await cliJson('dataset', 'create', 'random', '--chain', 'invoices', '--sample', 'random', '--seed', '3', '--limit', '8');
    expect(fromRuns).toMatchObject({ name: 'random', cases: 8, from: { sample: 'random', seed: 3, limit: 8 } });
    const list = await cli('dataset', 'list', '--chain', 'invoices');
    expect(list.out.split('\n')[0]).toMatch(/^DATASET\s+NAME\s+CHAIN\s+CASES\s+REDACTED\s+CREATED$/);
    expect(list.out).toMatch(/december\s+invoices\s+20\s+0/);
    expect((await cliJson('datasets', 'list')).items).toHaveLength(2);
  });

  it('dataset create --file (JSON Lines) and export round trip', async () => {
    const file = join(dir, 'hundred.jsonl');
    writeFileSync(
      file,
      Array.from({ length: 30 }, (_, i) => JSON.stringify({ input: { n: i + 1 }, expected: { total: (i + 1) * 10 } })).join('\n') + '\n',
    );
    const created = await cliJson('dataset', 'create', 'hand-kept', '--chain', 'invoices', '--file', file);
    expect(created).toMatchObject({ name: 'hand-kept', cases: 30 });
    const out = join(dir, 'export.jsonl');
    const exported = await cli('dataset', 'export', created.id, '-o', out);
    expect(exported).toMatchObject({ code: 0, err: '30 cases written to ' + out + '\n' });
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.input.n)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    const stdout = await cli('dataset', 'export', created.id);
    expect(stdout.out).toBe(readFileSync(out, 'utf8'));
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"input": 1, "expected": 2}\n{nope}\n');
    const refused = await cli('dataset', 'create', 'bad', '--chain', 'invoices', '--file', bad);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/bad\.jsonl line 2 is not valid JSON/);
  });

  it('replay --dataset … --version … follows the replay and prints its result; --compare-with pairs two', async () => {
    const list = await cliJson('dataset', 'list');
    const dataset = list.items.find((d: any) => d.name === 'hand-kept');
    const a = await cli('replay', '--dataset', dataset.id, '--version', 'v1');
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/^replay [0-9a-f-]{36} {2}dataset [0-9a-f-]{36} {2}invoices v1 {2}DONE {2}30\/30$/m);
    expect(a.out).toMatch(/^would be overridden\s+0 \(0\.0%\)$/m);
    expect(a.out).toContain('30 of 30 cases pass');
    const firstId = /^replay ([0-9a-f-]{36})/.exec(a.out)![1]!;
    const b = await cliJson('replay', '--dataset', dataset.id, '--version', 'v2', '--concurrency', '2', '--compare-with', firstId);
    expect(b.replay).toMatchObject({ status: 'done', version: 'v2', progress: { done: 30, total: 30 }, result: { overridden: 6 } });
    expect(b.comparison).toMatchObject({ pairs: 30, onlyAOverridden: 0, onlyBOverridden: 6, bothOverridden: 0, bothOk: 24 });
    const text = await cli('replay', '--dataset', dataset.id, '--version', 'v2', '--compare-with', firstId);
    expect(text.out).toContain('pairs 30: both ok 24, only a overridden 0, only b overridden 6, both 0');
    expect(text.out).toMatch(/difference \(b − a\): \+20\.0 points, 95% interval \[\+\d+\.\d, \+\d+\.\d\], McNemar exact p = 0\.031/);
    const started = await cliJson('replay', '--dataset', dataset.id, '--version', 'v1', '--no-wait');
    expect(started.statusUrl).toBe(`/v1/replays/${started.id}`);
  });

  it('rollout advance --override starts a gated rollout without its gate, with the reason in the audit log', async () => {
    const dataset = (await cliJson('dataset', 'list')).items.find((d: any) => d.name === 'hand-kept');
    const gated = await gw.request('POST', '/v1/rollouts', {
      chain: 'invoices',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 10 }],
      // Undecidable on this dataset (bounds +7.6 to +34.3 points around +20): it stays gated.
      gate: { replay: { dataset: dataset.id, maxIncrease: 0.2, minCases: 30 } },
    });
    expect(gated.status).toBe(201);
    const refused = await cli('rollout', 'advance', gated.body.id);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error 409 \(gated\)/);
    const advanced = await cliJson('rollout', 'advance', gated.body.id, '--override', '--reason', 'release train');
    expect(advanced).toMatchObject({ status: 'running', stage: 0, gate: { state: 'overridden', reason: 'release train' } });
  });

  it('errors are one line; --version alone still prints the package version', async () => {
    const missing = await cli('replay', '--dataset', '00000000-0000-4000-8000-000000000000', '--version', 'v1');
    expect(missing).toMatchObject({
      code: 1,
      err: expect.stringMatching(/^error 404 \(not_found\): Dataset '0{8}-0000-4000-8000-0{12}' not found\.\n$/),
    });
    const noVersion = await cli('replay', '--dataset', fromRuns.id);
    expect(noVersion).toEqual({ code: 1, out: '', err: 'replay needs --version <version>: the chain version to replay\n' });
    expect(await cli('--version')).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
  });
});
