/** The flag source's failures in the log: one warn when a failure starts or changes, a reminder per window, debug between. */
import { describe, expect, it } from 'vitest';
import { flagErrorLogger } from '../../../src/flags/flag-error-log.js';

describe('flagErrorLogger', () => {
  it('warns once per failure, again when it changes or after the window, with how many it skipped', () => {
    let t = 0;
    const warn: unknown[][] = [];
    const debug: unknown[][] = [];
    const log = { warn: (...a: unknown[]) => warn.push(a), debug: (...a: unknown[]) => debug.push(a) } as any;
    const onError = flagErrorLogger(log, { now: () => t, repeatMs: 1000 });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4242'), { stack: 'Error: x\n    at y' });
    for (let i = 0; i < 5; i++, t += 100) onError(refused);
    expect(warn).toHaveLength(1);
    expect(debug).toHaveLength(4);
    expect(warn[0]).toEqual([
      { flagError: 'connect ECONNREFUSED 127.0.0.1:4242' },
      'flag source failing: connect ECONNREFUSED 127.0.0.1:4242 (routing on the last known flags; see /readyz)',
    ]);
    t = 1500;
    onError(refused);
    expect(warn).toHaveLength(2);
    expect(warn[1]![0]).toEqual({ flagError: 'connect ECONNREFUSED 127.0.0.1:4242', repeatsSinceLastWarning: 4 });
    onError('Unleash answered 401');
    expect(warn).toHaveLength(3);
    expect(JSON.stringify(warn)).not.toContain('    at ');
  });
});
