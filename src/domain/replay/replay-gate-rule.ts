/**
 * What a replay gate decides on its figures (README "Datasets, replays and the gate"), and the
 * reason it gives when it cannot decide. The figures come from the paired comparison with the
 * candidate's failed calls counted as overridden and the cases whose control call failed left
 * out (paired-comparison.ts, 'againstB'), so that a shared outage adds no agreeing pairs.
 *
 * In order:
 * 1. Fewer than `minCases` cases compared: inconclusive. Two replays that fail every case compare
 *    none, so they cannot pass on a tight interval around 0.
 * 2. The lower bound above `maxIncrease`: failed (the candidate's failures are evidence against it).
 * 3. Either replay failed on more than half of the cases: inconclusive, never passed. What is left
 *    was measured during an outage (or with an open circuit breaker), on the cases that happened
 *    to get through: not the dataset the gate was given.
 * 4. The upper bound at most `maxIncrease`: passed; otherwise inconclusive (the interval straddles it).
 *
 * A gate replays each version once and a replayed dataset takes no more cases, so the advice names
 * what the API allows: a new rollout (after rolling this one back) on a larger or fresh replay, or
 * an audited override.
 */
import type { GateFigures, ReplayGate } from '../model/gate.js';

/** A replay whose calls failed on more than this share of the cases does not pass a gate. */
export const MOSTLY_FAILED_SHARE = 0.5;

export type ReplayGateDecision = { outcome: 'passed' | 'failed' } | { outcome: 'inconclusive'; reason: string };

export function replayGateDecision(f: GateFigures, gate: ReplayGate, rollout: { id: string }): ReplayGateDecision {
  // Every case both replays answered or failed: the pairs, and those left out because the control failed.
  const cases = f.pairs + f.errors.control;
  const failures = failureSentence(f);
  if (f.pairs < gate.minCases) {
    const why = f.errors.control > 0 ? `${failures} ${tryAgain(f, rollout)}` : largerDataset(gate, rollout);
    return {
      outcome: 'inconclusive',
      reason: `Only ${f.pairs} of ${cases} cases could be compared; the gate decides on at least minCases = ${gate.minCases}. ${why}`,
    };
  }
  if (f.lowerBound > gate.maxIncrease) return { outcome: 'failed' };
  const mostlyFailed = (['control', 'candidate'] as const).filter((side) => f.errors[side] > MOSTLY_FAILED_SHARE * cases);
  if (mostlyFailed.length > 0) {
    return {
      outcome: 'inconclusive',
      reason: `The ${mostlyFailed.join(' and the ')} replay failed on more than half of the ${cases} cases: a gate does not pass on a replay whose calls mostly failed. ${failures} ${tryAgain(f, rollout)}`,
    };
  }
  if (f.upperBound <= gate.maxIncrease) return { outcome: 'passed' };
  return {
    outcome: 'inconclusive',
    reason: `The one-sided bounds of candidate − control, ${signed(f.lowerBound)} to ${signed(f.upperBound)}, straddle maxIncrease ${gate.maxIncrease}: these ${f.pairs} cases cannot tell. ${largerDataset(gate, rollout)}`,
  };
}

function failureSentence(f: GateFigures): string {
  if (f.errors.control === 0 && f.errors.candidate === 0) return '';
  return `The control's call failed on ${f.errors.control} cases (left out: without the control's output a case says nothing about the candidate) and the candidate's on ${f.errors.candidate} (counted as overridden where the control answered).`;
}

function tryAgain(f: GateFigures, rollout: { id: string }): string {
  return `See the failures at GET /v1/replays/${f.replays.control}/cases and GET /v1/replays/${f.replays.candidate}/cases. A gate replays each version once: to try again once the upstream answers, roll this rollout back (POST /v1/rollouts/${rollout.id}/rollback) and create it again. Or start it without the gate: POST /v1/rollouts/${rollout.id}/advance {"override": true, "reason": "…"}.`;
}

function largerDataset(gate: ReplayGate, rollout: { id: string }): string {
  return `A replayed dataset takes no more cases: build a larger one (POST /v1/datasets with a higher from.limit, or upload this one's cases, GET /v1/datasets/${gate.dataset}/export, and more into a new dataset), roll this rollout back (POST /v1/rollouts/${rollout.id}/rollback) and create it again with gate.replay.dataset set to the new dataset. Or start it without the gate: POST /v1/rollouts/${rollout.id}/advance {"override": true, "reason": "…"}.`;
}

/** A difference with its sign, to four decimals. */
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;
