/**
 * Retention (RETENTION_DAYS): runs created more than that many days ago are deleted with their
 * feedback, hourly. Runs never overlap and the timer never keeps the process alive (Periodic);
 * with a lease only one replica does the work at a time (JobLease). The first run comes shortly
 * after start, so a gateway restarted more often than hourly still enforces retention.
 * The clock is injected (DESIGN.md pattern 7): tests move `now`, not the wall clock.
 */
import type { Logger } from 'pino';
import { Periodic } from './periodic.js';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

export interface RetentionDeps {
  store: { deleteOlderThan(before: Date): Promise<number> };
  days: number;
  now: () => Date;
  log: Logger;
  /** Only the replica holding it runs the job (src/runtime/jobs/job-lease.ts). */
  lease?: { acquire(now: Date): Promise<boolean> };
  /** Default one hour. */
  intervalMs?: number;
  /** Delay of the first run after start; default one minute. */
  firstRunDelayMs?: number;
  random?: () => number;
}

export class RetentionJob {
  private readonly periodic: Periodic;
  private firstRun?: NodeJS.Timeout;

  constructor(private readonly deps: RetentionDeps) {
    if (!(deps.days > 0)) throw new RangeError('RetentionJob: days must be positive');
    this.periodic = new Periodic(
      async () => {
        await this.runOnce();
      },
      {
        intervalMs: deps.intervalMs ?? HOUR,
        jitter: 0.1,
        random: deps.random,
        onError: (err) => deps.log.warn({ err }, 'retention run failed; it is tried again at the next interval'),
      },
    );
  }

  /** Runs created before this are deleted. */
  cutoff(now: Date = this.deps.now()): Date {
    return new Date(now.getTime() - this.deps.days * DAY);
  }

  /** One pass; the number of runs deleted, or undefined when another replica holds the lease. */
  async runOnce(): Promise<number | undefined> {
    const now = this.deps.now();
    if (this.deps.lease && !(await this.deps.lease.acquire(now))) return undefined;
    const before = this.cutoff(now);
    const deleted = await this.deps.store.deleteOlderThan(before);
    if (deleted > 0) this.deps.log.info({ deleted, before: before.toISOString() }, 'retention: old runs deleted');
    return deleted;
  }

  /** A pass that does not overlap one under way (it waits for that one instead). */
  runNow(): Promise<void> {
    return this.periodic.runNow();
  }

  start(): void {
    this.periodic.start();
    this.firstRun = setTimeout(() => void this.periodic.runNow(), this.deps.firstRunDelayMs ?? 60_000);
    this.firstRun.unref();
  }

  async stop(): Promise<void> {
    if (this.firstRun) clearTimeout(this.firstRun);
    await this.periodic.stop();
  }
}
