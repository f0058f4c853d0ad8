import { describe, expect, it } from 'vitest';
import { shadowSpecSchema } from '../../../src/domain/model/shadow-spec.js';
import {
  inShadowSample,
  isStageFreeShadow,
  selectShadow,
  shadowKey,
  type ShadowCall,
  type ShadowRollout,
} from '../../../src/domain/routing/shadow-selection.js';

const rollout = (over: Partial<ShadowRollout> & { shadow?: ShadowRollout['spec']['shadow']; stages?: unknown[] } = {}): ShadowRollout => ({
  id: over.id ?? '0d1c7a52-3a57-4b2c-9a53-2f0f5b8a1c11',
  status: over.status ?? 'running',
  spec: { stages: over.stages ?? [{}], shadow: 'shadow' in over ? over.shadow : { percent: 100 } },
});

const call = (over: Partial<ShadowCall> = {}): ShadowCall => ({
  tenant: 'acme',
  environment: 'prod',
  runId: 'r1',
  assignment: { variant: 'control', rolloutId: '0d1c7a52-3a57-4b2c-9a53-2f0f5b8a1c11', assignmentKey: 'acme' },
  ...over,
});

describe('which calls a rollout mirrors', () => {
  it('mirrors control-served calls of its active stages on their assignment key', () => {
    expect(shadowKey(rollout(), call())).toBe('acme');
    expect(shadowKey(rollout(), call({ assignment: { variant: 'control', rolloutId: rollout().id, assignmentKey: 'acme/doc-1' } }))).toBe(
      'acme/doc-1',
    );
    // The candidate's own calls, other rollouts' calls and traffic outside the stages are not mirrored.
    expect(
      shadowKey(rollout(), call({ assignment: { variant: 'candidate', rolloutId: rollout().id, assignmentKey: 'acme' } })),
    ).toBeUndefined();
    expect(shadowKey(rollout(), call({ assignment: { variant: 'control', rolloutId: 'other', assignmentKey: 'acme' } }))).toBeUndefined();
    expect(shadowKey(rollout(), call({ assignment: { variant: 'default' } }))).toBeUndefined();
    // Paused, rolled back, promoted: the rollout serves nothing.
    for (const status of ['paused', 'rolled_back', 'promoted']) expect(shadowKey(rollout({ status }), call())).toBeUndefined();
    expect(shadowKey(rollout({ shadow: undefined }), call())).toBeUndefined();
  });

  it('in stage-free shadow mode (gated, or no stages) mirrors every matching call, keyed by unit or run', () => {
    expect(isStageFreeShadow({ status: 'gated', spec: { stages: [{}] } })).toBe(true);
    expect(isStageFreeShadow({ status: 'running', spec: { stages: [] } })).toBe(true);
    expect(isStageFreeShadow({ status: 'running', spec: { stages: [{}] } })).toBe(false);
    const dflt = { variant: 'default' as const };
    expect(shadowKey(rollout({ status: 'gated' }), call({ assignment: dflt, unit: 'doc-7' }))).toBe('acme/doc-7');
    expect(shadowKey(rollout({ stages: [] }), call({ assignment: dflt, runId: 'run-9' }))).toBe('acme/run-9');
    expect(shadowKey(rollout({ status: 'paused', stages: [] }), call({ assignment: dflt }))).toBeUndefined();
  });

  it('applies the environment and tenant filters', () => {
    const r = rollout({ shadow: { percent: 100, environments: ['staging'], tenants: ['globex'] } });
    expect(shadowKey(r, call())).toBeUndefined();
    expect(shadowKey(r, call({ environment: 'staging' }))).toBeUndefined();
    expect(shadowKey(r, call({ environment: 'staging', tenant: 'globex' }))).toBe('acme');
  });

  it('samples keys by a salted hash: deterministic, near the percent, and independent between rollouts', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `tenant-${i}`);
    const chosen = keys.filter((k) => inShadowSample('rollout-a', k, 10));
    // Binomial(20000, 0.1): 2000 ± 42; ±200 is far outside chance.
    expect(chosen.length).toBeGreaterThan(1800);
    expect(chosen.length).toBeLessThan(2200);
    expect(keys.filter((k) => inShadowSample('rollout-a', k, 10))).toEqual(chosen);
    const other = new Set(keys.filter((k) => inShadowSample('rollout-b', k, 10)));
    const overlap = chosen.filter((k) => other.has(k)).length;
    // Independent samples overlap on about 1% of keys (200 ± 14).
    expect(overlap).toBeGreaterThan(120);
    expect(overlap).toBeLessThan(280);
    expect(keys.every((k) => inShadowSample('x', k, 100))).toBe(true);
    // A key's calls are all shadowed or none.
    const r = rollout({ shadow: { percent: 30 } });
    const decisions = new Set(Array.from({ length: 20 }, (_, i) => selectShadow(r, call({ runId: `r${i}` })) !== undefined));
    expect(decisions.size).toBe(1);
  });

  it('validates the shadow settings', () => {
    expect(shadowSpecSchema.safeParse({ percent: 10, maxPerMinute: 600, maxConcurrent: 8 }).success).toBe(true);
    expect(shadowSpecSchema.safeParse({ percent: 0 }).success).toBe(false);
    expect(shadowSpecSchema.safeParse({ percent: 101 }).success).toBe(false);
    expect(shadowSpecSchema.safeParse({ percent: 10, extra: 1 }).success).toBe(false);
    expect(shadowSpecSchema.safeParse({ percent: 10, tenants: ['bad id!'] }).success).toBe(false);
  });
});
