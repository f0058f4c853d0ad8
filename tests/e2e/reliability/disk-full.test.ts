/**
 * A full disk under the spool (issue 19 item 7), through the gateway over HTTP. The segment and
 * probe files the spool will open are symbolic links to /dev/full (every write fails with ENOSPC).
 * - The call whose upstream had already answered when the write failed gets its answer, with
 *   `x-chain-canary-warning: run_not_journaled`, and its run is stored.
 * - After that, invokes are refused with 503 `spool_unwritable` before the upstream is called (the
 *   message says nothing was taken), feedback too; /readyz is 503; no segment file is opened per
 *   call.
 * - Once the disk takes writes again, /readyz recovers by itself and calls are answered and stored.
 */
import { existsSync, readdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../support/fake-upstream.js';
import { noPostgres, startTestGateway, type TestGateway } from '../../support/gateway.js';
import { api, eventually, setupChain, storedRuns } from './helpers.js';

const LINKS = ['seg-0000000000000001-00000000.jsonl', 'seg-0000000000000001-00000001.jsonl', 'probe.tmp'];

describe.skipIf(noPostgres || !existsSync('/dev/full'))('disk full under the spool', () => {
  let gw: TestGateway;
  let upstream: FakeUpstream;
  let spoolDir: string;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ behaviour: { output: () => ({ ok: true }) } });
    gw = await startTestGateway({ listen: true });
    spoolDir = join(gw.dataDir, 'spool');
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('answers honestly while the disk is full, is not ready, and recovers when it is not', async () => {
    const base = gw.url!;
    const { key } = await setupChain(base, upstream.url);
    // Setup wrote no run: the spool has not opened a segment yet. Now the disk is full.
    expect(readdirSync(spoolDir).filter((f) => f.startsWith('seg-'))).toEqual([]);
    for (const name of LINKS) symlinkSync('/dev/full', join(spoolDir, name));

    const answered: string[] = [];
    const first = await api(base, 'POST', '/v1/chains/extract/invoke', { environment: 'prod', input: { doc: 1 } }, key);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-chain-canary-warning')).toMatch(/^run_not_journaled/);
    answered.push(first.body.runId);

    const ready = await api(base, 'GET', '/readyz', undefined, null);
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ status: 'unavailable', spool: { writable: false, unwritable: { error: 'ENOSPC' } } });

    const callsBefore = upstream.calls;
    for (let i = 0; i < 30; i++) {
      const r = await api(base, 'POST', '/v1/chains/extract/invoke', { environment: 'prod', input: { doc: 2 + i } }, key);
      expect(r.status).toBe(503);
      expect(r.body.error.code).toBe('spool_unwritable');
      expect(r.body.error.message).toContain('no upstream was called');
    }
    expect(upstream.calls).toBe(callsBefore);
    const fb = await api(base, 'POST', `/v1/runs/${first.body.runId}/feedback`, { final: { ok: false } }, key);
    expect(fb.status).toBe(503);
    expect(fb.body.error.code).toBe('spool_unwritable');
    // Reads still work, and the run answered while the disk was full is there.
    expect((await api(base, 'GET', `/v1/runs/${first.body.runId}`, undefined, key)).status).toBe(200);
    // No file per call: the two segments tried at the failure are gone, the probe file is reused.
    expect(readdirSync(spoolDir).filter((f) => f.startsWith('seg-'))).toEqual([]);

    // The disk is freed: readiness comes back by itself (the readiness poll probes the disk).
    for (const name of LINKS) if (readdirSync(spoolDir).includes(name)) unlinkSync(join(spoolDir, name));
    await eventually('readiness to come back', async () => (await api(base, 'GET', '/readyz', undefined, null)).status === 200, 20_000);
    const again = await api(base, 'POST', '/v1/chains/extract/invoke', { environment: 'prod', input: { again: true } }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-chain-canary-warning')).toBeNull();
    answered.push(again.body.runId);

    await gw.gateway.services.writer.flush();
    const stored = await storedRuns(gw.config.DATABASE_URL!, answered);
    expect(answered.filter((id) => stored.found.get(id) !== 1)).toEqual([]);
  });
});
