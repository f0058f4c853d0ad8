/** Datasets and replays: request and response shapes (the case and replay request are the domain's). */
import { z } from 'zod';
import { MAX_DATASET_CASES, uploadedCaseSchema, type Dataset, type DatasetCase } from '../../domain/model/dataset.js';
import { REPLAY_STATUSES, type Replay, type ReplayCaseResult, type ReplayResult } from '../../domain/model/replay.js';
import type { PairedCell, PairedComparison } from '../../domain/replay/paired-comparison.js';
import { idSchema, isoDateSchema } from './common.js';

export const datasetParams = z.object({ id: z.uuid('must be a dataset id (UUID)') });
export const replayParams = z.object({ id: z.uuid('must be a replay id (UUID)') });
export const compareParams = z.object({ a: z.uuid('must be a replay id (UUID)'), b: z.uuid('must be a replay id (UUID)') });

export const datasetFilterBody = z
  .strictObject({
    environments: z.array(idSchema).min(1).max(50).optional(),
    tenants: z.array(idSchema).min(1).max(10_000).optional(),
    from: isoDateSchema.optional().describe('Runs created at or after (ISO 8601).'),
    to: isoDateSchema.optional().describe('Runs created before (ISO 8601).'),
    overriddenOnly: z.boolean().default(false).describe('Only runs the human changed.'),
    limit: z.int().min(1).max(MAX_DATASET_CASES).default(100),
    sample: z.enum(['latest', 'random']).default('latest'),
    seed: z
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional()
      .describe('For sample "random": the same seed picks the same runs.'),
    perTenant: z.int().min(1).max(MAX_DATASET_CASES).optional().describe('At most this many cases per tenant, taken round-robin.'),
  })
  .refine((f) => !(f.from && f.to) || f.from < f.to, { path: ['to'], message: 'must be after from' })
  .describe('Which reviewed runs (with an output) become cases.');

export const createDatasetBody = z.strictObject({
  name: z.string().min(1).max(200),
  chain: idSchema,
  from: datasetFilterBody.optional().describe('Omitted: the dataset starts empty (upload cases).'),
});

export const uploadCasesBody = z
  .array(uploadedCaseSchema)
  .min(1, 'send at least one case')
  .max(MAX_DATASET_CASES)
  .describe(
    'A JSON array, or JSON Lines (Content-Type application/x-ndjson or application/jsonl: one case per line; item n is line n + 1).',
  );

export const datasetSchema = z.object({
  id: z.string(),
  name: z.string(),
  chain: z.string(),
  cases: z.number(),
  redactedInputs: z.number().describe('Cases whose input holds a PII redaction placeholder.'),
  fields: z.array(z.string()).describe('Every field some case compares.'),
  from: z.unknown().optional().describe('The filter the dataset was built by.'),
  createdAt: z.string(),
});

export const pageQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const caseSchema = z.object({
  caseId: z.string(),
  input: z.unknown(),
  expected: z.unknown(),
  trackedFields: z.array(z.string()).optional(),
  source: z.object({ runId: z.string(), tenant: z.string(), environment: z.string() }).optional(),
});

export const caseListResponse = z.object({ items: z.array(caseSchema), nextCursor: z.string().optional() });

export const replayAccepted = z.object({ id: z.string(), statusUrl: z.string(), status: z.enum(REPLAY_STATUSES) });

const interval = z.tuple([z.number(), z.number()]);

export const replayResultSchema = z.object({
  cases: z.number().describe('Results: cases × repeats.'),
  errors: z.number(),
  errorRate: z.number(),
  overridden: z.number(),
  overrideRate: z.number().nullable().describe('overridden / results without an error; null when no call answered (nothing was scored).'),
  overrideRateCI: interval
    .nullable()
    .describe('95% Wilson interval, with the case as the unit when cases have repeats; null when nothing was scored.'),
  fieldOverrideRates: z.record(z.string(), z.number().nullable()).describe('Per field; null when nothing was scored.'),
  latencyMs: z.object({ p50: z.number().nullable(), p95: z.number().nullable() }),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number(), resultsWithUsage: z.number() }).optional(),
  repeatDisagreement: z.object({ cases: z.number(), disagreeing: z.number(), rate: z.number().nullable() }).optional(),
});

export const replaySchema = z.object({
  id: z.string(),
  dataset: z.string(),
  chain: z.string(),
  version: z.string(),
  status: z.enum(REPLAY_STATUSES),
  progress: z.object({ done: z.number(), total: z.number() }),
  concurrency: z.number(),
  repeats: z.number(),
  rolloutId: z.string().optional(),
  error: z.string().optional(),
  result: replayResultSchema.optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
});

export const replayCasesQuery = pageQuery.extend({
  overridden: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

export const replayCaseSchema = z.object({
  caseId: z.string(),
  repeat: z.number(),
  output: z.unknown().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  overridden: z.boolean(),
  fields: z.array(z.string()),
  latencyMs: z.number(),
  input: z.unknown(),
  expected: z.unknown(),
});

export const replayCaseListResponse = z.object({ items: z.array(replayCaseSchema), nextCursor: z.string().optional() });

const pairedCellSchema = z.object({
  pairs: z.number(),
  bothOk: z.number(),
  onlyAOverridden: z.number(),
  onlyBOverridden: z.number(),
  bothOverridden: z.number(),
  aOverrideRate: z.number().nullable().describe('Null without pairs.'),
  bOverrideRate: z.number().nullable().describe('Null without pairs.'),
  difference: z
    .object({ estimate: z.number().nullable(), ci: interval })
    .describe(
      'b − a, with a 95% interval (Newcombe 1998, paired; the case is the unit when cases have repeats). The estimate is null without pairs.',
    ),
  mcnemarPValue: z
    .number()
    .describe("McNemar's exact test on the discordant pairs (with repeats, the sign test on the cases' differences)."),
});

export const compareResponse = pairedCellSchema.extend({
  a: z.string(),
  b: z.string(),
  dataset: z.string(),
  byField: z.record(z.string(), pairedCellSchema),
  cases: z.number().describe('Distinct cases among the pairs (pairs are case × repeat).'),
  errors: z.object({ a: z.number(), b: z.number(), both: z.number() }).describe('Pairs left out because a call failed.'),
  unpaired: z.object({ a: z.number(), b: z.number() }),
  discordant: z.array(z.object({ caseId: z.string(), repeat: z.number(), aFields: z.array(z.string()), bFields: z.array(z.string()) })),
  warnings: z
    .array(z.string())
    .describe(
      '`incomplete`: results without a partner (a replay unfinished); `repeated_cases`: cases have repeats; `no_pairs`: nothing could be compared; `mostly_errors`: pairs with a failed call outnumber the pairs compared.',
    ),
});

export function toDatasetOut(d: Dataset): z.infer<typeof datasetSchema> {
  return {
    id: d.id,
    name: d.name,
    chain: d.chain,
    cases: d.cases,
    redactedInputs: d.redactedInputs,
    fields: d.fields,
    ...(d.filter ? { from: d.filter } : {}),
    createdAt: d.createdAt.toISOString(),
  };
}

export function toCaseOut(c: DatasetCase): z.infer<typeof caseSchema> {
  return {
    caseId: c.id,
    input: c.input,
    expected: c.expected,
    ...(c.trackedFields ? { trackedFields: c.trackedFields } : {}),
    ...(c.source ? { source: c.source } : {}),
  };
}

export function toReplayOut(r: Replay, done: number, result?: ReplayResult): z.infer<typeof replaySchema> {
  return {
    id: r.id,
    dataset: r.datasetId,
    chain: r.chain,
    version: r.version,
    status: r.status,
    progress: { done, total: r.total },
    concurrency: r.concurrency,
    repeats: r.repeats,
    ...(r.rolloutId ? { rolloutId: r.rolloutId } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(result ? { result: { ...result, overrideRateCI: result.overrideRateCI ? [...result.overrideRateCI] : null } } : {}),
    createdAt: r.createdAt.toISOString(),
    ...(r.startedAt ? { startedAt: r.startedAt.toISOString() } : {}),
    ...(r.finishedAt ? { finishedAt: r.finishedAt.toISOString() } : {}),
  };
}

export function toReplayCaseOut(r: ReplayCaseResult & { input: unknown; expected: unknown }): z.infer<typeof replayCaseSchema> {
  return {
    caseId: r.caseId,
    repeat: r.repeat,
    ...(r.error ? { error: r.error } : { output: r.output }),
    overridden: r.overridden,
    fields: r.fields,
    latencyMs: Math.round(r.latencyMs * 1000) / 1000,
    input: r.input,
    expected: r.expected,
  };
}

const cellOut = (c: PairedCell) => ({
  pairs: c.pairs,
  bothOk: c.bothOk,
  onlyAOverridden: c.onlyAOverridden,
  onlyBOverridden: c.onlyBOverridden,
  bothOverridden: c.bothOverridden,
  aOverrideRate: c.aOverrideRate,
  bOverrideRate: c.bOverrideRate,
  difference: { estimate: c.difference.estimate, ci: [...c.difference.ci] as [number, number] },
  mcnemarPValue: c.mcnemarPValue,
});

export function toCompareOut(c: PairedComparison & { a: Replay; b: Replay }): z.infer<typeof compareResponse> {
  const byField: Record<string, ReturnType<typeof cellOut>> = {};
  for (const [f, cell] of Object.entries(c.byField)) byField[f] = cellOut(cell);
  return {
    ...cellOut(c),
    a: c.a.id,
    b: c.b.id,
    dataset: c.a.datasetId,
    cases: c.units.cases,
    byField,
    errors: c.errors,
    unpaired: c.unpaired,
    discordant: c.discordant,
    warnings: c.warnings,
  };
}

/** Opaque page cursors: a position in the dataset (and a repeat). */
export function encodePosition(seq: number, repeat?: number): string {
  return Buffer.from(JSON.stringify(repeat === undefined ? [seq] : [seq, repeat])).toString('base64url');
}

const positionShape = z.union([z.tuple([z.int().min(-1)]), z.tuple([z.int().min(-1), z.int().min(0)])]);

export function decodePosition(s: string): { seq: number; repeat?: number } | undefined {
  try {
    const parsed = positionShape.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
    if (!parsed.success) return undefined;
    return parsed.data.length === 1 ? { seq: parsed.data[0] } : { seq: parsed.data[0], repeat: parsed.data[1] };
  } catch {
    return undefined;
  }
}
