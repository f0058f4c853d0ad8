/**
 * The shadow gate of each stage (README "Shadow runs", `gate.shadow.everyStage`), as the audit log
 * records it (pure). A rollout that holds every stage leaves a stage only after that stage's
 * shadow pairs passed the gate: the evidence is a `gate_passed` event whose `data.stage` is the
 * stage. The gate before stage 0 writes `gate_passed` / `gate_failed` without a top-level
 * `stage` (its figures sit under `shadow` and the replay's names), which keeps the two apart.
 */
import type { Rollout, RolloutEvent } from '../model/rollout.js';
import type { RolloutSpec } from '../model/rollout-spec.js';

/** Whether the rollout gates each stage on its shadow pairs (a stage-free rollout has no stage to leave). */
export function holdsEveryStage(spec: Pick<RolloutSpec, 'gate' | 'stages'>): boolean {
  return spec.gate?.shadow?.everyStage === true && spec.stages.length > 0;
}

/** The stage a `gate_passed` / `gate_failed` event decided, or undefined for the gate before stage 0 (or another event). */
export function stageGateEventStage(e: Pick<RolloutEvent, 'type' | 'data'>): number | undefined {
  if (e.type !== 'gate_passed' && e.type !== 'gate_failed') return undefined;
  const stage = e.data?.stage;
  return typeof stage === 'number' ? stage : undefined;
}

/** The event that decided `stage`'s shadow gate, if any (the first: later ones only repeat it). */
export function stageGateDecision(events: readonly RolloutEvent[], stage: number): RolloutEvent | undefined {
  return events.find((e) => stageGateEventStage(e) === stage);
}

/** Whether the running rollout may leave its current stage as far as the stage's shadow gate goes. */
export function stageGateOpen(rollout: Pick<Rollout, 'spec' | 'stage'>, events: readonly RolloutEvent[]): boolean {
  return !holdsEveryStage(rollout.spec) || stageGateDecision(events, rollout.stage)?.type === 'gate_passed';
}
