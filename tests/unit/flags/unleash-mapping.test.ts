import { describe, expect, it } from 'vitest';
import type { RolloutFlag } from '../../../src/domain/ports/flag-store.js';
import {
  candidateWeight,
  featureFingerprint,
  toAdminStrategies,
  toFlagVariant,
  toUnleashContext,
  toUnleashFeature,
} from '../../../src/flags/unleash-mapping.js';

const flag: RolloutFlag = {
  name: 'rollout-invoice-1',
  enabled: true,
  stages: [
    { environments: ['staging'], tenants: ['acme', 'globex'], percent: 100, splitBy: 'tenant' },
    { environments: ['prod'], tenants: ['acme'], excludeTenants: ['initech'], percent: 10, splitBy: 'unit' },
  ],
};

describe('toUnleashFeature', () => {
  it('maps each stage to a flexibleRollout strategy, later stages first', () => {
    expect(toUnleashFeature(flag)).toEqual({
      name: 'rollout-invoice-1',
      type: 'release',
      enabled: true,
      stale: false,
      impressionData: false,
      variants: [],
      strategies: [
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', stickiness: 'unitKey', groupId: 'rollout-invoice-1' },
          constraints: [
            { contextName: 'tenantEnvironment', operator: 'IN', values: ['prod'], inverted: false, caseInsensitive: false },
            { contextName: 'tenantId', operator: 'IN', values: ['acme'], inverted: false, caseInsensitive: false },
            { contextName: 'tenantId', operator: 'NOT_IN', values: ['initech'], inverted: false, caseInsensitive: false },
          ],
          variants: [
            { name: 'candidate', weight: 100, weightType: 'fix', stickiness: 'unitKey' },
            { name: 'control', weight: 900, weightType: 'variable', stickiness: 'unitKey' },
          ],
        },
        {
          name: 'flexibleRollout',
          parameters: { rollout: '100', stickiness: 'tenantId', groupId: 'rollout-invoice-1' },
          constraints: [
            { contextName: 'tenantEnvironment', operator: 'IN', values: ['staging'], inverted: false, caseInsensitive: false },
            { contextName: 'tenantId', operator: 'IN', values: ['acme', 'globex'], inverted: false, caseInsensitive: false },
          ],
          variants: [
            { name: 'candidate', weight: 1000, weightType: 'fix', stickiness: 'tenantId' },
            { name: 'control', weight: 0, weightType: 'variable', stickiness: 'tenantId' },
          ],
        },
      ],
    });
  });

  it('leaves out the tenant constraint when every tenant matches', () => {
    const f = toUnleashFeature({ name: 'f', enabled: true, stages: [{ environments: ['prod'], percent: 50, splitBy: 'tenant' }] });
    expect(f.strategies[0]!.constraints.map((c) => c.contextName)).toEqual(['tenantEnvironment']);
  });

  it('is switched off when the flag is disabled or no stage can match', () => {
    expect(toUnleashFeature({ ...flag, enabled: false }).enabled).toBe(false);
    expect(toUnleashFeature({ name: 'f', enabled: true, stages: [] }).enabled).toBe(false);
    const none = toUnleashFeature({
      name: 'f',
      enabled: true,
      stages: [{ environments: ['prod'], tenants: [], percent: 50, splitBy: 'tenant' }],
    });
    expect(none.strategies).toEqual([]);
    expect(none.enabled).toBe(false);
  });
});

describe('toAdminStrategies', () => {
  it('titles strategies by stage and orders them for evaluation', () => {
    const s = toAdminStrategies(flag);
    expect(s.map((x) => [x.title, x.sortOrder, x.disabled])).toEqual([
      ['stage 1', 0, false],
      ['stage 0', 1, false],
    ]);
    expect(s[0]!.segments).toEqual([]);
  });
});

describe('candidateWeight', () => {
  it('is per mille, 0 and 1000 at the ends', () => {
    expect(candidateWeight(0)).toBe(0);
    expect(candidateWeight(100)).toBe(1000);
    expect(candidateWeight(12.5)).toBe(125);
    expect(candidateWeight(33.333)).toBe(333);
  });
  it('rejects shares outside 0..100', () => {
    expect(() => candidateWeight(-1)).toThrow(RangeError);
    expect(() => candidateWeight(101)).toThrow(RangeError);
    expect(() => candidateWeight(Number.NaN)).toThrow(RangeError);
  });
});

describe('toUnleashContext', () => {
  it('puts tenant, environment and unit key in properties, never in the SDK environment', () => {
    const c = toUnleashContext({ tenant: 'acme', environment: 'prod', unitKey: 'acme/doc-1' });
    expect(c).toEqual({ userId: 'acme', properties: { tenantId: 'acme', tenantEnvironment: 'prod', unitKey: 'acme/doc-1' } });
    expect(c.environment).toBeUndefined();
  });
});

describe('toFlagVariant', () => {
  it('only an enabled candidate or control is an arm', () => {
    expect(toFlagVariant({ name: 'candidate', enabled: true, feature_enabled: true })).toBe('candidate');
    expect(toFlagVariant({ name: 'control', enabled: true, feature_enabled: true })).toBe('control');
    expect(toFlagVariant({ name: 'disabled', enabled: false, feature_enabled: true })).toBe('disabled');
    expect(toFlagVariant({ name: 'candidate', enabled: true, feature_enabled: false })).toBe('disabled');
    expect(toFlagVariant({ name: 'other', enabled: true, feature_enabled: true })).toBe('disabled');
    expect(toFlagVariant(undefined)).toBe('disabled');
  });
});

describe('featureFingerprint', () => {
  it('matches what Unleash serves back for the same definition', () => {
    const mine = toUnleashFeature(flag);
    // /api/client/features drops inverted/caseInsensitive when false and adds fields of its own.
    const served = {
      ...mine,
      project: 'default',
      description: null,
      strategies: mine.strategies.map((s) => ({
        ...s,
        constraints: s.constraints.map(({ contextName, operator, values }) => ({ values: [...values].reverse(), operator, contextName })),
        variants: s.variants.map((v) => ({ ...v, weightType: 'variable' })),
      })),
    };
    expect(featureFingerprint(served)).toBe(featureFingerprint(mine));
  });

  it('differs when a weight, an order or the switch differs', () => {
    const mine = toUnleashFeature(flag);
    const other = toUnleashFeature({ ...flag, stages: flag.stages.map((s, i) => (i === 1 ? { ...s, percent: 20 } : s)) });
    expect(featureFingerprint(other)).not.toBe(featureFingerprint(mine));
    expect(featureFingerprint({ ...mine, strategies: [...mine.strategies].reverse() })).not.toBe(featureFingerprint(mine));
    expect(featureFingerprint({ ...mine, enabled: false })).not.toBe(featureFingerprint(mine));
    expect(featureFingerprint(undefined)).toBe('absent');
  });

  it('treats every switched-off definition alike', () => {
    expect(featureFingerprint({ enabled: false, strategies: [] })).toBe(featureFingerprint(toUnleashFeature({ ...flag, enabled: false })));
  });
});
