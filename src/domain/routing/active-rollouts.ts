/**
 * This replica's running and paused rollouts, by chain: what routes calls (RolloutRouter), what
 * keeps a chain's current version fixed (Catalog), what the guardrail job watches. RolloutService
 * keeps it in step with the database (its own actions at once, other replicas' on refresh); the
 * others only read it. A small lookup object of its own, so no part needs the service to exist first.
 */
import { isActive, type Rollout } from '../model/rollout.js';

export class ActiveRollouts {
  private readonly byChain = new Map<string, Rollout>();

  /** The chain's running or paused rollout. */
  activeFor(chainId: string): Rollout | undefined {
    return this.byChain.get(chainId);
  }

  hasActive(chainId: string): boolean {
    return this.byChain.has(chainId);
  }

  list(): Rollout[] {
    return [...this.byChain.values()];
  }

  /** Applies a rollout's new state: an active one routes its chain, an ended one stops routing it. */
  apply(rollout: Rollout): void {
    if (isActive(rollout.status)) this.byChain.set(rollout.chainId, rollout);
    else if (this.byChain.get(rollout.chainId)?.id === rollout.id) this.byChain.delete(rollout.chainId);
  }

  /**
   * Replaces the set with what the database holds, keeping a newer local state (read your
   * writes) over a read that raced with it.
   */
  replaceWith(fresh: readonly Rollout[]): void {
    const byChain = new Map(fresh.map((r) => [r.chainId, r]));
    for (const chainId of [...this.byChain.keys()]) if (!byChain.has(chainId)) this.byChain.delete(chainId);
    for (const [chainId, row] of byChain) {
      const known = this.byChain.get(chainId);
      if (!known || known.id !== row.id || row.updatedAt >= known.updatedAt) this.byChain.set(chainId, row);
    }
  }
}
