/** InvokeService on in-memory ports: routing, recording, failures, fallback, idempotency, redaction. */
import { describe, expect, it } from 'vitest';
import { BadRequestError, NotFoundError, UnavailableError, UpstreamError } from '../../../src/domain/model/errors.js';
import { rolloutSpecSchema } from '../../../src/domain/model/rollout-spec.js';
import { aRun, batchOf } from '../../support/runs.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

const call = { chain: CHAIN, tenant: 'acme', environment: 'prod', input: { doc: 'INV-1 from ACME, total 100' } };

describe('InvokeService', () => {
  it('answers from the current version and records the run before it answers', async () => {
    const w = await world();
    const result = await w.invoke.invoke({ ...call, unit: 'doc-1', externalId: 'INV-1', metadata: { source: 'inbox' } });
    expect(result).toMatchObject({ chain: CHAIN, version: 'v1', variant: 'default', output: { total: 100, vendor: 'ACME' } });
    expect(result.error).toBeUndefined();
    expect(w.chains.calls).toEqual([`${CHAIN}@v1`]);
    // Queued (and readable) before anything is stored.
    const pending = w.writer.pendingRun(result.runId);
    expect(pending).toMatchObject({
      id: result.runId,
      chainId: CHAIN,
      version: 'v1',
      variant: 'default',
      rolloutId: null,
      tenantId: 'acme',
      environment: 'prod',
      unit: 'doc-1',
      externalId: 'INV-1',
      metadata: { source: 'inbox' },
      input: call.input,
      output: { total: 100, vendor: 'ACME' },
      error: null,
      fallback: false,
      promptTokens: 3,
      completionTokens: 5,
      createdAt: w.now(),
    });
    expect(w.runRepo.runs.size).toBe(0);
    await w.writer.flush();
    expect(w.runRepo.runs.get(result.runId)).toEqual(pending);
    expect(w.told.finished.map((r) => r.id)).toEqual([result.runId]);
  });

  it('refuses unknown tenants and chains, and a chain without versions, without calling anything', async () => {
    const w = await world();
    await expect(w.invoke.invoke({ ...call, tenant: 'nobody' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.invoke.invoke({ ...call, chain: 'nothing' })).rejects.toBeInstanceOf(NotFoundError);
    await w.catalog.putChain('empty', {});
    await expect(w.invoke.invoke({ ...call, chain: 'empty' })).rejects.toBeInstanceOf(BadRequestError);
    expect(w.chains.calls).toEqual([]);
    expect(w.writer.backlog).toBe(0);
  });

  it('records a failed call with its error and no output, and hands the error back', async () => {
    const w = await world();
    w.chains.answer(CHAIN, 'v1', () => {
      throw new UpstreamError('timeout', 'The upstream did not answer in time.');
    });
    const result = await w.invoke.invoke(call);
    expect(result.error).toBeInstanceOf(UpstreamError);
    expect(result.error?.statusCode).toBe(504);
    expect(w.writer.pendingRun(result.runId)).toMatchObject({
      output: null,
      error: { code: 'upstream_timeout', message: 'The upstream did not answer in time.' },
    });
  });

  it('wraps anything else an adapter throws as an upstream failure (502)', async () => {
    const w = await world();
    w.chains.answer(CHAIN, 'v1', () => {
      throw new TypeError('socket hang up');
    });
    const result = await w.invoke.invoke(call);
    expect(result.error).toMatchObject({ code: 'upstream_failed', statusCode: 502 });
    expect(result.error?.message).toContain('socket hang up');
  });

  it('routes by the running rollout: the candidate arm, its stage and assignment key are recorded', async () => {
    const w = await world();
    const rollout = await w.rollouts.create(
      rolloutSpecSchema.parse({
        chain: CHAIN,
        control: 'v1',
        candidate: 'v2',
        stages: [{ environments: ['prod'], tenants: ['acme'], percent: 100 }],
      }),
      'admin:test',
    );
    const candidate = await w.invoke.invoke(call);
    expect(candidate).toMatchObject({ version: 'v2', variant: 'candidate', output: { total: 200, vendor: 'ACME' } });
    expect(w.writer.pendingRun(candidate.runId)).toMatchObject({
      rolloutId: rollout.id,
      stage: 0,
      assignmentKey: 'acme',
      variant: 'candidate',
    });
    // Outside the stage (another tenant, another environment): the current version.
    expect(await w.invoke.invoke({ ...call, tenant: 'globex' })).toMatchObject({ version: 'v1', variant: 'default' });
    expect(await w.invoke.invoke({ ...call, environment: 'staging' })).toMatchObject({ version: 'v1', variant: 'default' });
    // Paused: everyone on the current version at once.
    await w.rollouts.act(rollout.id, 'pause', 'admin:test');
    expect(await w.invoke.invoke(call)).toMatchObject({ version: 'v1', variant: 'default' });
  });

  it('answers a failed candidate call from the control with fallbackToControl, and keeps the error in the candidate arm', async () => {
    const w = await world();
    await w.rollouts.create(
      rolloutSpecSchema.parse({
        chain: CHAIN,
        control: 'v1',
        candidate: 'v2',
        fallbackToControl: true,
        stages: [{ environments: ['prod'], percent: 100, splitBy: 'unit' }],
      }),
      'admin:test',
    );
    w.chains.answer(CHAIN, 'v2', () => {
      throw new UpstreamError('failed', 'HTTP 500');
    });
    const result = await w.invoke.invoke({ ...call, unit: 'doc-7' });
    expect(result).toMatchObject({ version: 'v1', variant: 'candidate', output: { total: 100, vendor: 'ACME' } });
    expect(result.error).toBeUndefined();
    expect(w.chains.calls).toEqual([`${CHAIN}@v2`, `${CHAIN}@v1`]);
    expect(w.writer.pendingRun(result.runId)).toMatchObject({
      version: 'v2',
      variant: 'candidate',
      fallback: true,
      assignmentKey: 'acme/doc-7',
      output: { total: 100, vendor: 'ACME' },
      error: { code: 'upstream_failed', message: 'HTTP 500' },
    });
  });

  it('answers a retry with the same Idempotency-Key from the first call: one upstream call, one run', async () => {
    const w = await world();
    const first = await w.invoke.invoke({ ...call, idempotencyKey: 'k-1' });
    const again = await w.invoke.invoke({ ...call, idempotencyKey: 'k-1' });
    expect(again).toMatchObject({ runId: first.runId, output: first.output, replayed: true });
    expect(first.replayed).toBeUndefined();
    // The key is the tenant's: another tenant's same key is another call.
    const other = await w.invoke.invoke({ ...call, tenant: 'globex', idempotencyKey: 'k-1' });
    expect(other.runId).not.toBe(first.runId);
    expect(w.chains.calls).toHaveLength(2);
    expect(w.writer.backlog).toBe(2);
  });

  it('replays a stored run for a key the process does not remember, within 24 hours only', async () => {
    const w = await world();
    const stored = aRun({
      id: '00000000-0000-4000-8000-000000000001',
      chainId: CHAIN,
      tenantId: 'acme',
      version: 'v1',
      output: null,
      error: { code: 'upstream_timeout', message: 'slow' },
      latencyMs: 30_000,
      upstreamMs: 29_999,
      idempotencyKey: 'k-2',
      createdAt: new Date(w.now().getTime() - 60_000),
    });
    await w.runRepo.writeBatch(batchOf([stored]));
    const replay = await w.invoke.invoke({ ...call, idempotencyKey: 'k-2' });
    expect(replay).toMatchObject({ runId: stored.id, replayed: true, latencyMs: 30_000, upstreamMs: 29_999 });
    expect(replay.error).toMatchObject({ code: 'upstream_timeout', statusCode: 504, message: 'slow' });
    expect(w.chains.calls).toEqual([]);

    // A day after the replay (which the process now remembers too), both have expired.
    w.clock.now = new Date(w.clock.now.getTime() + 24 * 60 * 60 * 1000);
    const fresh = await w.invoke.invoke({ ...call, idempotencyKey: 'k-2' });
    expect(fresh.runId).not.toBe(stored.id);
    expect(w.chains.calls).toHaveLength(1);
  });

  it("redacts the stored input and output by the chain's redaction, not what the caller gets", async () => {
    const w = await world();
    await w.catalog.putChain(CHAIN, { redaction: { mode: 'patterns', patterns: ['email'] } });
    w.chains.answer(CHAIN, 'v1', () => ({ total: 100, contact: 'ap@acme.example' }));
    const result = await w.invoke.invoke({ ...call, input: { text: 'from ap@acme.example' } });
    expect(result.output).toEqual({ total: 100, contact: 'ap@acme.example' });
    const run = w.writer.pendingRun(result.runId)!;
    expect(JSON.stringify(run.input)).not.toContain('ap@acme.example');
    expect(JSON.stringify(run.output)).not.toContain('ap@acme.example');
    expect(run.outputHashes).toHaveProperty('contact');
  });

  it('refuses a call (503) before its upstream when no more runs can be kept, replays included', async () => {
    let full = false;
    const w = await world({
      journal: {
        appendRun: () => 1,
        appendFeedback: () => 1,
        committed: () => {},
        assertCapacity: () => {
          if (full) throw new UnavailableError('The run spool is full.', 'spool_full');
        },
      },
    });
    const first = await w.invoke.invoke({ ...call, idempotencyKey: 'k-3' });
    full = true;
    await expect(w.invoke.invoke(call)).rejects.toMatchObject({ statusCode: 503, code: 'spool_full' });
    await expect(w.invoke.invoke({ ...call, idempotencyKey: 'k-3' })).rejects.toBeInstanceOf(UnavailableError);
    expect(w.chains.calls).toHaveLength(1);
    full = false;
    expect((await w.invoke.invoke({ ...call, idempotencyKey: 'k-3' })).runId).toBe(first.runId);
  });

  it("checks a batch's chain and tenants before any call", async () => {
    const w = await world();
    expect(() => w.invoke.assertCallable(CHAIN, ['acme', 'globex'])).not.toThrow();
    expect(() => w.invoke.assertCallable(CHAIN, ['acme', 'nobody'])).toThrow(NotFoundError);
    expect(() => w.invoke.assertCallable('nothing', ['acme'])).toThrow(NotFoundError);
  });
});
