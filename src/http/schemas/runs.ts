/** Invoke, runs and feedback: request and response shapes. */
import { z } from 'zod';
import type { Feedback, Run } from '../../domain/model/run.js';
import { MAX_FEEDBACK_FIELDS, MAX_FIELD_NAME_LENGTH, MAX_METADATA_BYTES } from '../../domain/model/limits.js';
import { compiledSerialization } from '../compiled-serializer.js';
import { idSchema, isoDateSchema, jsonValueSchema, uuidSchema } from './common.js';

const callerId = z.string().min(1).max(256);
/**
 * A caller's id in a query string. Bodies with U+0000 are refused by the JSON parser
 * (plugins/json-body.ts); a query string is decoded by the router, so `%00` is checked here:
 * PostgreSQL cannot compare text holding it.
 */
const callerIdInQuery = callerId.refine((s) => !s.includes('\u0000'), 'must not contain U+0000');

/** What an Idempotency-Key may hold: no space, so a batch's per-input keys stay apart (invoke-reply.ts). */
export const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, as the invoke routes document and check it (invoke-reply.ts). */
export const idempotencyKeyHeader = z
  .string()
  .regex(IDEMPOTENCY_KEY, 'must be 1 to 255 visible ASCII characters')
  .optional()
  .describe(
    'Retries with the same key within 24 hours (per tenant and chain) get the first answer, with no second upstream call and no second run; a replayed answer carries `idempotent-replayed: true`. 1 to 255 visible ASCII characters.',
  );

/** The invoke route's headers: only the one it documents (others pass). */
export const invokeHeaders = z.looseObject({ 'idempotency-key': idempotencyKeyHeader });

/** `metadata` at most MAX_METADATA_BYTES as JSON (README "Limits and timeouts"). */
export function withinMetadataLimit(metadata: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const bytes = Buffer.byteLength(JSON.stringify(metadata) ?? '', 'utf8');
  if (bytes > MAX_METADATA_BYTES)
    ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_METADATA_BYTES} bytes as JSON (it is ${bytes})` });
}

export const invokeBody = z.strictObject({
  tenant: idSchema.optional().describe('May be left out with a tenant key.'),
  environment: idSchema.describe('The tenant system the call comes from: dev, staging, prod...'),
  input: jsonValueSchema.refine((v) => v !== undefined, 'is required'),
  unit: callerId.optional().describe("The caller's unit (document, case, end user) for unit splits."),
  externalId: callerId.optional().describe('Your id for the record; feedback can name it instead of the run id.'),
  metadata: z
    .record(z.string(), z.unknown())
    .superRefine(withinMetadataLimit)
    .optional()
    .describe(`Stored with the run; at most ${MAX_METADATA_BYTES} bytes as JSON.`),
});

export const invokeResponse = compiledSerialization(
  z.object({
    runId: z.string(),
    chain: z.string(),
    version: z.string(),
    variant: z.enum(['control', 'candidate', 'default']),
    output: z.unknown(),
    latencyMs: z.number(),
    fallback: z
      .literal(true)
      .optional()
      .describe(
        'Present when the candidate failed and the control answered (the rollout has fallbackToControl): `version` is the control that answered, `variant` stays `candidate`.',
      ),
  }),
);

export const invokeErrorResponse = compiledSerialization(
  z.object({
    runId: z.string(),
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  }),
);

export const runParams = z.object({ runId: uuidSchema });

export const fieldNameSchema = z.string().min(1).max(MAX_FIELD_NAME_LENGTH, `a field name has at most ${MAX_FIELD_NAME_LENGTH} characters`);

const override = z.strictObject({ field: fieldNameSchema, value: jsonValueSchema });

/** An object `final` names at most MAX_FEEDBACK_FIELDS fields, each at most MAX_FIELD_NAME_LENGTH long. */
function boundedFinal(final: unknown, ctx: z.RefinementCtx): void {
  if (final === null || typeof final !== 'object' || Array.isArray(final)) return;
  const keys = Object.keys(final);
  if (keys.length > MAX_FEEDBACK_FIELDS) {
    ctx.addIssue({ code: 'custom', message: `names ${keys.length} fields: at most ${MAX_FEEDBACK_FIELDS} per feedback` });
    return;
  }
  const long = keys.find((k) => k.length > MAX_FIELD_NAME_LENGTH);
  if (long !== undefined)
    ctx.addIssue({
      code: 'custom',
      message: `has a field name of ${long.length} characters: at most ${MAX_FIELD_NAME_LENGTH}`,
    });
}

export const feedbackFields = {
  final: jsonValueSchema
    .superRefine(boundedFinal)
    .optional()
    .describe(
      `The record as the human left it; at most ${MAX_FEEDBACK_FIELDS} top-level fields, names up to ${MAX_FIELD_NAME_LENGTH} characters.`,
    ),
  overrides: z
    .array(override)
    .max(MAX_FEEDBACK_FIELDS, `at most ${MAX_FEEDBACK_FIELDS} entries per feedback`)
    .optional()
    .describe('The fields the human changed; [] = reviewed, nothing changed.'),
  reviewer: z.string().min(1).max(256).optional(),
};

function oneForm(v: { final?: unknown; overrides?: unknown }, ctx: z.RefinementCtx): void {
  const hasFinal = v.final !== undefined;
  const hasOverrides = v.overrides !== undefined;
  if (hasFinal && hasOverrides) ctx.addIssue({ code: 'custom', path: ['overrides'], message: 'send either final or overrides, not both' });
  if (!hasFinal && !hasOverrides)
    ctx.addIssue({ code: 'custom', path: ['final'], message: 'send final (the record as the human left it) or overrides' });
}

export const feedbackBody = z.strictObject(feedbackFields).superRefine(oneForm);

export const feedbackByExternalIdBody = z
  .strictObject({ chain: idSchema, externalId: callerId, tenant: idSchema.optional(), ...feedbackFields })
  .superRefine(oneForm);

export const feedbackResponse = compiledSerialization(
  z.object({ runId: z.string(), overridden: z.boolean(), fields: z.array(z.string()) }),
);

export const listRunsQuery = z.strictObject({
  chain: idSchema.optional(),
  tenant: idSchema.optional(),
  environment: idSchema.optional(),
  variant: z.enum(['control', 'candidate', 'default']).optional(),
  overridden: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  externalId: callerIdInQuery.optional(),
  rolloutId: uuidSchema.optional(),
  from: isoDateSchema.optional().describe('Inclusive.'),
  to: isoDateSchema.optional().describe('Exclusive.'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

export const runSchema = z.object({
  runId: z.string(),
  chain: z.string(),
  version: z.string(),
  variant: z.string(),
  rolloutId: z.string().optional(),
  stage: z.number().optional(),
  assignmentKey: z.string().optional(),
  tenant: z.string(),
  environment: z.string(),
  unit: z.string().optional(),
  externalId: z.string().optional(),
  metadata: z.unknown().optional(),
  input: z.unknown(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  fallback: z.boolean(),
  latencyMs: z.number(),
  usage: z.object({ promptTokens: z.number().optional(), completionTokens: z.number().optional() }).optional(),
  shadowRunId: z.string().optional().describe("The candidate's run in this call's shadow (GET /v1/rollouts/{id}/shadow compares them)."),
  createdAt: z.string(),
  feedback: z.object({ overridden: z.boolean(), fields: z.array(z.string()), reviewer: z.string().optional(), at: z.string() }).optional(),
});

export const runListResponse = z.object({ items: z.array(runSchema), nextCursor: z.string().optional() });

type RunOut = z.infer<typeof runSchema>;

/** The contract's run shape from a stored (or still pending) run. */
export function toRunOut(run: Run, fb: Feedback | null | undefined): RunOut {
  const out: RunOut = {
    runId: run.id,
    chain: run.chainId,
    version: run.version,
    variant: run.variant,
    tenant: run.tenantId,
    environment: run.environment,
    input: run.input,
    fallback: run.fallback,
    latencyMs: Math.round(run.latencyMs * 1000) / 1000,
    createdAt: run.createdAt.toISOString(),
  };
  if (run.rolloutId) out.rolloutId = run.rolloutId;
  if (run.stage !== null && run.stage !== undefined) out.stage = run.stage;
  if (run.assignmentKey) out.assignmentKey = run.assignmentKey;
  if (run.unit) out.unit = run.unit;
  if (run.externalId) out.externalId = run.externalId;
  if (run.metadata !== null && run.metadata !== undefined) out.metadata = run.metadata;
  // An answered call has an output, JSON null included (stored as SQL NULL); a failed one has none.
  if (run.error === null || run.error === undefined || run.fallback) out.output = run.output ?? null;
  if (run.error !== null && run.error !== undefined) out.error = run.error;
  if (run.promptTokens != null || run.completionTokens != null) {
    out.usage = {};
    if (run.promptTokens != null) out.usage.promptTokens = run.promptTokens;
    if (run.completionTokens != null) out.usage.completionTokens = run.completionTokens;
  }
  if (run.shadowRunId) out.shadowRunId = run.shadowRunId;
  if (fb) {
    out.feedback = { overridden: fb.overridden, fields: fb.fields, at: fb.at.toISOString() };
    if (fb.reviewer) out.feedback.reviewer = fb.reviewer;
  }
  return out;
}

export function encodeCursor(c: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify([c.createdAt.toISOString(), c.id])).toString('base64url');
}

const cursorShape = z.tuple([isoDateSchema, uuidSchema]);

export function decodeCursor(s: string): { createdAt: Date; id: string } | undefined {
  try {
    const parsed = cursorShape.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
    return parsed.success ? { createdAt: new Date(parsed.data[0]), id: parsed.data[1] } : undefined;
  } catch {
    return undefined;
  }
}
