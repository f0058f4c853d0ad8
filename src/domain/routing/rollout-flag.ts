/** From a rollout's state to the definition of its flag (pure). */
import type { FlagStage, RolloutFlag } from '../ports/flag-store.js';
import type { RolloutStatus } from '../model/rollout.js';
import type { RolloutSpec } from '../model/rollout-spec.js';

/** One flag per rollout: Unleash never re-creates an archived flag's name. */
export function flagName(chainId: string, rolloutId: string): string {
  return `chain-canary.${chainId}.${rolloutId.slice(0, 8)}`;
}

export function toFlag(name: string, spec: Pick<RolloutSpec, 'stages'>, status: RolloutStatus, stage: number): RolloutFlag {
  const stages: FlagStage[] = spec.stages.slice(0, stage + 1).map((s) => ({
    environments: s.environments,
    ...(s.tenants ? { tenants: s.tenants } : {}),
    ...(s.excludeTenants?.length ? { excludeTenants: s.excludeTenants } : {}),
    percent: s.percent,
    splitBy: s.splitBy,
  }));
  return { name, enabled: status === 'running', stages };
}

/**
 * The active stage (0..current) that decides a call: the latest whose environments and tenants
 * match, as the flag's strategies are ordered (later stages first). -1 when none matches.
 */
export function matchingStage(spec: Pick<RolloutSpec, 'stages'>, current: number, tenant: string, environment: string): number {
  for (let i = Math.min(current, spec.stages.length - 1); i >= 0; i--) {
    const s = spec.stages[i]!;
    if (!s.environments.includes(environment)) continue;
    if (s.tenants && !s.tenants.includes(tenant)) continue;
    if (s.excludeTenants?.includes(tenant)) continue;
    return i;
  }
  return -1;
}
