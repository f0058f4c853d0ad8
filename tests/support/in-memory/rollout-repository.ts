/**
 * RolloutRepository in memory: conditional transitions (from the state the caller read), one
 * active rollout per chain (DuplicateError, as the database's unique index), an ordered audit log.
 */
import { DuplicateError } from '../../../src/domain/model/errors.js';
import { isActive, type NewRolloutEvent, type Rollout, type RolloutEvent } from '../../../src/domain/model/rollout.js';
import type { RolloutChange, RolloutRepository } from '../../../src/domain/ports/rollout-repository.js';

export class InMemoryRolloutRepository implements RolloutRepository {
  readonly rollouts = new Map<string, Rollout>();
  readonly log: RolloutEvent[] = [];
  /** Chains whose current version a promotion set. */
  readonly promoted = new Map<string, string>();
  /** Called before a transition is applied: a test changes the rollout here to lose the race. */
  beforeTransition?: (id: string) => void;

  async insert(rollout: Rollout, event: NewRolloutEvent): Promise<Rollout> {
    for (const r of this.rollouts.values()) {
      if (r.chainId === rollout.chainId && isActive(r.status)) throw new DuplicateError(`An active rollout of chain '${rollout.chainId}'`);
    }
    this.rollouts.set(rollout.id, structuredClone(rollout));
    this.append(rollout.id, event);
    return structuredClone(rollout);
  }

  async transition(
    from: Pick<Rollout, 'id' | 'status' | 'stage'>,
    to: RolloutChange,
    events: NewRolloutEvent[],
    promote?: { chainId: string; version: string },
  ): Promise<Rollout | undefined> {
    this.beforeTransition?.(from.id);
    const current = this.rollouts.get(from.id);
    if (!current || current.status !== from.status || current.stage !== from.stage) return undefined;
    const updated = { ...current, ...to };
    this.rollouts.set(from.id, updated);
    for (const e of events) this.append(from.id, e);
    if (promote) this.promoted.set(promote.chainId, promote.version);
    return structuredClone(updated);
  }

  async appendEvent(rolloutId: string, event: NewRolloutEvent): Promise<void> {
    this.append(rolloutId, event);
  }

  async get(id: string): Promise<Rollout | undefined> {
    const r = this.rollouts.get(id);
    return r && structuredClone(r);
  }

  async list(): Promise<Rollout[]> {
    return [...this.rollouts.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map((r) => structuredClone(r));
  }

  async listActive(): Promise<Rollout[]> {
    return [...this.rollouts.values()].filter((r) => isActive(r.status)).map((r) => structuredClone(r));
  }

  async events(rolloutId: string): Promise<RolloutEvent[]> {
    return this.log.filter((e) => e.rolloutId === rolloutId).map((e) => structuredClone(e));
  }

  private append(rolloutId: string, e: NewRolloutEvent): void {
    this.log.push({
      id: this.log.length + 1,
      rolloutId,
      at: e.at,
      type: e.type,
      actor: e.actor,
      reason: e.reason ?? null,
      data: e.data ?? null,
    });
  }
}
