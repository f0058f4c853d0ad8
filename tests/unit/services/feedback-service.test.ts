/** FeedbackService on in-memory ports: which fields changed, on queued and stored runs, who may review what. */
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../../src/domain/auth/principal.js';
import { ConflictError, ForbiddenError, NotFoundError, UpstreamError } from '../../../src/domain/model/errors.js';
import { FeedbackService } from '../../../src/domain/services/feedback-service.js';
import { CHAIN, world, type World } from '../../support/in-memory/world.js';

const admin: Principal = { kind: 'admin', keyName: 'ADMIN_TOKEN' };
const acme: Principal = { kind: 'tenant', tenantId: 'acme', keyId: 'k1', keyName: 'ci' };
const globex: Principal = { kind: 'tenant', tenantId: 'globex', keyId: 'k2', keyName: 'ci' };

async function invoked(w: World, extra: { tenant?: string; externalId?: string } = {}) {
  return w.invoke.invoke({
    chain: CHAIN,
    tenant: extra.tenant ?? 'acme',
    environment: 'prod',
    input: { doc: 1 },
    externalId: extra.externalId,
  });
}

describe('FeedbackService', () => {
  it('takes feedback on a run still queued for the database (read your writes), and queues it', async () => {
    const w = await world();
    const { runId } = await invoked(w);
    expect(w.runRepo.runs.size).toBe(0);
    const result = await w.feedback.byRunId(runId, { final: { total: 120, vendor: 'ACME' }, reviewer: 'ann' }, acme);
    expect(result).toEqual({ runId, overridden: true, fields: ['total'] });
    expect(w.writer.pendingFeedbackFor(runId)).toEqual({
      runId,
      overridden: true,
      fields: ['total'],
      reviewer: 'ann',
      at: w.now(),
      corrections: { total: 120 },
      tracked: ['total', 'vendor'],
      countedFields: ['total'],
    });
    expect(w.told.feedback.map((t) => [t.run.id, t.feedback.fields])).toEqual([[runId, ['total']]]);
    await w.writer.flush();
    expect(w.runRepo.feedback.get(runId)).toMatchObject({ overridden: true, fields: ['total'] });
  });

  it('takes feedback on a stored run; overrides [] means reviewed and unchanged; sending again replaces it', async () => {
    const w = await world();
    const { runId } = await invoked(w);
    await w.writer.flush();
    expect(await w.feedback.byRunId(runId, { overrides: [] }, admin)).toEqual({ runId, overridden: false, fields: [] });
    expect(await w.feedback.byRunId(runId, { overrides: [{ field: 'vendor', value: 'Acme GmbH' }] }, admin)).toEqual({
      runId,
      overridden: true,
      fields: ['vendor'],
    });
    // An override to the value the AI gave is no change.
    expect(await w.feedback.byRunId(runId, { overrides: [{ field: 'total', value: 100 }] }, admin)).toEqual({
      runId,
      overridden: false,
      fields: [],
    });
    await w.writer.flush();
    expect(w.runRepo.feedback.get(runId)).toMatchObject({ overridden: false, fields: [] });
  });

  it("reads another tenant's run as missing, queued or stored; an admin reviews any run", async () => {
    const w = await world();
    const queued = await invoked(w);
    await expect(w.feedback.byRunId(queued.runId, { overrides: [] }, globex)).rejects.toBeInstanceOf(NotFoundError);
    await w.writer.flush();
    await expect(w.feedback.byRunId(queued.runId, { overrides: [] }, globex)).rejects.toBeInstanceOf(NotFoundError);
    await expect(w.feedback.byRunId('00000000-0000-4000-8000-00000000dead', { overrides: [] }, admin)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(w.feedback.byRunId(queued.runId, { overrides: [] }, admin)).resolves.toMatchObject({ overridden: false });
  });

  it('takes feedback on a run whose chain answered JSON null: an answer, one field "$"', async () => {
    const w = await world();
    w.chains.answer(CHAIN, 'v1', () => null);
    const { runId } = await invoked(w);
    await w.writer.flush();
    expect(await w.feedback.byRunId(runId, { final: { total: 1 } }, admin)).toEqual({ runId, overridden: true, fields: ['$'] });
  });

  it('refuses feedback on a run whose call failed (409 run_errored)', async () => {
    const w = await world();
    w.chains.answer(CHAIN, 'v1', () => {
      throw new UpstreamError('failed', 'HTTP 500');
    });
    const { runId } = await invoked(w);
    const err = await w.feedback.byRunId(runId, { final: { total: 1 } }, admin).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 'run_errored', statusCode: 409 });
    expect(w.writer.pendingFeedbackFor(runId)).toBeUndefined();
  });

  it("finds the latest run by external id, queued or stored, within the caller's tenant", async () => {
    const w = await world();
    const older = await invoked(w, { externalId: 'INV-9' });
    await w.writer.flush();
    w.clock.now = new Date(w.clock.now.getTime() + 1000);
    const newer = await invoked(w, { externalId: 'INV-9' });
    expect((await w.feedback.byExternalId(CHAIN, 'INV-9', undefined, { overrides: [] }, acme)).runId).toBe(newer.runId);
    await w.writer.flush();
    expect((await w.feedback.byExternalId(CHAIN, 'INV-9', 'acme', { overrides: [] }, admin)).runId).toBe(newer.runId);
    expect(older.runId).not.toBe(newer.runId);
    // A tenant key names no other tenant, and finds no other tenant's runs.
    await expect(w.feedback.byExternalId(CHAIN, 'INV-9', 'acme', { overrides: [] }, globex)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(w.feedback.byExternalId(CHAIN, 'INV-9', undefined, { overrides: [] }, globex)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("never takes another tenant's queued run with the same external id for the caller's (issue 19 item 3)", async () => {
    const w = await world();
    const first = await invoked(w, { externalId: 'X' });
    await w.writer.flush();
    const second = await invoked(w, { externalId: 'X' });
    const theirs = await invoked(w, { tenant: 'globex', externalId: 'X' });
    // acme's second run and globex's run are queued, acme's first is stored.
    expect((await w.feedback.byExternalId(CHAIN, 'X', undefined, { overrides: [] }, acme)).runId).toBe(second.runId);
    expect((await w.feedback.byExternalId(CHAIN, 'X', 'acme', { overrides: [] }, admin)).runId).toBe(second.runId);
    expect((await w.feedback.byExternalId(CHAIN, 'X', undefined, { overrides: [] }, globex)).runId).toBe(theirs.runId);
    // An admin naming no tenant gets the latest run of any tenant.
    expect((await w.feedback.byExternalId(CHAIN, 'X', undefined, { overrides: [] }, admin)).runId).toBe(theirs.runId);
    expect(first.runId).not.toBe(second.runId);
  });

  it('waits up to waitMs for a recent run another replica answered, and not for an id that names no run', async () => {
    const w = await world();
    const { runId } = await invoked(w);
    await w.writer.flush();
    const stored = w.runRepo.runs.get(runId)!;
    w.runRepo.runs.delete(runId);
    let pauses = 0;
    const waiting = new FeedbackService({
      runs: w.runs,
      writer: w.writer,
      redactor: w.redactor,
      events: w.bus,
      now: w.now,
      waitMs: 60_000,
      // The other replica's batch lands after the second pause.
      sleep: async () => {
        if (++pauses === 2) w.runRepo.runs.set(runId, stored);
      },
    });
    expect((await waiting.byRunId(runId, { overrides: [] }, acme)).runId).toBe(runId);
    expect(pauses).toBe(2);
    // A v4 UUID (or any id whose time is not recent) names no run on its way: 404 without a pause.
    pauses = 10;
    await expect(waiting.byRunId('6f1c1e0e-3c4b-4f6a-9a53-0c4c1d2e3f40', { overrides: [] }, acme)).rejects.toBeInstanceOf(NotFoundError);
    expect(pauses).toBe(10);
  });

  it('diffs a redacted field against the hash of what the AI said', async () => {
    const w = await world();
    await w.catalog.putChain(CHAIN, { redaction: { mode: 'patterns', patterns: ['email'] } });
    w.chains.answer(CHAIN, 'v1', () => ({ total: 100, contact: 'ap@acme.example' }));
    const { runId } = await invoked(w);
    await w.writer.flush();
    expect(await w.feedback.byRunId(runId, { final: { total: 100, contact: 'ap@acme.example' } }, admin)).toMatchObject({
      overridden: false,
    });
    expect(await w.feedback.byRunId(runId, { final: { total: 100, contact: 'billing@acme.example' } }, admin)).toMatchObject({
      overridden: true,
      fields: ['contact'],
    });
  });
});
