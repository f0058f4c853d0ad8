/**
 * What happens in the domain that other parts react to, by name (DESIGN.md pattern 12). The
 * services publish these through the EventPublisher port (src/domain/ports/event-publisher.ts);
 * the runtime's bus (src/runtime/event-bus.ts) delivers them to whoever subscribed by name, and
 * adds the runtime's own events (src/runtime/events.ts: RunsCommitted and others).
 */
import type { Feedback, Run } from './run.js';
import type { Rollout } from './rollout.js';

/** A call ran and its run was queued for storage (not an idempotent replay). The hot path. */
export interface RunFinished {
  run: Run;
}

/** Feedback was queued for a run (not yet stored: RunsCommitted says when it is). */
export interface FeedbackReceived {
  run: Run;
  feedback: Feedback;
  /** The feedback as the human sent it (`final` or `overrides`): shadow runs are scored against it. */
  body: { final?: unknown; overrides?: readonly { field: string; value?: unknown }[] };
}

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

export interface DomainEvents {
  RunFinished: RunFinished;
  FeedbackReceived: FeedbackReceived;
  RolloutChanged: RolloutChanged;
}
