/** Tenants, keys, chains and versions: request and response shapes. */
import { z } from 'zod';
import { adapterDefinitionSchema } from '../../adapters/adapter-definition.js';
import { redactionConfigSchema } from '../../redaction/redaction.js';
import { MAX_TRACKED_FIELDS, OTHER_FIELD } from '../../domain/model/limits.js';
import { idSchema, uuidSchema } from './common.js';
import { fieldNameSchema } from './runs.js';

export const tenantParams = z.object({ tenantId: idSchema });
export const tenantKeyParams = z.object({ tenantId: idSchema, keyId: uuidSchema });
// Optional bodies are nullish: Fastify validates a request without a body as null.
export const putTenantBody = z.strictObject({ name: z.string().min(1).max(200).optional() }).nullish();

export const tenantSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const createKeyBody = z.strictObject({ name: z.string().min(1).max(100).optional() }).nullish();
export const createdKeySchema = z.object({
  id: z.string(),
  key: z.string().describe('Shown only in this response; stored as a keyed hash.'),
  name: z.string(),
  tenantId: z.string(),
});

export const chainParams = z.object({ chain: idSchema });

export const putChainBody = z
  .strictObject({
    description: z.string().max(2000).optional(),
    current: idSchema.optional(),
    redaction: redactionConfigSchema.optional().describe('PII redaction of inputs and outputs before storage.'),
    trackedFields: z
      .array(fieldNameSchema)
      .max(MAX_TRACKED_FIELDS, `at most ${MAX_TRACKED_FIELDS} tracked fields`)
      .refine((f) => new Set(f).size === f.length, 'name each field once')
      // `$other` is where the fields not tracked are counted: a tracked field of that name would merge with them.
      .refine((f) => !f.includes(OTHER_FIELD), `'${OTHER_FIELD}' counts the fields not tracked; it cannot be tracked itself`)
      .nullable()
      .optional()
      .describe(
        "Output fields the comparison breaks override rates down by; other changed fields count under `$other`. Unset or null: the fields of the AI's output.",
      ),
    environments: z
      .array(idSchema)
      .min(1)
      .max(50)
      .refine((e) => new Set(e).size === e.length, 'name each environment once')
      .optional()
      .describe('The environment names invoke and rollout stages accept; another is a 400. Default: dev, staging, prod.'),
  })
  .nullish();

export const chainSchema = z.object({
  id: z.string(),
  description: z.string().nullable(),
  current: z.string().nullable(),
  redaction: z.unknown().optional(),
  trackedFields: z.array(z.string()).optional(),
  environments: z.array(z.string()).describe('The environment names invoke and rollout stages accept.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const createVersionBody = z.strictObject({ version: idSchema, adapter: adapterDefinitionSchema });

export const versionSchema = z.object({
  chain: z.string(),
  version: z.string(),
  adapter: z.unknown(),
  createdAt: z.string(),
  warnings: z
    .array(z.string())
    .optional()
    .describe('On registration only: what would make calls to this version fail here, e.g. provider_not_configured.'),
});
