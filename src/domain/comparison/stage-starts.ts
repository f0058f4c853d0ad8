/**
 * When each stage of a rollout became active, from its audit log (pure): stage 0 at creation,
 * stage k at the first `advanced` event whose `data.after.stage` is k. Stages the rollout never
 * reached have no start.
 */
import type { RolloutSpec } from '../model/rollout-spec.js';
import type { StageView } from './assemble.js';

export interface StageEvent {
  at: Date;
  type: string;
  data: unknown;
}

export function stageStarts(createdAt: Date, events: readonly StageEvent[]): Map<number, Date> {
  const starts = new Map<number, Date>([[0, createdAt]]);
  for (const e of events) {
    if (e.type !== 'advanced') continue;
    const stage = (e.data as { after?: { stage?: unknown } } | null)?.after?.stage;
    if (typeof stage === 'number' && !starts.has(stage)) starts.set(stage, e.at);
  }
  return starts;
}

export function stageViews(spec: Pick<RolloutSpec, 'stages'>, starts: Map<number, Date>): StageView[] {
  return spec.stages.map((s, index) => ({
    index,
    environments: s.environments,
    percent: s.percent,
    splitBy: s.splitBy,
    startedAt: starts.get(index) ?? null,
  }));
}
