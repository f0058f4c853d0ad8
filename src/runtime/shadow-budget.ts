/**
 * How much shadow traffic a replica may cause: calls in flight gateway-wide
 * (SHADOW_MAX_CONCURRENT) and per rollout (`shadow.maxConcurrent`), and calls started per minute
 * per rollout (`shadow.maxPerMinute`, a token bucket refilled continuously, so a burst never
 * exceeds a minute's allowance). A call over a limit is skipped, never queued: a shadow call that
 * waits would only pile up behind a slow candidate. The clock is injected (DESIGN.md pattern 7).
 */
export type SkipReason = 'budget' | 'concurrency';

export interface ShadowLimits {
  maxPerMinute?: number;
  maxConcurrent?: number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; reason: SkipReason };

interface RolloutState {
  inFlight: number;
  tokens: number;
  refilledAt: number;
}

const MINUTE_MS = 60_000;

export class ShadowBudget {
  #inFlight = 0;
  readonly #rollouts = new Map<string, RolloutState>();

  constructor(private readonly opts: { maxConcurrent: number; now?: () => number }) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Admits one shadow call of `rolloutId`, or says why not. Concurrency is checked before the budget, so a skipped call spends no token. */
  tryAcquire(rolloutId: string, limits: ShadowLimits): Admission {
    const now = (this.opts.now ?? Date.now)();
    let s = this.#rollouts.get(rolloutId);
    if (s === undefined) {
      s = { inFlight: 0, tokens: limits.maxPerMinute ?? 0, refilledAt: now };
      this.#rollouts.set(rolloutId, s);
    }
    if (this.#inFlight >= this.opts.maxConcurrent) return { ok: false, reason: 'concurrency' };
    if (limits.maxConcurrent !== undefined && s.inFlight >= limits.maxConcurrent) return { ok: false, reason: 'concurrency' };
    if (limits.maxPerMinute !== undefined) {
      const cap = limits.maxPerMinute;
      s.tokens = Math.min(cap, s.tokens + ((now - s.refilledAt) * cap) / MINUTE_MS);
      s.refilledAt = now;
      if (s.tokens < 1) return { ok: false, reason: 'budget' };
      s.tokens -= 1;
    }
    this.#inFlight += 1;
    s.inFlight += 1;
    const state = s;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
        state.inFlight -= 1;
      },
    };
  }

  /** Forgets rollouts that are no longer active (their state is small, but it should not grow forever). */
  retain(active: Iterable<string>): void {
    const keep = new Set(active);
    for (const [id, s] of this.#rollouts) if (!keep.has(id) && s.inFlight === 0) this.#rollouts.delete(id);
  }
}
