/**
 * The guardrail job's auto-advance and unevaluable rules on in-memory ports: advance only on
 * positive evidence (every check holding with its upper bound below the threshold, each arm with
 * minSamples, no SRM or review-rate imbalance); an unevaluable check is reported once and pauses
 * the rollout when it says `onUnevaluable: "pause"`.
 */
import { describe, expect, it } from 'vitest';
import { rolloutSpecSchema, type RolloutSpecInput } from '../../../src/domain/model/rollout-spec.js';
import { GuardrailJob, type GuardrailEvaluation, type GuardrailFinding } from '../../../src/runtime/guardrail-job.js';
import { holding } from '../../support/guardrail-findings.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

async function setup(spec: Partial<RolloutSpecInput>, evaluation: () => GuardrailEvaluation) {
  const w = await world();
  const rollout = await w.rollouts.create(
    rolloutSpecSchema.parse({
      chain: CHAIN,
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['prod'], percent: 10, splitBy: 'unit' },
        { environments: ['prod'], percent: 50, splitBy: 'unit' },
      ],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
      ...spec,
    }),
    'admin:test',
  );
  const jobDeps = {
    rollouts: w.rollouts,
    active: w.active,
    evaluate: async () => evaluation(),
    events: w.bus,
    lease: { acquire: async () => true },
    log: w.log,
    now: w.now,
    intervalMs: 60 * 60 * 1000,
  };
  const job = new GuardrailJob(jobDeps);
  const check = async () => job.check(await w.rollouts.get(rollout.id));
  /** The same check by a job of another process: a restarted replica, or one that took the lease over. */
  const checkElsewhere = async () => new GuardrailJob(jobDeps).check(await w.rollouts.get(rollout.id));
  const state = async () => {
    const r = await w.rollouts.get(rollout.id);
    return { status: r.status, stage: r.stage, events: (await w.rollouts.events(rollout.id)).map((e) => e.type) };
  };
  return { w, rollout, check, checkElsewhere, state };
}

const autoAdvance = { autoAdvance: { minSamples: 200, minDurationMinutes: 0 } };
const samples = { control: 900, candidate: 300 };

describe('guardrail job: auto-advance', () => {
  it('advances on positive evidence only', async () => {
    const { check, state } = await setup(autoAdvance, () => ({
      guardrails: [holding],
      samples,
      dataQuality: { srm: false, reviewRateImbalance: false },
    }));
    await check();
    expect(await state()).toMatchObject({ status: 'running', stage: 1 });
  });

  it('does not advance with an SRM or a review-rate imbalance, an upper bound at the threshold, or too few samples', async () => {
    const cases: GuardrailEvaluation[] = [
      { guardrails: [holding], samples, dataQuality: { srm: true, reviewRateImbalance: false } },
      { guardrails: [holding], samples, dataQuality: { srm: false, reviewRateImbalance: true } },
      { guardrails: [{ ...holding, upperBound: 0.06 }], samples },
      { guardrails: [holding], samples: { control: 900, candidate: 150 } },
      { guardrails: [{ ...holding, status: 'waiting' }], samples },
    ];
    for (const evaluation of cases) {
      const { check, state } = await setup(autoAdvance, () => evaluation);
      await check();
      expect(await state(), JSON.stringify(evaluation)).toMatchObject({ status: 'running', stage: 0 });
    }
  });
});

describe('guardrail job: unevaluable guardrails', () => {
  const unevaluable: GuardrailFinding = { ...holding, bound: null, upperBound: null, samples: 0, status: 'unevaluable' };

  it('warns by default: one guardrail_unevaluable event per check and stage, the rollout keeps running', async () => {
    const { check, state } = await setup({}, () => ({ guardrails: [unevaluable], samples }));
    await check();
    await check();
    expect(await state()).toMatchObject({ status: 'running', events: ['created', 'guardrail_unevaluable'] });
  });

  it('pauses with onUnevaluable "pause"', async () => {
    const { w, check, state } = await setup({ onUnevaluable: 'pause' }, () => ({ guardrails: [unevaluable], samples }));
    const notified: string[] = [];
    w.bus.on('RolloutChanged', (e) => notified.push(e.type));
    await check();
    expect(await state()).toMatchObject({ status: 'paused', events: ['created', 'guardrail_unevaluable', 'paused'] });
    expect(notified).toEqual(['guardrail_unevaluable', 'paused']);
  });

  it("an admin's resume holds in another process (read from the audit log), until the next stage", async () => {
    const { w, rollout, check, checkElsewhere, state } = await setup({ onUnevaluable: 'pause' }, () => ({
      guardrails: [unevaluable],
      samples,
    }));
    await check();
    w.clock.now = new Date(w.clock.now.getTime() + 60_000);
    await w.rollouts.act(rollout.id, 'resume', 'admin:test', 'seen it');
    await checkElsewhere();
    await check();
    expect(await state()).toMatchObject({ status: 'running', events: ['created', 'guardrail_unevaluable', 'paused', 'resumed'] });

    w.clock.now = new Date(w.clock.now.getTime() + 60_000);
    await w.rollouts.act(rollout.id, 'advance', 'admin:test', 'next');
    await checkElsewhere();
    expect(await state()).toMatchObject({ status: 'paused', stage: 1 });
    expect((await state()).events.filter((e) => e === 'guardrail_unevaluable')).toHaveLength(2);
  });

  it('warns once per stage across processes too', async () => {
    const { check, checkElsewhere, state } = await setup({}, () => ({ guardrails: [unevaluable], samples }));
    await check();
    await checkElsewhere();
    await checkElsewhere();
    expect(await state()).toMatchObject({ status: 'running', events: ['created', 'guardrail_unevaluable'] });
  });
});
