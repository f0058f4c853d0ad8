import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../../src/http/plugins/auth-failures.js';

describe('AuthFailureLimiter', () => {
  it('blocks an address after perMinute failures until its window ends, and only that address', () => {
    let now = 1_000_000;
    const l = new AuthFailureLimiter({ perMinute: 3, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(l.retryAfter('a')).toBe(0);
      l.failed('a');
    }
    expect(l.retryAfter('a')).toBe(60);
    expect(l.retryAfter('b')).toBe(0);
    now += 59_001;
    expect(l.retryAfter('a')).toBe(1);
    now += 1_000;
    expect(l.retryAfter('a')).toBe(0);
    l.failed('a');
    expect(l.retryAfter('a')).toBe(0);
  });

  it('remembers a bounded number of addresses, dropping the oldest windows first', () => {
    let now = 0;
    const l = new AuthFailureLimiter({ perMinute: 1, maxTracked: 100, now: () => now });
    for (let i = 0; i < 10_000; i++) {
      now++;
      l.failed(`10.0.${i >> 8}.${i & 255}`);
    }
    expect(l.tracked).toBe(100);
    expect(l.retryAfter('10.0.39.15')).toBeGreaterThan(0); // the newest (i = 9999) is kept
    expect(l.retryAfter('10.0.0.0')).toBe(0);
  });

  it('is off at 0', () => {
    const l = new AuthFailureLimiter({ perMinute: 0 });
    for (let i = 0; i < 100; i++) l.failed('a');
    expect(l.retryAfter('a')).toBe(0);
    expect(l.tracked).toBe(0);
  });
});
