/**
 * What happens in the gateway that other parts react to, by name (DESIGN.md pattern 12). The
 * domain publishes them through the EventPublisher port (src/domain/ports/event-publisher.ts); the
 * runtime's bus (src/runtime/event-bus.ts) delivers them to whoever subscribed by that name.
 */
import type { Rollout } from './rollout.js';

/** A rollout's audit event was written: a state change, a breach, a webhook that failed... */
export interface RolloutChanged {
  /** The rollout as it is after the event. */
  rollout: Rollout;
  type: string;
  actor: string;
  reason?: string;
  data?: Record<string, unknown>;
  at: Date;
}
