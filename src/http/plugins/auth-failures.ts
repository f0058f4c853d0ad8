/**
 * Throttling of token guessing (README "Security"): each client address may present at most
 * `perMinute` tokens that are not valid per fixed minute window; past that, every request from
 * that address that presents a token is a 429 until the window ends, valid tokens included.
 * Refusing valid tokens too is the point: if a blocked guess were still checked, "429" would mean
 * "wrong" and anything else "right", and guessing would go on at full speed.
 *
 * The per-key limiter (@fastify/rate-limit, rate-limit.ts) cannot do this: it counts requests
 * after authentication, by key, and a bad token has no key. Counted per process, like that one.
 * Memory is bounded: at most `maxTracked` addresses are remembered (the oldest window is dropped
 * first), so a flood from many addresses costs a bounded map, not the gateway.
 */

export interface AuthFailureLimiterOptions {
  /** Invalid tokens per address per minute; 0 turns throttling off. */
  perMinute: number;
  maxTracked?: number;
  now?: () => number;
}

interface Window {
  start: number;
  failures: number;
}

const WINDOW_MS = 60_000;

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly maxTracked: number;
  private readonly now: () => number;

  constructor(private readonly opts: AuthFailureLimiterOptions) {
    this.maxTracked = opts.maxTracked ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.perMinute > 0;
  }

  /** Seconds until `address` may present tokens again, or 0 when it may now. */
  retryAfter(address: string): number {
    if (!this.enabled) return 0;
    const w = this.windows.get(address);
    if (!w) return 0;
    const left = w.start + WINDOW_MS - this.now();
    if (left <= 0) {
      this.windows.delete(address);
      return 0;
    }
    return w.failures >= this.opts.perMinute ? Math.ceil(left / 1000) : 0;
  }

  /** Counts an invalid token presented by `address`. */
  failed(address: string): void {
    if (!this.enabled) return;
    const now = this.now();
    let w = this.windows.get(address);
    if (!w || now - w.start >= WINDOW_MS) {
      if (w) this.windows.delete(address);
      w = { start: now, failures: 0 };
      this.windows.set(address, w);
      this.evict();
    }
    w.failures++;
  }

  get tracked(): number {
    return this.windows.size;
  }

  /** Drops the oldest windows while over the bound (a renewed window is re-inserted, so Map order is start order). */
  private evict(): void {
    for (const address of this.windows.keys()) {
      if (this.windows.size <= this.maxTracked) break;
      this.windows.delete(address);
    }
  }
}
