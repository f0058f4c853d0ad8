/** The comparison and the timeseries of a rollout: query and response shapes (API.md, "The comparison"). */
import { z } from 'zod';
import { GUARDRAIL_LIMITS, GUARDRAIL_METRIC_NAMES, GUARDRAIL_QUANTITIES } from '../../domain/guardrails/guardrail-metrics.js';
import { ARM_COUNT_FIELDS, describeCountField, TIMESERIES_COUNT_FIELDS } from '../../domain/metrics/counted-metrics.js';
import { idSchema, isoDateSchema } from './common.js';
import { shadowReportSchema } from './shadow.js';

export const comparisonQuery = z
  .strictObject({
    from: isoDateSchema.optional().describe('Inclusive; widened down to the hour (the aggregates are hourly).'),
    to: isoDateSchema.optional().describe('Exclusive; widened up to the hour.'),
    tenant: idSchema.optional().describe("Only this tenant's runs (and, for a baseline, its own earlier traffic)."),
    environment: idSchema
      .optional()
      .describe("Only this environment's runs: one of the chain's environments (else 400 unknown_environment)."),
    stage: z.coerce.number().int().min(0).max(19).optional().describe('Only this stage (0-based).'),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { path: ['to'], message: 'must be after from' });

export const timeseriesQuery = z
  .strictObject({
    bucket: z.enum(['minute', 'hour', 'day']).default('hour'),
    from: isoDateSchema.optional().describe('Inclusive; aligned down to the bucket.'),
    to: isoDateSchema.optional().describe('Exclusive; aligned up to the bucket.'),
  })
  .refine((q) => q.from === undefined || q.to === undefined || q.from < q.to, { path: ['to'], message: 'must be after from' });

const interval = z.tuple([z.number(), z.number()]).readonly();

/** The counted metrics' plain count fields (src/domain/metrics/counted-metrics.ts), described by the table. */
function countFields<F extends string>(fields: readonly F[]): { [K in F]: z.ZodNumber } {
  return Object.fromEntries(fields.map((f) => [f, z.number().describe(describeCountField(f))])) as { [K in F]: z.ZodNumber };
}

const armSchema = z.object({
  version: z.string(),
  ...countFields(ARM_COUNT_FIELDS),
  errorRate: z.number().describe('errors / runs.'),
  reviewRate: z.number().describe('reviewed / (runs − errors).'),
  overrideRate: z.number().describe('overridden / reviewed.'),
  overrideRateCI: interval.describe('95% Wilson score interval.'),
  fieldOverrideRates: z.record(z.string(), z.number()).describe('Per top-level field: reviewed runs where it was changed / reviewed.'),
  fieldOverrides: z.record(z.string(), z.number()),
  latencyMs: z
    .object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() })
    .describe('From a log-spaced histogram, within 2% of the exact percentile; null without runs.'),
  tokensPerRun: z.object({ prompt: z.number(), completion: z.number(), total: z.number(), runs: z.number() }).nullable(),
});

const differenceSchema = z.object({
  estimate: z.number().describe('candidate − control.'),
  ci: interval,
  pValue: z.number(),
  alwaysValidCI: interval,
  alwaysValidPValue: z.number(),
  method: z.string(),
  standardError: z.number().optional(),
  strata: z.number().optional(),
});

const simpleDifferenceSchema = z.object({ estimate: z.number(), ci: interval, pValue: z.number(), method: z.string() });

const srmSchema = z.object({
  expectedCandidateShare: z.number(),
  observedCandidateShare: z.number(),
  pValue: z
    .number()
    .describe('Always-valid p-value of the sequential per-stage test (beta-binomial mixture e-process): valid under continual checking.'),
  mismatch: z.boolean().describe('pValue ≤ 0.001'),
  exactPValue: z.number().describe('Fixed-sample exact binomial p-value of the most extreme stage (display only).'),
  method: z.string(),
  chiSquare: z.number().describe('Chi-square statistic of the keys per arm (display only).'),
  degreesOfFreedom: z.number(),
  keys: z.object({ control: z.number(), candidate: z.number() }).describe('Distinct assignment keys (tenants or units) per arm.'),
  keysInBothArms: z.number().describe('Assignment keys seen in both arms of one stage: must be 0.'),
});

const reviewRateImbalanceSchema = z
  .object({
    imbalance: z.boolean(),
    byStage: z.array(z.object({ stage: z.number(), pValue: z.number() })),
    method: z.string(),
  })
  .describe('Reviewed / answered runs per arm within each randomized stage, by a test; flagged at 0.001 shared by the stages.');

const verdictSchema = z.enum(['insufficient_data', 'candidate_better', 'candidate_worse', 'no_significant_difference']);
const arms = z.object({ control: armSchema, candidate: armSchema });
const breakdown = { arms, difference: z.object({ overrideRate: simpleDifferenceSchema, errorRate: simpleDifferenceSchema }) };

export const guardrailCheckSchema = z.object({
  metric: z.enum(GUARDRAIL_METRIC_NAMES),
  limit: z.enum(GUARDRAIL_LIMITS),
  quantity: z.enum(GUARDRAIL_QUANTITIES),
  threshold: z
    .number()
    .describe(
      "For latency_p95_ms max: 0.05, the share of runs slower than maxMs that breaches; for its maxIncrease: ms over the control's p95.",
    ),
  bound: z.number().nullable().describe('One-sided always-valid lower bound; breached when above threshold.'),
  upperBound: z.number().nullable(),
  estimate: z.number().nullable(),
  samples: z.number(),
  samplesByArm: z.object({ control: z.number().nullable(), candidate: z.number() }),
  minSamples: z.number(),
  status: z
    .enum(['waiting', 'holding', 'breached', 'unevaluable'])
    .describe('unevaluable: a relative limit whose candidate has minSamples while the control has no data.'),
  alpha: z.number().describe('The level Holm tested this check at (a share of guardrailAlpha).'),
  controlArm: z.enum(['randomized', 'baseline']),
  method: z.string().describe('The confidence sequence the bounds come from, with its tuning.'),
  maxMs: z.number().optional(),
  tenants: z
    .object({ control: z.number(), candidate: z.number() })
    .optional()
    .describe('Tenant splits: distinct tenants per arm; relative limits wait under 20.'),
});

const stageComparisonSchema = z.object({
  stage: z.number(),
  environments: z.array(z.string()),
  percent: z.number(),
  splitBy: z.enum(['tenant', 'unit']),
  startedAt: z.string().nullable(),
  controlArm: z.enum(['randomized', 'baseline']),
  analysisUnit: z.enum(['run', 'tenant']),
  arms,
  difference: z.object({ overrideRate: differenceSchema, errorRate: differenceSchema }),
  srm: srmSchema,
  verdict: verdictSchema,
});

export const comparisonSchema = z
  .object({
    rolloutId: z.string(),
    chain: z.string(),
    window: z.object({
      from: z.string(),
      to: z.string(),
      granularity: z
        .enum(['hour', 'rollout'])
        .describe("'rollout': no from/to, every run of the rollout; 'hour': the hours in [from, to)."),
    }),
    analysisUnit: z.enum(['run', 'tenant']),
    controlArm: z.enum(['randomized', 'baseline']),
    baseline: z.looseObject({ kind: z.enum(['same_tenants_before', 'other_tenants_concurrent']) }).optional(),
    warnings: z.array(z.string()),
    alpha: z.number(),
    countFields: z.array(z.enum(ARM_COUNT_FIELDS)).describe('The plain count fields of each arm (runs, errors, ...), in a fixed order.'),
    arms,
    difference: z.object({ overrideRate: differenceSchema, errorRate: differenceSchema }),
    byStage: z.array(stageComparisonSchema),
    byTenant: z.array(z.object({ tenant: z.string(), ...breakdown })),
    byEnvironment: z.array(z.object({ environment: z.string(), ...breakdown })),
    srm: srmSchema,
    reviewRateImbalance: reviewRateImbalanceSchema,
    guardrails: z.array(guardrailCheckSchema),
    verdict: verdictSchema,
    shadow: shadowReportSchema
      .optional()
      .describe('With `shadow` set: the paired comparison of its shadow runs (GET /v1/rollouts/{id}/shadow).'),
  })
  .describe('A rollout\'s control and candidate arms compared; see the contract ("The comparison").');

export const timeseriesSchema = z.object({
  bucket: z.enum(['minute', 'hour', 'day']),
  from: z.string().nullable(),
  to: z.string().nullable(),
  points: z.array(
    z.object({
      t: z.string().describe('Start of the bucket (UTC).'),
      arm: z.enum(['control', 'candidate']),
      ...countFields(TIMESERIES_COUNT_FIELDS),
      latencyP95Ms: z.number().nullable(),
    }),
  ),
});
