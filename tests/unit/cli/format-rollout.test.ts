/** The CLI's one-line rollout (create, status, and every lifecycle command print it). */
import { describe, expect, it } from 'vitest';
import { formatRollout, formatRollouts } from '../../../src/cli/format.js';

const rollout = (over: Record<string, unknown>) => ({
  id: '7d4c6a52-0000-4000-8000-000000000001',
  chain: 'invoices',
  control: 'v1',
  candidate: 'v2',
  status: 'running',
  stage: 0,
  stages: [{ environments: ['prod'], percent: 10 }],
  ...over,
});

describe('formatRollout', () => {
  it('counts stages from 1, as the dashboard does', () => {
    expect(formatRollout(rollout({ stage: 1, stages: [{}, {}] }))).toBe(
      '7d4c6a52-0000-4000-8000-000000000001  invoices  v1 → v2  RUNNING  stage 2/2',
    );
  });

  it('says a shadow-only rollout moves no traffic instead of "stage 1/0"', () => {
    const line = formatRollout(rollout({ stages: [] }));
    expect(line).toBe('7d4c6a52-0000-4000-8000-000000000001  invoices  v1 → v2  RUNNING  shadow only: no traffic moves');
    expect(line).not.toContain('1/0');
    expect(formatRollout(rollout({ stages: [], status: 'gated' }))).toMatch(/ {2}GATED {2}shadow only: no traffic moves$/);
    expect(formatRollouts([rollout({ stages: [] })])).toContain('shadow only: no traffic moves');
  });
});
