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

function defaultArm(chain: Chain): Assignment {
  return { version: chain.currentVersion!, variant: 'default' };
}

export class RolloutRouter implements Router {
  constructor(
    private readonly rollouts: Pick<ActiveRollouts, 'activeFor'>,
    private readonly flags: FlagStore,
  ) {}

  // One object per call, built directly (no spreads of intermediate ones): this is the hot path.
  assign(chain: Chain, call: CallContext): Assignment {
    const rollout = this.rollouts.activeFor(chain.id);
    // Paused: everyone on the current version, at once on this replica whatever the flag store says.
    if (!rollout || rollout.status !== 'running') return defaultArm(chain);
    const { spec } = rollout;
    const stage = matchingStage(spec, rollout.stage, call.tenant, call.environment);
    if (stage < 0) return defaultArm(chain);
    const unitKey = call.tenant + '/' + (call.unit ?? call.runId);
    const variant = this.flags.evaluate(rollout.flag, { tenant: call.tenant, environment: call.environment, unitKey });
    // 'disabled': the flag is off or does not know this call (e.g. still syncing): the safe arm.
    if (variant === 'disabled') return defaultArm(chain);
    const assignmentKey = spec.stages[stage]!.splitBy === 'unit' ? unitKey : call.tenant;
    if (variant === 'candidate') {
      const a: Assignment = { rolloutId: rollout.id, stage, assignmentKey, version: rollout.candidate, variant };
      if (spec.fallbackToControl) a.fallbackVersion = rollout.control;
      return a;
    }
    return { rolloutId: rollout.id, stage, assignmentKey, version: rollout.control, variant: 'control' };
  }
}
