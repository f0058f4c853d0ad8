/**
 * The RolloutRepository port: rollouts and their audit log. State changes are conditional (from
 * the state the caller read), so two replicas, or the guardrail job and a person, never both act
 * on the same state. src/store/rollout-store.ts implements it.
 */
import type { NewRolloutEvent, Rollout, RolloutEvent } from '../model/rollout.js';

export type RolloutChange = Partial<Pick<Rollout, 'status' | 'stage' | 'stageStartedAt'>> & { updatedAt: Date };

export interface RolloutRepository {
  /** Stores a new rollout with its first audit event. @throws DuplicateError when the chain already has an active rollout. */
  insert(rollout: Rollout, event: NewRolloutEvent): Promise<Rollout>;
  /**
   * Moves a rollout from the state it was read in to `to`, with its audit events (in order), in
   * one transaction; undefined when someone else changed it first (its events are then not
   * written). `promote` also sets the chain's current version.
   */
  transition(
    from: Pick<Rollout, 'id' | 'status' | 'stage'>,
    to: RolloutChange,
    events: NewRolloutEvent[],
    promote?: { chainId: string; version: string },
  ): Promise<Rollout | undefined>;
  /** Appends an event that is not a state change. */
  appendEvent(rolloutId: string, event: NewRolloutEvent): Promise<void>;
  get(id: string): Promise<Rollout | undefined>;
  /** Newest first. */
  list(): Promise<Rollout[]>;
  /** Running and paused rollouts. */
  listActive(): Promise<Rollout[]>;
  /** The audit log, oldest first. */
  events(rolloutId: string): Promise<RolloutEvent[]>;
}
