/**
 * Pure mapping from a rollout's flag to Unleash: the feature JSON the client evaluates (the shape
 * of /api/client/features), the Admin API strategy payloads that produce it, and the evaluation
 * context. Both adapters go through here, so the embedded store and a real Unleash server
 * evaluate the very same definition.
 */
import type { Context } from 'unleash-client';
import type { FlagContext, FlagStage, FlagVariant, RolloutFlag, SplitBy } from '../domain/ports/flag-store.js';

export const CANDIDATE = 'candidate';
export const CONTROL = 'control';

/** Context fields we put in `properties`; the SDK's own `environment` is overwritten by the caller's context, so it is never used. */
export const TENANT_FIELD = 'tenantId';
export const ENVIRONMENT_FIELD = 'tenantEnvironment';
export const UNIT_FIELD = 'unitKey';

export type UnleashOperator = 'IN' | 'NOT_IN';

export interface UnleashConstraint {
  contextName: string;
  operator: UnleashOperator;
  values: string[];
  inverted: boolean;
  caseInsensitive: boolean;
}

export interface UnleashStrategyVariant {
  name: typeof CANDIDATE | typeof CONTROL;
  weight: number;
  weightType: 'fix' | 'variable';
  stickiness: string;
}

export interface UnleashStrategy {
  name: 'flexibleRollout';
  parameters: { rollout: string; stickiness: string; groupId: string };
  constraints: UnleashConstraint[];
  variants: UnleashStrategyVariant[];
}

/** One feature as unleash-client reads it from /api/client/features (and as the `flags` table stores it). */
export interface UnleashFeature {
  name: string;
  type: 'release';
  enabled: boolean;
  stale: false;
  impressionData: false;
  strategies: UnleashStrategy[];
  variants: [];
}

/** Body of POST/PUT /api/admin/projects/{p}/features/{f}/environments/{e}/strategies[/{id}]. */
export interface AdminStrategyPayload extends UnleashStrategy {
  /** Which rollout stage this strategy is, so a later write can tell its strategies apart. */
  title: string;
  sortOrder: number;
  disabled: false;
  segments: number[];
}

export function stickinessFor(splitBy: SplitBy): string {
  return splitBy === 'unit' ? UNIT_FIELD : TENANT_FIELD;
}

/**
 * Candidate share in Unleash's per-mille weights. Unleash stores integer weights 0..1000
 * (feature-schema.ts variantsSchema), so the share has a granularity of 0.1 %.
 */
export function candidateWeight(percent: number): number {
  if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
    throw new RangeError(`stage percent must be within 0..100, got ${percent}`);
  }
  return Math.round(percent * 10);
}

/** A stage whose environment or tenant list is empty matches no call, so it gets no strategy. */
function matchesSomething(stage: FlagStage): boolean {
  return stage.environments.length > 0 && (stage.tenants === undefined || stage.tenants.length > 0);
}

function stageStrategy(flagName: string, stage: FlagStage): UnleashStrategy {
  const stickiness = stickinessFor(stage.splitBy);
  const constraint = (contextName: string, operator: UnleashOperator, values: string[]): UnleashConstraint => ({
    contextName,
    operator,
    values: [...values],
    inverted: false,
    caseInsensitive: false,
  });
  const constraints = [constraint(ENVIRONMENT_FIELD, 'IN', stage.environments)];
  if (stage.tenants) constraints.push(constraint(TENANT_FIELD, 'IN', stage.tenants));
  if (stage.excludeTenants?.length) constraints.push(constraint(TENANT_FIELD, 'NOT_IN', stage.excludeTenants));
  const fix = candidateWeight(stage.percent);
  return {
    name: 'flexibleRollout',
    // Rollout 100: the strategy itself admits every matching call; the variants split them.
    // One groupId for every stage, so a key keeps its hash (and arm) as stages are added.
    parameters: { rollout: '100', stickiness, groupId: flagName },
    constraints,
    // Candidate first, with the fixed share: Unleash ignores the weights of all-"variable"
    // variants and recomputes them, and returns variants sorted by name (candidate < control),
    // which is also the order the SDK walks. With fix 1000 the control gets weight 0 and the SDK
    // skips zero-weight variants (variant.ts selectVariantDefinition), so 100 % is all candidate;
    // with fix 0 the candidate is skipped and every call is control.
    variants: [
      { name: CANDIDATE, weight: fix, weightType: 'fix', stickiness },
      { name: CONTROL, weight: 1000 - fix, weightType: 'variable', stickiness },
    ],
  };
}

/**
 * Strategies in evaluation order. The SDK takes the first strategy that matches, and where two
 * stages match the later one decides, so the last stage comes first.
 */
export function toAdminStrategies(flag: RolloutFlag): AdminStrategyPayload[] {
  const out: AdminStrategyPayload[] = [];
  for (let i = flag.stages.length - 1; i >= 0; i--) {
    const stage = flag.stages[i]!;
    if (!matchesSomething(stage)) continue;
    out.push({ ...stageStrategy(flag.name, stage), title: `stage ${i}`, sortOrder: out.length, disabled: false, segments: [] });
  }
  return out;
}

export function toUnleashFeature(flag: RolloutFlag): UnleashFeature {
  const strategies = toAdminStrategies(flag).map(({ name, parameters, constraints, variants }) => ({
    name,
    parameters,
    constraints,
    variants,
  }));
  return {
    name: flag.name,
    type: 'release',
    // With no strategy an enabled feature is "on for everyone" (and Unleash adds a default
    // strategy when such an environment is switched on), so no strategy means switched off.
    enabled: flag.enabled && strategies.length > 0,
    stale: false,
    impressionData: false,
    strategies,
    variants: [],
  };
}

/** The evaluation context. userId is the tenant too, for Unleash's own "default" stickiness and its UI. */
export function toUnleashContext(ctx: FlagContext): Context {
  return {
    userId: ctx.tenant,
    properties: {
      [TENANT_FIELD]: ctx.tenant,
      [ENVIRONMENT_FIELD]: ctx.environment,
      [UNIT_FIELD]: ctx.unitKey,
    },
  };
}

/** The SDK's answer as an arm: anything but an enabled candidate/control variant is 'disabled'. */
export function toFlagVariant(variant: { name?: string; enabled?: boolean; feature_enabled?: boolean } | undefined): FlagVariant {
  if (!variant?.feature_enabled || !variant.enabled) return 'disabled';
  if (variant.name === CANDIDATE) return 'candidate';
  if (variant.name === CONTROL) return 'control';
  return 'disabled';
}

interface LooseStrategy {
  name?: unknown;
  parameters?: Record<string, unknown> | null;
  constraints?: Array<Record<string, unknown>> | null;
  variants?: Array<Record<string, unknown>> | null;
  disabled?: unknown;
}

/**
 * A canonical text of what evaluation depends on (enabled, strategies in order, their
 * parameters, constraints and variant weights), so a definition fetched from Unleash, which adds
 * and drops fields of its own, can be compared with the one this replica wrote.
 * Absent (undefined) means "no such flag" (archived or never created).
 */
export function featureFingerprint(feature: { enabled?: unknown; strategies?: unknown } | undefined): string {
  if (!feature) return 'absent';
  // A switched-off feature evaluates to 'disabled' whatever its strategies say.
  if (feature.enabled !== true) return JSON.stringify({ enabled: false });
  const strategies = (Array.isArray(feature.strategies) ? (feature.strategies as LooseStrategy[]) : [])
    .filter((s) => s.disabled !== true)
    .map((s) => ({
      name: String(s.name),
      parameters: Object.fromEntries(
        Object.entries(s.parameters ?? {})
          .map(([k, v]) => [k, String(v)] as const)
          .sort(([a], [b]) => a.localeCompare(b)),
      ),
      constraints: (s.constraints ?? []).map((c) => ({
        contextName: String(c.contextName),
        operator: String(c.operator),
        values: Array.isArray(c.values) ? (c.values as unknown[]).map(String).sort() : [],
        value: c.value === undefined ? null : String(c.value as string),
        inverted: c.inverted === true,
        caseInsensitive: c.caseInsensitive === true,
      })),
      variants: (s.variants ?? []).map((v) => ({
        name: String(v.name),
        weight: Number(v.weight),
        stickiness: v.stickiness === undefined ? null : String(v.stickiness as string),
      })),
    }));
  return JSON.stringify({ enabled: true, strategies });
}
