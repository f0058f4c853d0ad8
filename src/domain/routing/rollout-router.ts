/**
 * Routing with rollouts: the chain's running rollout decides the arm of calls that an active
 * stage matches, through its flag; everything else gets the chain's current version (`default`).
 * The assignment is always sticky: the key is the tenant, or tenant/unit (tenant/runId without a
 * unit), and both keys are always in the flag context, so the client never seeds at random.
 */
import type { FlagStore } from '../ports/flag-store.js';
import type { Chain } from '../model/catalog.js';
import type { ActiveRollouts } from './active-rollouts.js';
import type { Assignment, CallContext, Router } from './routing.js';
import { matchingStage } from './rollout-flag.js';

export class RolloutRouter implements Router {
  constructor(
    private readonly rollouts: Pick<ActiveRollouts, 'activeFor'>,
    private readonly flags: FlagStore,
  ) {}

  assign(chain: Chain, call: CallContext): Assignment {
    const fallback: Assignment = { version: chain.currentVersion!, variant: 'default' };
    const rollout = this.rollouts.activeFor(chain.id);
    // Paused: everyone on the current version, at once on this replica whatever the flag store says.
    if (!rollout || rollout.status !== 'running') return fallback;
    const { spec } = rollout;
    const stage = matchingStage(spec, rollout.stage, call.tenant, call.environment);
    if (stage < 0) return fallback;
    const unitKey = `${call.tenant}/${call.unit ?? call.runId}`;
    const variant = this.flags.evaluate(rollout.flag, { tenant: call.tenant, environment: call.environment, unitKey });
    // 'disabled': the flag is off or does not know this call (e.g. still syncing): the safe arm.
    if (variant === 'disabled') return fallback;
    const assignmentKey = spec.stages[stage]!.splitBy === 'unit' ? unitKey : call.tenant;
    const base = { rolloutId: rollout.id, stage, assignmentKey };
    if (variant === 'candidate') {
      return { ...base, version: rollout.candidate, variant, ...(spec.fallbackToControl ? { fallbackVersion: rollout.control } : {}) };
    }
    return { ...base, version: rollout.control, variant: 'control' };
  }
}
