/**
 * Acts on guardrails: rolls a breaching candidate back (flag store and this replica's routing at
 * once, audit log with the figures, webhook), and advances a stage that has shown it is safe.
 *
 * Two triggers: the periodic job (one replica at a time, by lease; survives restarts because it
 * re-reads everything from the aggregates), and in process when feedback or a candidate error for
 * a guarded rollout reaches the database on this replica (debounced; the RunsCommitted
 * subscription in guardrail-triggers.ts), so a breach stops candidate calls here within a second. The rollout's conditional state change makes a second rollback of
 * the same rollout impossible, whoever finds the breach.
 */
import type { Logger } from 'pino';
import { printBound, printLimit } from '../domain/guardrails/guardrail-metrics.js';
import type { Rollout } from '../domain/model/rollout.js';
import type { RolloutSpec } from '../domain/model/rollout-spec.js';
import type { EventPublisher } from '../domain/ports/event-publisher.js';
import type { ActiveRollouts } from '../domain/routing/active-rollouts.js';
import type { RolloutService } from '../domain/services/rollout-service.js';
import type { GatewayEvents } from './events.js';
import type { JobLease } from './jobs/job-lease.js';
import { Periodic } from './jobs/periodic.js';

export interface GuardrailFinding {
  metric: string;
  threshold: number;
  /** One-sided always-valid lower bound of the quantity compared with the threshold. */
  bound: number | null;
  /** The matching upper bound (positive evidence for auto-advance). */
  upperBound?: number | null;
  samples: number;
  status: 'waiting' | 'holding' | 'breached' | 'unevaluable';
  [figure: string]: unknown;
}

export interface GuardrailEvaluation {
  guardrails: GuardrailFinding[];
  /** Reviewed (or finished) counts per arm, for auto-advance's minSamples. */
  samples: { control: number; candidate: number };
  /** Data-quality flags (README "Data-quality checks"): either one stops auto-advance. Absent: none. */
  dataQuality?: { srm: boolean; reviewRateImbalance: boolean };
}

export interface GuardrailJobDeps {
  rollouts: Pick<RolloutService, 'load' | 'act' | 'record' | 'stageGateOpen' | 'events'>;
  /** The running rollouts this replica knows (kept by RolloutService). */
  active: Pick<ActiveRollouts, 'activeFor' | 'list'>;
  evaluate: (rollout: Rollout) => Promise<GuardrailEvaluation>;
  /** GuardrailsEvaluated after each evaluation (metrics). */
  events: EventPublisher<Pick<GatewayEvents, 'GuardrailsEvaluated'>>;
  lease: Pick<JobLease, 'acquire'>;
  log: Logger;
  now: () => Date;
  intervalMs: number;
  /** How long in-process triggers are gathered before one evaluation. */
  debounceMs?: number;
}

export class GuardrailJob {
  private readonly periodic: Periodic;
  private readonly pending = new Set<string>();
  /** Unevaluable checks already reported, by rollout, stage and check: one event (and webhook) each. */
  private readonly reportedUnevaluable = new Set<string>();
  private debounce?: NodeJS.Timeout;
  private checking: Promise<void> = Promise.resolve();

  constructor(private readonly deps: GuardrailJobDeps) {
    this.periodic = new Periodic(() => this.checkAllWithLease(), {
      intervalMs: deps.intervalMs,
      onError: (err) => deps.log.error({ err }, 'guardrail job failed; will run again'),
    });
  }

  start(): void {
    this.periodic.start();
  }

  /**
   * At start, every replica looks once, lease or not: a breach in runs that a crashed process
   * answered (just replayed from its spool) is acted on now, not when its lease expires. Acting
   * is exactly-once whoever looks (conditional transitions); the lease only saves repeated work.
   */
  checkOnStart(): void {
    this.checking = this.checking
      .then(() => this.checkAll())
      .catch((err) => this.deps.log.error({ err }, 'start-up guardrail check failed'));
  }

  async stop(): Promise<void> {
    if (this.debounce) clearTimeout(this.debounce);
    await this.periodic.stop();
    await this.checking;
  }

  /** In-process trigger (src/runtime/guardrail-triggers.ts): the chain's rollout got feedback or a candidate error just now. */
  poke(chainId: string, rolloutId: string): void {
    const rollout = this.deps.active.activeFor(chainId);
    if (!rollout || rollout.id !== rolloutId || rollout.status !== 'running' || rollout.spec.guardrails.length === 0) return;
    this.pending.add(rolloutId);
    if (this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      const ids = [...this.pending];
      this.pending.clear();
      this.checking = this.checking.then(() => this.checkMany(ids)).catch((err) => this.deps.log.error({ err }, 'guardrail check failed'));
    }, this.deps.debounceMs ?? 20);
    this.debounce.unref();
  }

  /** The periodic pass, on the one replica holding the lease. */
  async checkAllWithLease(): Promise<void> {
    if (!(await this.deps.lease.acquire(this.deps.now()))) return;
    await this.checkAll();
  }

  async checkAll(): Promise<void> {
    await this.deps.rollouts.load();
    await this.checkMany(
      this.deps.active
        .list()
        .filter((r) => r.status === 'running')
        .map((r) => r.id),
    );
  }

  private async checkMany(ids: string[]): Promise<void> {
    for (const id of ids) {
      const rollout = this.deps.active.list().find((r) => r.id === id);
      if (rollout && rollout.status === 'running') await this.check(rollout);
    }
  }

  /** Evaluates one running rollout and acts: rollback on a breach, else maybe auto-advance. */
  async check(rollout: Rollout): Promise<void> {
    const { spec } = rollout;
    const evaluation = await this.deps.evaluate(rollout);
    this.deps.events.publish('GuardrailsEvaluated', { rollout, guardrails: evaluation.guardrails });
    const breached = evaluation.guardrails.filter((g) => g.status === 'breached');
    if (breached.length > 0) {
      const reason = breached
        .map((g) => `${g.metric} breached: bound ${printBound(g)}, limit ${printLimit(g)} (${g.samples} samples)`)
        .join('; ');
      // The breach and the rollback are written in one conditional transaction: whoever finds the
      // breach first (this replica's trigger, the job, another replica) acts; the others change nothing.
      const { changed } = await this.deps.rollouts.act(
        rollout.id,
        'rollback',
        'guardrail',
        reason,
        { guardrails: breached },
        {
          type: 'guardrail_breached',
          reason,
          data: { guardrails: breached, samples: evaluation.samples },
        },
      );
      if (changed) this.deps.log.warn({ rolloutId: rollout.id, reason }, 'guardrail breached: candidate rolled back');
      return;
    }
    if (await this.actOnUnevaluable(rollout, evaluation)) return;
    // With `gate.shadow.everyStage`, the stage's shadow gate must have passed too (the gate job records it).
    if (spec.autoAdvance && this.readyToAdvance(rollout, spec, evaluation) && (await this.deps.rollouts.stageGateOpen(rollout))) {
      await this.deps.rollouts.act(rollout.id, 'advance', 'auto-advance', 'every guardrail is below its threshold with confidence', {
        guardrails: evaluation.guardrails,
        samples: evaluation.samples,
      });
    }
  }

  /**
   * A relative guardrail with no control data once the candidate has minSamples can never decide:
   * an event `guardrail_unevaluable` (and its webhook) once per rollout, stage and check, and the
   * rollout's `onUnevaluable` says what else: `warn` (default) nothing, `pause` pauses the rollout
   * (every call to the control). Returns whether it paused. "Once" is read from the audit log, not
   * only from this process's memory: an admin's resume must survive a restart of this replica,
   * and another replica taking over the job's lease must not pause the rollout again.
   */
  private async actOnUnevaluable(rollout: Rollout, evaluation: GuardrailEvaluation): Promise<boolean> {
    const unevaluable = evaluation.guardrails.filter((g) => g.status === 'unevaluable');
    if (unevaluable.length === 0) return false;
    const key = (g: Pick<GuardrailFinding, 'metric'> & { limit?: unknown }) =>
      `${rollout.id}\u0000${rollout.stage}\u0000${g.metric}\u0000${String(g.limit)}`;
    let fresh = unevaluable.filter((g) => !this.reportedUnevaluable.has(key(g)));
    if (fresh.length > 0) {
      for (const g of await this.reportedInStage(rollout)) this.reportedUnevaluable.add(key(g));
      fresh = fresh.filter((g) => !this.reportedUnevaluable.has(key(g)));
    }
    const reason = unevaluable
      .map(
        (g) =>
          `${g.metric} (limit ${printLimit(g)}) is unevaluable: the candidate has minSamples (${String(g.minSamples)}) and the control no data`,
      )
      .join('; ');
    const data = { guardrails: unevaluable, samples: evaluation.samples };
    if (fresh.length === 0) return false;
    for (const g of fresh) this.reportedUnevaluable.add(key(g));
    // Paused once per check and stage: an admin who resumes has seen it (auto-advance still waits).
    if (rollout.spec.onUnevaluable === 'pause') {
      const { changed } = await this.deps.rollouts.act(rollout.id, 'pause', 'guardrail', reason, data, {
        type: 'guardrail_unevaluable',
        reason,
        data,
      });
      if (changed) this.deps.log.warn({ rolloutId: rollout.id, reason }, 'guardrail unevaluable: rollout paused');
      return true;
    }
    await this.deps.rollouts.record(rollout, 'guardrail_unevaluable', 'guardrail', reason, data);
    this.deps.log.warn({ rolloutId: rollout.id, reason }, 'guardrail unevaluable');
    return false;
  }

  /** The checks a `guardrail_unevaluable` event already reported in the rollout's current stage. */
  private async reportedInStage(rollout: Rollout): Promise<{ metric: string; limit?: unknown }[]> {
    const events = await this.deps.rollouts.events(rollout.id);
    return events
      .filter((e) => e.type === 'guardrail_unevaluable' && e.at >= rollout.stageStartedAt)
      .flatMap((e) => (Array.isArray(e.data?.guardrails) ? (e.data.guardrails as { metric: string; limit?: unknown }[]) : []));
  }

  /**
   * Positive evidence only: every guardrail's always-valid upper bound below its threshold, each
   * arm with minSamples, the stage old enough (reviews lag behind calls), no SRM and no
   * review-rate imbalance; a gated rollout is not running until its gate passed. "No breach yet" is
   * not enough: it is guaranteed when there is little data.
   */
  private readyToAdvance(rollout: Rollout, spec: RolloutSpec, evaluation: GuardrailEvaluation): boolean {
    const auto = spec.autoAdvance!;
    if (rollout.stage >= spec.stages.length - 1) return false;
    const ageMinutes = (this.deps.now().getTime() - rollout.stageStartedAt.getTime()) / 60_000;
    if (ageMinutes < auto.minDurationMinutes) return false;
    if (evaluation.samples.control < auto.minSamples || evaluation.samples.candidate < auto.minSamples) return false;
    // Unequal assignment or reviews chosen differently per arm make the bounds unreliable.
    if (evaluation.dataQuality?.srm || evaluation.dataQuality?.reviewRateImbalance) return false;
    // An empty list would be "every" of nothing: the spec refuses autoAdvance without guardrails.
    return (
      evaluation.guardrails.length > 0 &&
      evaluation.guardrails.every(
        (g) => g.status === 'holding' && g.upperBound !== undefined && g.upperBound !== null && g.upperBound < g.threshold,
      )
    );
  }
}
