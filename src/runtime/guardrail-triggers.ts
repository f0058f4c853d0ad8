/**
 * The path feedback → guardrail → rollback, in process: when feedback on a rollout's run, or an
 * error of a candidate run, has reached the database (RunsCommitted), the guardrail job looks at
 * that rollout at once (debounced) instead of at its next period, so a breach stops candidate
 * calls on this replica within a second. The job's rollback is RolloutService.act (conditional:
 * whoever finds the breach first acts, once).
 *
 * Feedback is committed by run id only; which rollout it belongs to is known when it is received
 * (FeedbackReceived carries the run), so that is remembered until its batch is committed.
 */
import type { EventBus } from './event-bus.js';
import type { GatewayEvents } from './events.js';
import type { GuardrailJob } from './guardrail-job.js';

export function subscribeGuardrailTriggers(bus: EventBus<GatewayEvents>, guardrails: Pick<GuardrailJob, 'poke'>): void {
  /** Feedback queued for a rollout's run, by run id, until its batch is committed. */
  const guarded = new Map<string, { chainId: string; rolloutId: string }>();

  bus.on('FeedbackReceived', ({ run }) => {
    if (run.rolloutId) guarded.set(run.id, { chainId: run.chainId, rolloutId: run.rolloutId });
  });

  bus.on('RunsCommitted', ({ runs, feedback }) => {
    for (const run of runs) if (run.rolloutId && run.variant === 'candidate' && run.error) guardrails.poke(run.chainId, run.rolloutId);
    for (const fb of feedback) {
      const target = guarded.get(fb.runId);
      if (!target) continue;
      guarded.delete(fb.runId);
      guardrails.poke(target.chainId, target.rolloutId);
    }
  });
}
