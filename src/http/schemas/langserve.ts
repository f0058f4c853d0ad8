/**
 * What LangChain's RemoteRunnable (and LangServe's Python client) send to a LangServe endpoint,
 * and LangServe's answers (langserve/schema.py: InvokeResponseMetadata, BatchResponseMetadata).
 * Requests are loose objects: a client may add fields (`kwargs`, stream options) that we ignore.
 */
import { z } from 'zod';
import { compiledSerialization } from '../compiled-serializer.js';
import { errorResponseSchema, idSchema, jsonValueSchema } from './common.js';
import { idempotencyKeyHeader, withinMetadataLimit } from './runs.js';

/** Largest batch: each input is one upstream call and one run. */
export const MAX_BATCH = 100;

const callerId = z.string().min(1).max(256);

export const langserveConfigurable = z
  .looseObject({
    tenant: idSchema.optional().describe('The tenant (or the x-tenant header); may be left out with a tenant key.'),
    environment: idSchema.optional().describe('The environment (or the x-environment header); required one way or the other.'),
    unit: callerId.optional().describe("The caller's unit (document, case, end user) for unit splits."),
    externalId: callerId.optional().describe('Your id for the record; feedback can name it instead of the run id.'),
    external_id: callerId.optional().describe('The same, as Python callers spell it.'),
  })
  .describe('RunnableConfig.configurable: where the gateway reads who is calling.');

export const langserveConfig = z
  .looseObject({
    configurable: langserveConfigurable.nullish(),
    metadata: z
      .record(z.string(), z.unknown())
      .superRefine(withinMetadataLimit)
      .nullish()
      .describe('Stored with the run (minus the copies LangChain makes of configurable values).'),
    maxConcurrency: z.number().int().positive().optional().describe('Batch only: at most this many upstream calls at once.'),
    max_concurrency: z.number().int().positive().nullish(),
  })
  .describe(
    'A RunnableConfig. Only configurable, metadata and the batch concurrency are read; tags, run names and the rest are accepted and ignored.',
  );

export type LangserveConfig = z.infer<typeof langserveConfig>;

export const langserveHeaders = z.looseObject({
  'x-tenant': idSchema.optional().describe('The tenant, when config.configurable.tenant is not set.'),
  'x-environment': idSchema.optional().describe('The environment, when config.configurable.environment is not set.'),
  'idempotency-key': idempotencyKeyHeader,
});

export const langserveInvokeBody = z.looseObject({
  input: jsonValueSchema.refine((v) => v !== undefined, 'is required').describe("The chain's input, passed to the upstream as it is."),
  config: langserveConfig.nullish(),
  kwargs: z.unknown().optional().describe('Accepted and ignored.'),
});

export const langserveBatchBody = z
  .looseObject({
    inputs: z.array(jsonValueSchema).max(MAX_BATCH, `at most ${MAX_BATCH} inputs per batch`),
    config: z
      .union([langserveConfig, z.array(langserveConfig.nullish())])
      .nullish()
      .describe('One config for every input, or one per input (what RemoteRunnable sends).'),
    kwargs: z.unknown().optional().describe('Accepted and ignored.'),
  })
  .superRefine((b, ctx) => {
    if (Array.isArray(b.config) && b.config.length !== b.inputs.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['config'],
        message: `has ${b.config.length} configs for ${b.inputs.length} inputs; send one per input, or one object for all`,
      });
    }
  });

const runMetadata = z.object({
  run_id: z.string().describe('The run id: POST /v1/runs/{run_id}/feedback with what the human did to the output.'),
  feedback_tokens: z.array(z.unknown()).describe('Always []: feedback goes to /v1/runs/{runId}/feedback.'),
  chain: z.string(),
  version: z.string(),
  variant: z.enum(['control', 'candidate', 'default']),
  fallback: z.literal(true).optional().describe('Present when the candidate failed and the control answered (fallbackToControl).'),
});

export const langserveInvokeResponse = compiledSerialization(
  z.object({
    output: z.unknown(),
    metadata: runMetadata,
  }),
);

export const langserveBatchResponse = compiledSerialization(
  z.object({
    output: z.array(z.unknown()),
    metadata: z.object({
      run_ids: z.array(z.string()).describe('One run id per input, in order.'),
      responses: z.array(runMetadata).describe('Per input, as LangServe gives it.'),
    }),
  }),
);

export const langserveStreamResponse = z.string().describe('Server-sent events, as the operation describes them, closed by `event: end`.');

/** The operations answering `text/event-stream` (the document says so: openapi/document.ts). */
export const EVENT_STREAM_OPERATIONS: ReadonlySet<string> = new Set(['langserveStream', 'langserveStreamLog', 'langserveStreamEvents']);

const errorShape = errorResponseSchema.shape.error;

export const langserveErrorResponse = z
  .object({ runId: z.string(), error: errorShape })
  .describe('The upstream failed (502) or timed out (504); the run is recorded under runId.');

export const langserveStreamErrorResponse = z
  .object({
    runId: z.string(),
    error: errorShape,
    message: z.string().describe("The error's message again, where RemoteRunnable's stream() reads it."),
  })
  .describe('The upstream failed (502) or timed out (504) before anything was streamed; the run is recorded under runId.');

export const langserveBatchErrorResponse = z
  .object({
    runIds: z.array(z.string()).describe('One run id per input, in order: every call ran and is recorded.'),
    error: errorShape,
  })
  .describe(
    'At least one call of the batch failed (502) or timed out (504, when every failure was a timeout); error.details.failures names them.',
  );
