/** The rollout spec's own rules: a scope's percent may only grow from stage to stage (assignment stays sticky). */
import { describe, expect, it } from 'vitest';
import { rolloutSpecSchema, type RolloutSpecInput } from '../../../src/domain/model/rollout-spec.js';

const spec = (stages: RolloutSpecInput['stages']) => rolloutSpecSchema.safeParse({ chain: 'c', control: 'v1', candidate: 'v2', stages });

describe('rollout spec: stages', () => {
  it('refuses a later stage that gives the same calls a lower percent, naming both stages', () => {
    const r = spec([
      { environments: ['prod'], percent: 50, splitBy: 'unit' },
      { environments: ['prod'], percent: 10, splitBy: 'unit' },
    ]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({
      path: ['stages', 1, 'percent'],
      message: expect.stringContaining('stage 1 gives the calls of stage 0 a lower percent (10 < 50)'),
    });
    // The same scope however its lists are ordered.
    expect(
      spec([
        { environments: ['prod', 'staging'], tenants: ['a', 'b'], percent: 20 },
        { environments: ['staging', 'prod'], tenants: ['b', 'a'], percent: 5 },
      ]).success,
    ).toBe(false);
  });

  it('takes growing percents, and lower ones for other calls (another environment, tenants or split)', () => {
    const ok = [
      [
        { environments: ['prod'], percent: 10 },
        { environments: ['prod'], percent: 50 },
        { environments: ['prod'], percent: 50 },
      ],
      [
        { environments: ['staging'], tenants: ['acme'], percent: 100 },
        { environments: ['prod'], percent: 10 },
      ],
      [
        { environments: ['prod'], tenants: ['acme'], percent: 50 },
        { environments: ['prod'], percent: 10 },
      ],
      [
        { environments: ['prod'], percent: 50, splitBy: 'tenant' },
        { environments: ['prod'], percent: 10, splitBy: 'unit' },
      ],
    ] as RolloutSpecInput['stages'][];
    for (const stages of ok) expect(spec(stages).success, JSON.stringify(stages)).toBe(true);
  });
});
