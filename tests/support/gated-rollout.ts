/** A gated rollout of chain `invoices` (v1 → v2) as the domain holds it, for the gate services' unit tests. */
import type { Rollout } from '../../src/domain/model/rollout.js';
import { rolloutSpecSchema, type RolloutSpecInput } from '../../src/domain/model/rollout-spec.js';

export function gatedRollout(spec: Partial<RolloutSpecInput>): Rollout {
  const parsed = rolloutSpecSchema.parse({ chain: 'invoices', control: 'v1', candidate: 'v2', ...spec });
  const at = new Date('2026-01-01T00:00:00Z');
  return {
    id: 'r-1',
    chainId: 'invoices',
    control: 'v1',
    candidate: 'v2',
    status: 'gated',
    stage: 0,
    flag: 'f',
    spec: parsed,
    stageStartedAt: at,
    createdAt: at,
    updatedAt: at,
  };
}
