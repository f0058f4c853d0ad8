/**
 * A per-version circuit breaker (Nygard, "Release It!", ch. 5; the states as in opossum and
 * resilience4j). Closed: calls go through; it opens after `consecutiveFailures` failures in a row,
 * or when at least `minCalls` calls in the last `windowMs` failed at `failureRatio` or more.
 * Open: calls are refused at once (UpstreamError 'circuit_open') for `coolDownMs`. Then half-open:
 * one trial call goes through while the rest are refused; its success closes the circuit, its
 * failure opens it for another cool-down.
 *
 * Written here because no breaker library is installed (opossum would be the choice); it is small
 * and its clock is injected (DESIGN.md pattern 7). The window is a ring of 10 buckets, so counting
 * a call is O(1) and allocates nothing.
 */
import { UpstreamError } from '../domain/model/errors.js';

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  consecutiveFailures: number;
  failureRatio: number;
  minCalls: number;
  windowMs: number;
  coolDownMs: number;
  now: () => number;
}

export const DEFAULT_BREAKER_OPTIONS: Omit<CircuitBreakerOptions, 'now'> = {
  consecutiveFailures: 5,
  failureRatio: 0.5,
  minCalls: 20,
  windowMs: 10_000,
  coolDownMs: 15_000,
};

const BUCKETS = 10;

export class CircuitBreaker {
  readonly #o: CircuitBreakerOptions;
  readonly #bucketMs: number;
  readonly #epochs = new Float64Array(BUCKETS).fill(-1);
  readonly #calls = new Uint32Array(BUCKETS);
  readonly #failures = new Uint32Array(BUCKETS);
  #state: CircuitState = 'closed';
  #openedAt = 0;
  #inARow = 0;
  #trialInFlight = false;

  constructor(options: Partial<CircuitBreakerOptions> = {}) {
    this.#o = { ...DEFAULT_BREAKER_OPTIONS, now: Date.now, ...options };
    this.#bucketMs = Math.max(1, this.#o.windowMs / BUCKETS);
  }

  /** The state a call arriving now would meet. */
  get state(): CircuitState {
    return this.#state === 'open' && this.#coolDownOver() ? 'half_open' : this.#state;
  }

  /** Lets a call through, or throws UpstreamError('circuit_open'). Report its outcome after. */
  acquire(): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'open') {
      if (!this.#coolDownOver()) throw this.#refusal();
      this.#state = 'half_open';
    }
    if (this.#trialInFlight) throw this.#refusal();
    this.#trialInFlight = true;
  }

  success(): void {
    if (this.#state === 'half_open') this.#close();
    else if (this.#state === 'closed') {
      this.#inARow = 0;
      this.#count(false);
    }
    // Open: a slow call that started before the circuit opened proves little; the trial decides.
  }

  failure(): void {
    if (this.#state === 'half_open') return this.#open();
    if (this.#state !== 'closed') return;
    this.#inARow += 1;
    this.#count(true);
    if (this.#inARow >= this.#o.consecutiveFailures || this.#ratioTripped()) this.#open();
  }

  /** The call ended in a way that says nothing about the upstream (cancelled, bad input). */
  release(): void {
    if (this.#state === 'half_open') this.#trialInFlight = false;
  }

  #coolDownOver(): boolean {
    return this.#o.now() - this.#openedAt >= this.#o.coolDownMs;
  }

  #refusal(): UpstreamError {
    const retryAfterMs = Math.max(0, Math.ceil(this.#openedAt + this.#o.coolDownMs - this.#o.now()));
    return new UpstreamError('circuit_open', 'This chain version is failing; calls to it are paused for a while.', { retryAfterMs });
  }

  #open(): void {
    this.#state = 'open';
    this.#openedAt = this.#o.now();
    this.#trialInFlight = false;
  }

  #close(): void {
    this.#state = 'closed';
    this.#trialInFlight = false;
    this.#inARow = 0;
    this.#epochs.fill(-1);
  }

  #count(failed: boolean): void {
    const epoch = Math.floor(this.#o.now() / this.#bucketMs);
    const i = epoch % BUCKETS;
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch;
      this.#calls[i] = 0;
      this.#failures[i] = 0;
    }
    this.#calls[i]! += 1;
    if (failed) this.#failures[i]! += 1;
  }

  #ratioTripped(): boolean {
    const oldest = Math.floor(this.#o.now() / this.#bucketMs) - BUCKETS;
    let calls = 0;
    let failures = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#epochs[i]! > oldest) {
        calls += this.#calls[i]!;
        failures += this.#failures[i]!;
      }
    }
    return calls >= this.#o.minCalls && failures >= this.#o.failureRatio * calls;
  }
}
