/** The paired comparison of shadow runs (README "Shadow runs"): response shape. */
import { z } from 'zod';

const interval = z.tuple([z.number(), z.number()]).readonly();

const pairedFields = {
  pairs: z.number().describe('Reviewed control runs whose shadow call produced an output.'),
  bothOk: z.number(),
  onlyControlOverridden: z.number(),
  onlyCandidateOverridden: z.number().describe("The human's record would have overridden the candidate, and the control was kept."),
  bothOverridden: z.number(),
  controlOverrideRate: z.number().describe("On the pairs: the control's real override rate on these calls."),
  candidateOverrideRate: z.number().describe("On the pairs: how often the human's record differs from the candidate's output."),
  difference: z.object({
    estimate: z.number().describe('candidate − control.'),
    ci: interval.describe("Newcombe's square-and-add interval for paired proportions (1998), at 1 − alpha."),
    alwaysValidCI: interval.describe('A confidence sequence (betting, Waudby-Smith & Ramdas 2023): valid however often it is looked at.'),
    alwaysValidPValue: z.number().describe("McNemar's test in sequential form (Beta-binomial mixture over the discordant pairs)."),
    method: z.string(),
  }),
  mcnemarPValue: z.number().describe("McNemar's exact two-sided p-value (fixed horizon)."),
};

export const pairedComparisonSchema = z.object(pairedFields);

export const shadowReportSchema = z
  .object({
    rolloutId: z.string(),
    chain: z.string(),
    control: z.string(),
    candidate: z.string(),
    ...pairedFields,
    byField: z.record(z.string(), pairedComparisonSchema).describe('Per top-level output field, over every pair.'),
    byTenant: z.array(z.object({ tenant: z.string(), ...pairedFields })),
    byStage: z.array(z.object({ stage: z.number().nullable().describe('null: stage-free shadow mode.'), ...pairedFields })),
    shadowRuns: z.number().describe('Shadow calls that finished, with an output or an error.'),
    candidateErrors: z.number().describe('Shadow calls that failed; never in the pairs.'),
    skipped: z
      .object({ budget: z.number(), concurrency: z.number() })
      .describe('Shadow calls skipped by maxPerMinute (budget) or maxConcurrent / SHADOW_MAX_CONCURRENT (concurrency).'),
    cost: z.object({ promptTokens: z.number(), completionTokens: z.number() }).describe('Model tokens the shadow calls used.'),
    warnings: z
      .array(z.string())
      .describe("Always shadow_anchoring: the human saw the control's output, so these scores lean against the candidate."),
  })
  .describe(
    "Each reviewed control run with a shadow output is a pair: did the human override the control, and would the human's record have overridden the candidate?",
  );
