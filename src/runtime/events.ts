/**
 * Every event of the gateway's in-process bus: the domain's (src/domain/model/events.ts) and the
 * runtime's own. Search for an event's name to find who publishes it and who listens.
 */
import type { DomainEvents } from '../domain/model/events.js';
import type { Rollout } from '../domain/model/rollout.js';
import type { Feedback } from '../domain/model/run.js';
import type { CountedRun } from '../domain/ports/run-repository.js';

export type { FeedbackReceived, RolloutChanged, RunFinished } from '../domain/model/events.js';

/** A batch of runs and feedback is in the database (the read models included): published by the run writer. */
export interface RunsCommitted {
  /** The batch's runs as far as the read models count them (not revived from their JSON). */
  runs: readonly CountedRun[];
  feedback: readonly Feedback[];
}

/** A webhook for a rollout event was not delivered after its retries: published by the webhook notifier. */
export interface WebhookFailed {
  event: DomainEvents['RolloutChanged'];
  url: string;
  error: string;
}

/** The guardrail job evaluated a running rollout's guardrails: published before it acts on them. */
export interface GuardrailsEvaluated {
  rollout: Rollout;
  guardrails: readonly { metric: string; status: 'waiting' | 'holding' | 'breached' | 'unevaluable' }[];
}

/** A batch of shadow runs scored pairs of these rollouts (README "Shadow runs"): published by the shadow writer. */
export interface ShadowPairsScored {
  rolloutIds: readonly string[];
}

export interface GatewayEvents extends DomainEvents {
  ShadowPairsScored: ShadowPairsScored;
  RunsCommitted: RunsCommitted;
  WebhookFailed: WebhookFailed;
  GuardrailsEvaluated: GuardrailsEvaluated;
}
