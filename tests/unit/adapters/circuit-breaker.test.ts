import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitBreakerOptions } from '../../../src/adapters/circuit-breaker.js';
import { UpstreamError } from '../../../src/domain/model/errors.js';

function breaker(options: Partial<CircuitBreakerOptions> = {}) {
  const clock = { t: 1_000_000 };
  const b = new CircuitBreaker({
    consecutiveFailures: 3,
    failureRatio: 0.5,
    minCalls: 10,
    windowMs: 10_000,
    coolDownMs: 5_000,
    now: () => clock.t,
    ...options,
  });
  return { b, clock };
}

function refused(b: CircuitBreaker): UpstreamError {
  try {
    b.acquire();
  } catch (err) {
    expect(err).toBeInstanceOf(UpstreamError);
    return err as UpstreamError;
  }
  throw new Error('expected the breaker to refuse');
}

const call = (b: CircuitBreaker, ok: boolean) => {
  b.acquire();
  if (ok) b.success();
  else b.failure();
};

describe('CircuitBreaker', () => {
  it('stays closed below the consecutive-failure limit, and a success resets the run', () => {
    const { b } = breaker();
    call(b, false);
    call(b, false);
    call(b, true);
    call(b, false);
    call(b, false);
    expect(b.state).toBe('closed');
  });

  it('opens after N failures in a row and refuses at once with circuit_open and a retry hint', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) call(b, false);
    expect(b.state).toBe('open');
    clock.t += 2_000;
    const err = refused(b);
    expect(err).toMatchObject({ kind: 'circuit_open', code: 'upstream_unavailable', statusCode: 502, details: { retryAfterMs: 3_000 } });
  });

  it('goes half-open after the cool-down, lets one trial through and closes on its success', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) call(b, false);
    clock.t += 5_000;
    expect(b.state).toBe('half_open');
    b.acquire();
    refused(b); // only one trial at a time
    b.success();
    expect(b.state).toBe('closed');
    call(b, false);
    call(b, false);
    expect(b.state).toBe('closed'); // the failure run started again from zero
  });

  it('re-opens for a full cool-down when the trial fails', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) call(b, false);
    clock.t += 5_000;
    b.acquire();
    b.failure();
    expect(b.state).toBe('open');
    clock.t += 4_999;
    refused(b);
    clock.t += 1;
    expect(b.state).toBe('half_open');
  });

  it('lets another trial through when the trial ended without a verdict (released)', () => {
    const { b, clock } = breaker();
    for (let i = 0; i < 3; i++) call(b, false);
    clock.t += 5_000;
    b.acquire();
    b.release();
    expect(b.state).toBe('half_open');
    b.acquire();
    b.success();
    expect(b.state).toBe('closed');
  });

  it('opens on the failure ratio in the window once there are enough calls', () => {
    const { b } = breaker({ consecutiveFailures: 100 });
    // Alternating: never 2 failures in a row, but half the calls fail.
    for (let i = 0; i < 9; i++) call(b, i % 2 === 1);
    expect(b.state).toBe('closed'); // 9 calls < minCalls
    call(b, false);
    expect(b.state).toBe('open'); // 10 calls, 5 failures
  });

  it('forgets calls older than the window', () => {
    const { b, clock } = breaker({ consecutiveFailures: 100 });
    for (let i = 0; i < 8; i++) call(b, false);
    clock.t += 11_000; // those 8 failures leave the window
    for (let i = 0; i < 8; i++) call(b, true);
    call(b, false);
    call(b, false);
    expect(b.state).toBe('closed'); // 10 calls in the window, 2 failures
  });

  it('ignores outcomes of slow calls that finish while open', () => {
    const { b, clock } = breaker();
    b.acquire(); // a slow call starts while closed
    for (let i = 0; i < 3; i++) call(b, false);
    b.success(); // and succeeds after the circuit opened
    expect(b.state).toBe('open');
    clock.t += 5_000;
    expect(b.state).toBe('half_open');
  });

  it('uses Date.now when no clock is given', () => {
    const b = new CircuitBreaker({ consecutiveFailures: 1, coolDownMs: 60_000 });
    call(b, false);
    expect(refused(b).details).toMatchObject({ retryAfterMs: expect.any(Number) });
  });
});
