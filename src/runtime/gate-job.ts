/**
 * Drives rollouts' gates (src/domain/services/gate-service.ts): a gated rollout, or a running one
 * whose shadow gate holds every stage, is checked when it is created, when one of its gate
 * replays finishes on this replica, after a person overrides, advances or abandons it, when
 * shadow pairs of it are scored here, and periodically on every replica (a replay finished or
 * pairs scored by another process, or a restart). Each check is idempotent, so replicas need no lease to share the work;
 * checks of one rollout never overlap on one replica.
 */
import type { Logger } from 'pino';
import type { RolloutChanged } from '../domain/model/events.js';
import type { Rollout } from '../domain/model/rollout.js';
import type { GateService } from '../domain/services/gate-service.js';
import { holdsEveryStage } from '../domain/shadow/stage-gate.js';
import { Periodic } from './jobs/periodic.js';

export interface GateJobDeps {
  gates: Pick<GateService, 'check'>;
  rollouts: { get(id: string): Promise<Rollout> };
  /** This replica's gated, running and paused rollouts. */
  active: { list(): Rollout[] };
  log: Logger;
  intervalMs: number;
}

export class GateJob {
  private readonly periodic: Periodic;
  /** The check in progress (or queued) per rollout: one at a time each. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly deps: GateJobDeps) {
    this.periodic = new Periodic(() => this.checkGated(), {
      intervalMs: deps.intervalMs,
      onError: (err) => deps.log.error({ err }, 'gate job failed; will run again'),
    });
  }

  start(): void {
    this.periodic.start();
    void this.periodic.runNow();
  }

  async stop(): Promise<void> {
    await this.periodic.stop();
    await Promise.all(this.chains.values());
  }

  /** A rollout event: a gated rollout was created, or a gated one was overridden or abandoned. */
  onRolloutEvent(event: RolloutChanged): void {
    if (event.rollout.spec.gate && ['created', 'advanced', 'rolled_back'].includes(event.type)) this.poke(event.rollout.id);
  }

  /** Checks a rollout's gate soon (one of its replays finished here). */
  poke(rolloutId: string): void {
    void this.enqueue(rolloutId);
  }

  private async checkGated(): Promise<void> {
    const gated = this.deps.active.list().filter(hasOpenGate);
    await Promise.all(gated.map((r) => this.enqueue(r.id)));
  }

  private enqueue(rolloutId: string): Promise<void> {
    const previous = this.chains.get(rolloutId) ?? Promise.resolve();
    const next = previous
      .then(async () => this.deps.gates.check(await this.deps.rollouts.get(rolloutId)))
      .catch((err) => this.deps.log.error({ err, rolloutId }, 'gate check failed; will look again'))
      .finally(() => {
        if (this.chains.get(rolloutId) === next) this.chains.delete(rolloutId);
      });
    this.chains.set(rolloutId, next);
    return next;
  }
}

/** A rollout whose gate still has something to decide: gated, or running with a gate on every stage. */
export function hasOpenGate(rollout: Rollout): boolean {
  return rollout.status === 'gated' || (rollout.status === 'running' && holdsEveryStage(rollout.spec));
}
