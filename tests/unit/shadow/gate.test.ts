/**
 * The shadow gate inside GateService (pure decisions on fakes of its ports): a shadow gate alone,
 * and beside a replay gate, where both must pass and either failing fails the rollout.
 */
import { describe, expect, it } from 'vitest';
import type { Replay } from '../../../src/domain/model/replay.js';
import type { Rollout } from '../../../src/domain/model/rollout.js';
import { rolloutSpecSchema, type RolloutSpecInput } from '../../../src/domain/model/rollout-spec.js';
import { gatedRollout } from '../../support/gated-rollout.js';
import type { PairedCounts } from '../../../src/domain/shadow/paired-interval.js';
import { GateService, type GateServiceDeps } from '../../../src/domain/services/gate-service.js';

const DATASET = '0b7f6c8e-7f38-4c5b-8f6b-3c2b1a0d9e8f';

function rollout(gate: Record<string, unknown>): Rollout {
  return gatedRollout({ stages: [], shadow: { percent: 100 }, gate } as Partial<RolloutSpecInput>);
}

function setup(pairs: PairedCounts, replays: Partial<Replay>[] | 'gone' = []) {
  const concluded: { outcome: string; figures: Record<string, unknown> }[] = [];
  const recorded: { type: string; reason?: string }[] = [];
  const deps: GateServiceDeps = {
    datasets: {} as GateServiceDeps['datasets'],
    replays: { list: async () => (replays === 'gone' ? [] : (replays as Replay[])) } as unknown as GateServiceDeps['replays'],
    replayService: {
      start: async () => Promise.reject(Object.assign(new Error('dataset gone'), { statusCode: 404 })),
      cancel: async () => undefined as never,
    },
    rollouts: {
      concludeGate: async (_id, outcome, figures) => {
        concluded.push({ outcome, figures });
        return undefined;
      },
      record: async (_r, type, _actor, reason) => {
        recorded.push({ type, reason });
      },
      events: async () => [],
      act: async () => Promise.reject(new Error('a gate before stage 0 never acts on the rollout')),
    },
    shadowPairs: async () => pairs,
  };
  return { gates: new GateService(deps), concluded, recorded };
}

const table = (bothOk: number, onlyControl: number, onlyCandidate: number, both = 0): PairedCounts => ({
  bothOk,
  onlyControlOverridden: onlyControl,
  onlyCandidateOverridden: onlyCandidate,
  bothOverridden: both,
});

describe('the shadow gate', () => {
  it('waits for minPairs, then passes on the upper bound or fails on the lower one', async () => {
    const waiting = setup(table(40, 0, 0));
    await waiting.gates.check(rollout({ shadow: { maxIncrease: 0.1, minPairs: 50 } }));
    expect(waiting.concluded).toEqual([]);

    const pass = setup(table(150, 0, 0));
    await pass.gates.check(rollout({ shadow: { maxIncrease: 0.1, minPairs: 50 } }));
    expect(pass.concluded.map((c) => c.outcome)).toEqual(['passed']);
    expect(pass.concluded[0]!.figures.shadow).toMatchObject({ pairs: 150, maxIncrease: 0.1, minPairs: 50, alpha: 0.05 });

    const fail = setup(table(96, 4, 20));
    await fail.gates.check(rollout({ shadow: { maxIncrease: 0.02, minPairs: 50 } }));
    expect(fail.concluded.map((c) => c.outcome)).toEqual(['failed']);
    expect((fail.concluded[0]!.figures.shadow as { lowerBound: number }).lowerBound).toBeGreaterThan(0.02);

    const view = await fail.gates.view(rollout({ shadow: { maxIncrease: 0.02, minPairs: 50 } }));
    expect(view).toMatchObject({ state: 'waiting', shadow: { state: 'failed', gate: { maxIncrease: 0.02, minPairs: 50 } } });
  });

  it('beside a replay gate: either failing fails, both must pass, an undecidable replay waits for the shadow', async () => {
    const both = { replay: { dataset: DATASET, maxIncrease: 0.05 }, shadow: { maxIncrease: 0.02, minPairs: 50 } };
    const replaying: Partial<Replay>[] = [
      { version: 'v1', status: 'running', id: 'a' },
      { version: 'v2', status: 'queued', id: 'b' },
    ];
    // The replays are still running, the shadow pairs already show a worse candidate: it fails now.
    const failNow = setup(table(96, 4, 20), replaying);
    await failNow.gates.check(rollout(both));
    expect(failNow.concluded.map((c) => c.outcome)).toEqual(['failed']);
    // A passing shadow does not start stage 0 while the replay gate has not passed.
    const shadowPassed = setup(table(300, 0, 0), replaying);
    await shadowPassed.gates.check(rollout(both));
    expect(shadowPassed.concluded).toEqual([]);
    // The replay cannot run (its dataset is gone): undecidable, reported only once the shadow has decided too.
    const stillCounting = setup(table(40, 0, 0), 'gone');
    await stillCounting.gates.check(rollout(both));
    expect(stillCounting.recorded).toEqual([]);
    const shadowDecided = setup(table(300, 0, 0), 'gone');
    await shadowDecided.gates.check(rollout(both));
    expect(shadowDecided.concluded).toEqual([]);
    expect(shadowDecided.recorded.map((r) => r.type)).toEqual(['gate_inconclusive']);
  });

  it('is refused without `shadow`', () => {
    const r = rolloutSpecSchema.safeParse({
      chain: 'c',
      control: 'v1',
      candidate: 'v2',
      stages: [{ environments: ['prod'], percent: 10 }],
      gate: { shadow: { maxIncrease: 0.05 } },
    });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('a shadow gate needs');
  });
});
