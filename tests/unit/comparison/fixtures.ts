/** Cells and inputs for the comparison's unit tests. */
import type { ComparisonInput, StageView } from '../../../src/domain/comparison/assemble.js';
import { emptyCounts } from '../../../src/domain/comparison/counts.js';
import type { Arm, Cell } from '../../../src/domain/comparison/types.js';

export function cell(
  stage: number,
  arm: Arm,
  tenantId: string | null,
  c: { runs?: number; errors?: number; reviewed: number; overridden: number; fields?: Record<string, number>; environment?: string },
): Cell {
  const runs = c.runs ?? c.reviewed + (c.errors ?? 0);
  return {
    ...emptyCounts(),
    runs,
    errors: c.errors ?? 0,
    reviewed: c.reviewed,
    overridden: c.overridden,
    fieldOverrides: c.fields ?? {},
    stage,
    arm,
    tenantId,
    environment: c.environment ?? 'prod',
  };
}

export function stage(index: number, percent: number, splitBy: 'tenant' | 'unit' = 'unit', environments = ['prod']): StageView {
  return { index, environments, percent, splitBy, startedAt: new Date(Date.UTC(2026, 0, 1 + index)) };
}

export function input(overrides: Partial<ComparisonInput>): ComparisonInput {
  return {
    rolloutId: '00000000-0000-4000-8000-000000000001',
    chain: 'invoices',
    control: 'v1',
    candidate: 'v2',
    alpha: 0.05,
    window: { from: new Date(Date.UTC(2026, 0, 1)), to: new Date(Date.UTC(2026, 0, 8)), granularity: 'rollout' },
    stages: [stage(0, 50)],
    cells: [],
    assignments: [],
    guardrails: [],
    ...overrides,
  };
}
