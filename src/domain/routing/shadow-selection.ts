/**
 * Which calls a rollout mirrors to its candidate (pure). A call is shadowed when the rollout
 * serves it with the control — a `control` assignment of one of its active stages, or, in
 * stage-free shadow mode (a `gated` rollout, or a running one with no stages), any call the
 * shadow's environment and tenant filters match — and its assignment key falls in the shadow's
 * `percent`.
 *
 * The key is the call's assignment key (the tenant, or tenant/unit on a unit stage), so one
 * tenant's or one document's calls are all shadowed or none. Without a stage there is no split
 * to inherit: the key is tenant/unit, or tenant/runId for a call without a unit, as on a unit
 * stage. The hash is salted with the rollout id: which keys are shadowed is independent of which
 * keys the flag put on the candidate, and differs between rollouts.
 */
import { createHash } from 'node:crypto';
import type { ShadowSpec } from '../model/shadow-spec.js';
import type { Assignment } from './routing.js';

export interface ShadowRollout {
  id: string;
  /** 'gated' | 'running' | … */
  status: string;
  spec: { stages: readonly unknown[]; shadow?: ShadowSpec };
}

export interface ShadowCall {
  tenant: string;
  environment: string;
  unit?: string;
  runId: string;
  assignment: Pick<Assignment, 'variant' | 'rolloutId' | 'assignmentKey'>;
}

/** True when the rollout routes no customer traffic and only measures the candidate in the shadow. */
export function isStageFreeShadow(rollout: Pick<ShadowRollout, 'status' | 'spec'>): boolean {
  return rollout.status === 'gated' || (rollout.status === 'running' && rollout.spec.stages.length === 0);
}

/** The key a shadowed call is chosen on, or undefined when the rollout does not mirror this call. */
export function shadowKey(rollout: ShadowRollout, call: ShadowCall): string | undefined {
  const shadow = rollout.spec.shadow;
  if (shadow === undefined) return undefined;
  if (shadow.environments !== undefined && !shadow.environments.includes(call.environment)) return undefined;
  if (shadow.tenants !== undefined && !shadow.tenants.includes(call.tenant)) return undefined;
  const a = call.assignment;
  if (rollout.status === 'running' && a.variant === 'control' && a.rolloutId === rollout.id) return a.assignmentKey ?? call.tenant;
  if (isStageFreeShadow(rollout) && a.variant === 'default') return `${call.tenant}/${call.unit ?? call.runId}`;
  return undefined;
}

/** Whether `key` is in the first `percent` of the salted hash space: uniform and deterministic. */
export function inShadowSample(salt: string, key: string, percent: number): boolean {
  if (percent >= 100) return true;
  const digest = createHash('sha256').update(salt).update('\u0000').update(key).digest();
  // 32 bits of the digest as a point in [0, 100).
  return (digest.readUInt32BE(0) / 2 ** 32) * 100 < percent;
}

/** The shadow decision for one call: the key it was chosen on, or undefined when it is not shadowed. */
export function selectShadow(rollout: ShadowRollout, call: ShadowCall): { key: string } | undefined {
  const key = shadowKey(rollout, call);
  if (key === undefined || !inShadowSample(rollout.id, key, rollout.spec.shadow!.percent)) return undefined;
  return { key };
}
