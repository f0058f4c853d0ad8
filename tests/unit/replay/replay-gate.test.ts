/**
 * The replay gate's rule on fakes of its ports (README "Datasets, replays and the gate"): a case
 * whose control call failed is left out, the candidate's failures count against it, the gate
 * decides on at least minCases compared cases and never passes on a replay that mostly failed.
 * Its advice names only what the API allows.
 */
import { describe, expect, it } from 'vitest';
import type { Replay, ScoredResult } from '../../../src/domain/model/replay.js';
import type { Rollout } from '../../../src/domain/model/rollout.js';
import type { RolloutSpecInput } from '../../../src/domain/model/rollout-spec.js';
import { gatedRollout } from '../../support/gated-rollout.js';
import type { PairedCounts } from '../../../src/domain/shadow/paired-interval.js';
import { GateService, type GateServiceDeps } from '../../../src/domain/services/gate-service.js';

const DATASET = '0b7f6c8e-7f38-4c5b-8f6b-3c2b1a0d9e8f';
const at = new Date('2026-01-01T00:00:00Z');

function rollout(gate: Record<string, unknown>, shadow = false): Rollout {
  return gatedRollout({
    stages: shadow ? [] : [{ environments: ['prod'], percent: 10 }],
    ...(shadow ? { shadow: { percent: 100 } } : {}),
    gate,
  } as Partial<RolloutSpecInput>);
}

type Outcome = 'ok' | 'overridden' | 'failed';
const scored = (outcomes: Outcome[]): ScoredResult[] =>
  outcomes.map((o, i) => ({
    caseId: `case-${i}`,
    repeat: 0,
    overridden: o === 'overridden',
    fields: o === 'overridden' ? ['total'] : [],
    latencyMs: 1,
    errored: o === 'failed',
  }));
const times = (n: number, o: Outcome): Outcome[] => Array<Outcome>(n).fill(o);

const replay = (id: string, version: string): Replay => ({
  id,
  datasetId: DATASET,
  chain: 'invoices',
  version,
  concurrency: 4,
  repeats: 1,
  status: 'done',
  total: 0,
  rolloutId: 'r-1',
  error: null,
  result: null,
  createdAt: at,
  startedAt: at,
  finishedAt: at,
});

function setup(control: Outcome[], candidate: Outcome[], shadowPairs?: PairedCounts) {
  const concluded: { outcome: string; figures: Record<string, unknown> }[] = [];
  const recorded: { type: string; reason?: string; data?: Record<string, unknown> }[] = [];
  const results: Record<string, ScoredResult[]> = { c: scored(control), k: scored(candidate) };
  const deps: GateServiceDeps = {
    datasets: {} as GateServiceDeps['datasets'],
    replays: {
      list: async () => [replay('c', 'v1'), replay('k', 'v2')],
      scored: async (id: string) => results[id]!,
    } as unknown as GateServiceDeps['replays'],
    replayService: { start: async () => Promise.reject(new Error('both replays exist')), cancel: async () => undefined as never },
    rollouts: {
      concludeGate: async (_id, outcome, figures) => {
        concluded.push({ outcome, figures });
        return undefined;
      },
      record: async (_r, type, _actor, reason, data) => {
        recorded.push({ type, reason, data });
      },
      events: async () => [],
      act: async () => Promise.reject(new Error('a gate before stage 0 never acts on the rollout')),
    },
    ...(shadowPairs ? { shadowPairs: async () => shadowPairs } : {}),
  };
  return { gates: new GateService(deps), concluded, recorded };
}

const gate = (maxIncrease: number) => ({ replay: { dataset: DATASET, maxIncrease } });

describe('the replay gate and failed calls', () => {
  it('does not pass when both versions fail every case (a shared outage): inconclusive, with what to do', async () => {
    const g = setup(times(60, 'failed'), times(60, 'failed'));
    await g.gates.check(rollout(gate(0.1)));
    expect(g.concluded).toEqual([]);
    expect(g.recorded.map((r) => r.type)).toEqual(['gate_inconclusive']);
    expect(g.recorded[0]!.data).toMatchObject({
      pairs: 0,
      bothOverridden: 0,
      errors: { control: 60, candidate: 60 },
      lowerBound: -1,
      upperBound: 1,
    });
    const reason = g.recorded[0]!.reason!;
    expect(reason).toMatch(/^Only 0 of 60 cases could be compared; the gate decides on at least minCases = 50\./);
    expect(reason).toContain("The control's call failed on 60 cases");
    expect(reason).toContain('POST /v1/rollouts/r-1/rollback');
    expect(reason).toContain('/v1/replays/c/cases');
    expect(reason).not.toMatch(/add cases/i);
  });

  it("a failed control call does not count in the candidate's favour", async () => {
    // The control failed every case: nothing to compare the candidate with.
    const down = setup(times(60, 'failed'), times(60, 'ok'));
    await down.gates.check(rollout(gate(0.1)));
    expect(down.concluded).toEqual([]);
    expect(down.recorded.map((r) => r.type)).toEqual(['gate_inconclusive']);
    // The control failed on 20 of 100 cases the candidate got right; on the other 80 the candidate breaks 8.
    // Scored as control overrides, those 20 would have passed the candidate (−12 points).
    const flaky = setup([...times(20, 'failed'), ...times(80, 'ok')], [...times(20, 'ok'), ...times(8, 'overridden'), ...times(72, 'ok')]);
    await flaky.gates.check(rollout(gate(0.05)));
    expect(flaky.concluded.map((c) => c.outcome)).not.toContain('passed');
    const figures = (flaky.concluded[0]?.figures ?? flaky.recorded[0]?.data)!;
    expect(figures).toMatchObject({
      pairs: 80,
      onlyControlOverridden: 0,
      onlyCandidateOverridden: 8,
      errors: { control: 20, candidate: 0 },
    });
  });

  it("the candidate's failures count against it: failing every case fails the gate", async () => {
    const g = setup(times(60, 'ok'), times(60, 'failed'));
    await g.gates.check(rollout(gate(0.1)));
    expect(g.concluded.map((c) => c.outcome)).toEqual(['failed']);
    expect(g.concluded[0]!.figures).toMatchObject({ pairs: 60, onlyCandidateOverridden: 60, errors: { control: 0, candidate: 60 } });
  });

  it('never passes on a replay whose calls mostly failed, even against a worse control', async () => {
    // The control is wrong on every case; the candidate fails 35 of 60 and is right on the rest:
    // scored as overrides its failures still leave it "better" (58% against 100%).
    const g = setup(times(60, 'overridden'), [...times(35, 'failed'), ...times(25, 'ok')]);
    await g.gates.check(rollout(gate(0.05)));
    expect(g.concluded).toEqual([]);
    expect(g.recorded.map((r) => r.type)).toEqual(['gate_inconclusive']);
    expect(g.recorded[0]!.reason).toMatch(/^The candidate replay failed on more than half of the 60 cases/);
    expect(g.recorded[0]!.data).toMatchObject({ errors: { candidate: 35 } });
    expect(g.recorded[0]!.data!.upperBound as number).toBeLessThan(0.05);
  });

  it('still passes a candidate as before when calls do not fail', async () => {
    const control = [...times(10, 'overridden'), ...times(50, 'ok')];
    const g = setup(control, times(60, 'ok'));
    await g.gates.check(rollout(gate(0.05)));
    expect(g.concluded.map((c) => c.outcome)).toEqual(['passed']);
    expect(g.concluded[0]!.figures).toMatchObject({ pairs: 60, onlyControlOverridden: 10, errors: { control: 0, candidate: 0 } });
  });
});

describe('an inconclusive replay gate', () => {
  it('advises only what the API allows: a larger dataset in a new rollout, or an override', async () => {
    // Control wrong on 10 of 60; the candidate on the same 10 and 2 more: +3.3 points, undecided at 0.03.
    const control = [...times(10, 'overridden'), ...times(50, 'ok')];
    const candidate = [...times(12, 'overridden'), ...times(48, 'ok')];
    const g = setup(control, candidate);
    await g.gates.check(rollout(gate(0.03)));
    expect(g.concluded).toEqual([]);
    const reason = g.recorded[0]!.reason!;
    expect(reason).toMatch(
      /^The one-sided bounds of candidate − control, -0\.\d{4} to \+0\.\d{4}, straddle maxIncrease 0\.03: these 60 cases cannot tell\./,
    );
    expect(reason).not.toMatch(/add cases/i);
    expect(reason).toContain('A replayed dataset takes no more cases');
    expect(reason).toContain(`GET /v1/datasets/${DATASET}/export`);
    expect(reason).toContain('POST /v1/rollouts/r-1/rollback');
    expect(reason).toContain('"override": true');
  });
});

describe('the gate view beside a shadow gate', () => {
  it('says "waiting" (for the shadow gate) once both replays are done, not "replaying"', async () => {
    const shadowStillCounting = { bothOk: 10, onlyControlOverridden: 0, onlyCandidateOverridden: 0, bothOverridden: 0 };
    const g = setup(times(60, 'ok'), times(60, 'ok'), shadowStillCounting);
    const r = rollout({ ...gate(0.05), shadow: { maxIncrease: 0.05, minPairs: 100 } }, true);
    await g.gates.check(r);
    expect(g.concluded).toEqual([]);
    const view = await g.gates.view(r);
    expect(view).toMatchObject({
      state: 'waiting',
      shadow: { state: 'waiting' },
      replays: { control: { status: 'done' }, candidate: { status: 'done' } },
    });
    expect(view!.figures).toMatchObject({ pairs: 60 });
  });
});
