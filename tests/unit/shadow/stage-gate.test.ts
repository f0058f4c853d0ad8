/**
 * The shadow gate of every stage (`gate.shadow.everyStage`, README "Shadow runs") on in-memory
 * ports: the real RolloutService and GuardrailJob, GateService fed a scripted table of scored
 * pairs per stage (keyed by when the stage started, as the shadow store filters them). A stage
 * waits for its own pairs; a pass is recorded once and lets auto-advance and a manual advance
 * through; a fail rolls the rollout back; an override advances without it, audited.
 */
import { describe, expect, it } from 'vitest';
import { rolloutSpecSchema } from '../../../src/domain/model/rollout-spec.js';
import type { PairedCounts } from '../../../src/domain/shadow/paired-interval.js';
import { GateService, type GateServiceDeps } from '../../../src/domain/services/gate-service.js';
import { GuardrailJob } from '../../../src/runtime/guardrail-job.js';
import { holding } from '../../support/guardrail-findings.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

const table = (bothOk: number, onlyControl: number, onlyCandidate: number, both = 0): PairedCounts => ({
  bothOk,
  onlyControlOverridden: onlyControl,
  onlyCandidateOverridden: onlyCandidate,
  bothOverridden: both,
});
const CLEAN = table(600, 0, 0);
const FEW = table(40, 0, 0);
/** About 13 points more overrides for the candidate: its lower bound is above 0.02. */
const WORSE = table(96, 4, 20);

async function setup(shadowGate: Record<string, unknown> = { maxIncrease: 0.02, minPairs: 50, everyStage: true }) {
  const w = await world();
  /** The scored pairs before stage 0 (all of them), and per stage by its start time. */
  const pairs = { all: CLEAN, byStageStart: new Map<number, PairedCounts>() };
  const asked: (Date | undefined)[] = [];
  const deps: GateServiceDeps = {
    datasets: {} as GateServiceDeps['datasets'],
    replays: { list: async () => [] } as unknown as GateServiceDeps['replays'],
    replayService: { start: async () => Promise.reject(new Error('no replay gate here')), cancel: async () => undefined as never },
    rollouts: w.rollouts,
    shadowPairs: async (_id, servedSince) => {
      asked.push(servedSince);
      return servedSince === undefined ? pairs.all : (pairs.byStageStart.get(servedSince.getTime()) ?? table(0, 0, 0));
    },
  };
  const gates = new GateService(deps);
  const guardrails = new GuardrailJob({
    rollouts: w.rollouts,
    active: w.active,
    evaluate: async () => ({
      guardrails: [holding],
      samples: { control: 900, candidate: 300 },
      dataQuality: { srm: false, reviewRateImbalance: false },
    }),
    events: w.bus,
    lease: { acquire: async () => true },
    log: w.log,
    now: w.now,
    intervalMs: 60 * 60 * 1000,
  });
  const created = await w.rollouts.create(
    rolloutSpecSchema.parse({
      chain: CHAIN,
      control: 'v1',
      candidate: 'v2',
      stages: [
        { environments: ['prod'], percent: 10, splitBy: 'unit' },
        { environments: ['prod'], percent: 50, splitBy: 'unit' },
        { environments: ['prod'], percent: 100 },
      ],
      guardrails: [{ metric: 'override_rate', maxIncrease: 0.05, minSamples: 100 }],
      autoAdvance: { minSamples: 200, minDurationMinutes: 0 },
      shadow: { percent: 100 },
      gate: { shadow: shadowGate },
    }),
    'admin:test',
  );
  const id = created.id;
  const get = () => w.rollouts.get(id);
  const types = async () => (await w.rollouts.events(id)).map((e) => e.type);
  /** The pairs the rollout's current stage has scored. */
  const stagePairs = async (t: PairedCounts) => pairs.byStageStart.set((await get()).stageStartedAt.getTime(), t);
  const later = () => (w.clock.now = new Date(w.clock.now.getTime() + 60_000));
  // The gate before stage 0 passes on the pairs scored while gated: stage 0 starts.
  later();
  await gates.check(await get());
  expect(await get()).toMatchObject({ status: 'running', stage: 0, stageStartedAt: w.now() });
  return { w, id, gates, guardrails, pairs, asked, get, types, stagePairs, later };
}

describe('the shadow gate of every stage', () => {
  it('defaults to off: a stage advances without its own shadow pairs', async () => {
    const { w, id, gates, get, asked } = await setup({ maxIncrease: 0.02, minPairs: 50 });
    expect((await get()).spec.gate?.shadow?.everyStage).toBe(false);
    await gates.check(await get());
    expect(asked.every((a) => a === undefined)).toBe(true);
    expect((await w.rollouts.act(id, 'advance', 'admin:test')).rollout.stage).toBe(1);
    expect((await gates.view(await get()))?.shadowStage).toBeUndefined();
  });

  it("waits for the stage's own pairs: auto-advance holds, a manual advance is 409", async () => {
    const { w, id, gates, guardrails, get, types, stagePairs, asked } = await setup();
    // The pairs scored while gated do not count for stage 0: it has none yet, then too few.
    await gates.check(await get());
    expect(asked.at(-1)).toEqual((await get()).stageStartedAt);
    await stagePairs(FEW);
    await gates.check(await get());
    await guardrails.check(await get());
    expect(await get()).toMatchObject({ status: 'running', stage: 0 });
    expect(await types()).toEqual(['created', 'gate_passed']);

    const err = await w.rollouts.act(id, 'advance', 'admin:test', 'looks fine').catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 409, code: 'shadow_gate_pending', details: { stage: 0 } });
    expect((err as Error).message).toContain('shadow gate of stage 0');

    const view = await gates.view(await get());
    expect(view).toMatchObject({
      state: 'passed',
      shadow: { state: 'passed' },
      shadowStage: { stage: 0, state: 'waiting', servedSince: (await get()).stageStartedAt.toISOString(), figures: { pairs: 40 } },
    });
  });

  it('records a pass once per stage; then auto-advance moves on, and the next stage waits for its own pairs', async () => {
    const { w, id, gates, guardrails, get, types, stagePairs, later } = await setup();
    await stagePairs(CLEAN);
    await gates.check(await get());
    await gates.check(await get()); // again, as another replica or the next period would
    const events = await w.rollouts.events(id);
    const passes = events.filter((e) => e.type === 'gate_passed' && e.data?.stage === 0);
    expect(passes).toHaveLength(1);
    expect(passes[0]).toMatchObject({ actor: 'gate', data: { stage: 0, shadow: { pairs: 600, maxIncrease: 0.02, minPairs: 50 } } });
    expect(passes[0]!.reason).toContain('stage 0 passed');
    expect((await gates.view(await get()))?.shadowStage).toMatchObject({ stage: 0, state: 'passed', figures: { pairs: 600 } });

    later();
    await guardrails.check(await get());
    expect(await get()).toMatchObject({ status: 'running', stage: 1, stageStartedAt: w.now() });
    expect((await w.rollouts.events(id)).at(-1)).toMatchObject({ type: 'advanced', actor: 'auto-advance' });

    // Stage 1 has no pairs of its own yet (stage 0's do not count): it holds again.
    await gates.check(await get());
    await guardrails.check(await get());
    expect((await get()).stage).toBe(1);
    expect((await gates.view(await get()))?.shadowStage).toMatchObject({ stage: 1, state: 'waiting', figures: { pairs: 0 } });
    await expect(w.rollouts.act(id, 'advance', 'admin:test')).rejects.toMatchObject({ code: 'shadow_gate_pending' });
    // Its own pairs pass: a person may advance it now.
    await stagePairs(CLEAN);
    await gates.check(await get());
    expect((await w.rollouts.act(id, 'advance', 'admin:test', 'stage 1 passed')).rollout.stage).toBe(2);
    expect((await types()).filter((t) => t === 'gate_passed')).toHaveLength(3);
  });

  it('rolls the rollout back when the stage shows a worse candidate, once', async () => {
    const { w, id, gates, guardrails, get, types, stagePairs } = await setup();
    await stagePairs(WORSE);
    await gates.check(await get());
    expect(await get()).toMatchObject({ status: 'rolled_back', stage: 0 });
    expect(w.flags.flags.get((await get()).flag)?.enabled).toBe(false);
    const events = await w.rollouts.events(id);
    expect(events.map((e) => e.type)).toEqual(['created', 'gate_passed', 'gate_failed', 'rolled_back']);
    const failed = events[2]!;
    expect(failed).toMatchObject({ actor: 'gate', data: { stage: 0, shadow: { pairs: 120, maxIncrease: 0.02 } } });
    expect((failed.data!.shadow as { lowerBound: number }).lowerBound).toBeGreaterThan(0.02);
    expect(failed.reason).toMatch(
      /^The shadow gate of stage 0 failed: candidate − control \+0\.1333 .* on 120 shadow pairs, maxIncrease 0\.02/,
    );
    expect(events[3]).toMatchObject({ actor: 'gate', reason: failed.reason, data: { stage: 0 } });

    // Checked again (another replica, the next period): nothing more happens.
    await gates.check(await get());
    await guardrails.check(await get());
    expect(await types()).toEqual(['created', 'gate_passed', 'gate_failed', 'rolled_back']);
    // The gate before stage 0 passed; the stage's gate failed.
    expect(await gates.view(await get())).toMatchObject({ state: 'passed', shadowStage: { stage: 0, state: 'failed' } });
  });

  it('lets a person advance without the stage gate with {"override": true, "reason"}, audited', async () => {
    const { w, id, gates, get, stagePairs } = await setup();
    await stagePairs(FEW);
    const { rollout } = await w.rollouts.act(id, 'advance', 'admin:ops', 'the reviewers are on holiday', { override: true });
    expect(rollout).toMatchObject({ status: 'running', stage: 1 });
    expect((await w.rollouts.events(id)).at(-1)).toMatchObject({
      type: 'advanced',
      actor: 'admin:ops',
      reason: 'the reviewers are on holiday',
      data: { override: true, before: { status: 'running', stage: 0 }, after: { status: 'running', stage: 1 } },
    });
    // Overriding a stage's gate is not overriding the gate before stage 0.
    expect(await gates.view(await get())).toMatchObject({ state: 'passed', shadowStage: { stage: 1, state: 'waiting' } });
  });
});
