/**
 * feedback → guardrail → rollback in process, on in-memory ports: feedback on a rollout's run, once
 * its batch is committed, makes the guardrail job look at that rollout at once, and a breach rolls
 * it back (flag, routing, audit log) without waiting for the job's period.
 */
import { describe, expect, it } from 'vitest';
import { emptyCounts } from '../../../src/domain/comparison/counts.js';
import { rolloutSpecSchema } from '../../../src/domain/model/rollout-spec.js';
import { ComparisonService } from '../../../src/domain/services/comparison-service.js';
import { GuardrailJob } from '../../../src/runtime/guardrail-job.js';
import { subscribeGuardrailTriggers } from '../../../src/runtime/guardrail-triggers.js';
import { CannedComparisonReadModel } from '../../support/in-memory/comparison-read-model.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

const admin = { kind: 'admin', keyName: 'test' } as const;

async function setup() {
  const w = await world();
  const rollout = await w.rollouts.create(
    rolloutSpecSchema.parse({
      chain: CHAIN,
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
    }),
    'admin:test',
  );
  const readModel = new CannedComparisonReadModel();
  const comparison = new ComparisonService({
    rollouts: w.rollouts,
    readModel,
    requireEnvironment: (chain, environment, field) => w.catalog.requireEnvironmentOf(chain, environment, field),
    now: w.now,
  });
  const poked: string[] = [];
  const job = new GuardrailJob({
    rollouts: w.rollouts,
    active: w.active,
    evaluate: (r) => comparison.evaluateGuardrails(r),
    events: w.bus,
    lease: { acquire: async () => true },
    log: w.log,
    now: w.now,
    intervalMs: 60 * 60 * 1000, // never within a test: only the triggers act
    debounceMs: 0,
  });
  subscribeGuardrailTriggers(w.bus, { poke: (chainId, rolloutId) => (poked.push(rolloutId), job.poke(chainId, rolloutId)) });
  const rolledBack = new Promise<void>((resolve) => w.bus.on('RolloutChanged', (e) => e.type === 'rolled_back' && resolve()));
  /** A unit the flag sends to the candidate (the split is by unit, sticky). */
  const candidateUnit = () => {
    for (let i = 0; i < 100; i++)
      if (w.flags.evaluate(rollout.flag, { tenant: 'acme', environment: 'prod', unitKey: `acme/doc-${i}` }) === 'candidate')
        return `doc-${i}`;
    throw new Error('no unit of 100 got the candidate');
  };
  return { w, rollout, readModel, job, poked, rolledBack, candidateUnit };
}

describe('guardrail triggers', () => {
  it('rolls a breaching candidate back as soon as feedback on one of its runs is committed', async () => {
    const { w, rollout, readModel, job, poked, rolledBack, candidateUnit } = await setup();
    // What the rollups hold once this feedback is in: the candidate overridden far more often.
    readModel.cells = [
      { ...emptyCounts(), runs: 1000, reviewed: 1000, overridden: 50, stage: 0, arm: 'control', tenantId: 'globex', environment: 'prod' },
      { ...emptyCounts(), runs: 1000, reviewed: 1000, overridden: 400, stage: 0, arm: 'candidate', tenantId: 'acme', environment: 'prod' },
    ];
    const { runId, variant } = await w.invoke.invoke({
      chain: CHAIN,
      tenant: 'acme',
      environment: 'prod',
      input: {},
      unit: candidateUnit(),
    });
    expect(variant).toBe('candidate');
    await w.writer.flush();
    expect(poked).toEqual([]); // a committed candidate run that did not fail is no trigger

    await w.feedback.byRunId(runId, { final: { total: 1 } }, admin);
    expect(poked).toEqual([]); // queued, not yet committed: the aggregates do not have it
    await w.writer.flush();
    expect(poked).toEqual([rollout.id]);
    await rolledBack;
    await job.stop();
    expect(w.active.hasActive(CHAIN)).toBe(false);
    expect(w.flags.flags.get(rollout.flag)?.enabled).toBe(false);
    expect((await w.rollouts.events(rollout.id)).map((e) => [e.type, e.actor]).slice(-2)).toEqual([
      ['guardrail_breached', 'guardrail'],
      ['rolled_back', 'guardrail'],
    ]);
  });

  it('pokes on a committed candidate error, not on errors of traffic outside the rollout', async () => {
    const { w, rollout, poked, job, candidateUnit } = await setup();
    w.chains.answer(CHAIN, 'v1', () => {
      throw new Error('control down');
    });
    await w.invoke.invoke({ chain: CHAIN, tenant: 'globex', environment: 'staging', input: {} }); // default traffic
    await w.writer.flush();
    expect(poked).toEqual([]);
    w.chains.answer(CHAIN, 'v2', () => {
      throw new Error('candidate down');
    });
    const { variant } = await w.invoke.invoke({ chain: CHAIN, tenant: 'acme', environment: 'prod', input: {}, unit: candidateUnit() });
    expect(variant).toBe('candidate');
    await w.writer.flush();
    expect(poked).toEqual([rollout.id]);
    await job.stop();
  });

  it('does not poke for feedback on runs of no rollout', async () => {
    const { w, poked, job } = await setup();
    const { runId } = await w.invoke.invoke({ chain: CHAIN, tenant: 'globex', environment: 'staging', input: {} });
    await w.feedback.byRunId(runId, { overrides: [] }, admin);
    await w.writer.flush();
    expect(poked).toEqual([]);
    await job.stop();
  });
});
