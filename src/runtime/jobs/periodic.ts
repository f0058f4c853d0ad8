/**
 * A periodic background task that never overlaps itself, adds jitter so replicas do not run in
 * lockstep, and never keeps the process alive (unref). (Unleash scheduler-service.ts.)
 */
export interface PeriodicOptions {
  intervalMs: number;
  /** Share of the interval added or removed at random. */
  jitter?: number;
  random?: () => number;
  onError: (err: unknown) => void;
}

export class Periodic {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly opts: PeriodicOptions,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Runs now unless a run is under way (then waits for that one). */
  async runNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.task()
      .catch(this.opts.onError)
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    const jitter = this.opts.jitter ?? 0.1;
    const delay = this.opts.intervalMs * (1 + jitter * (2 * (this.opts.random ?? Math.random)() - 1));
    this.timer = setTimeout(() => {
      void this.runNow().finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
