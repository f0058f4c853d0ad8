/** Request and response pieces shared by several routes. */
import { z } from 'zod';

export { ID_PATTERN, idSchema } from '../../domain/model/ids.js';

export const uuidSchema = z.uuid('must be a UUID');

export const errorResponseSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .describe('Every error: a machine code, a human sentence, and details where they help.');

/** Any JSON value (inputs, outputs, final records). */
export const jsonValueSchema = z.unknown();

export const isoDateSchema = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 timestamp, e.g. 2026-01-31T12:00:00Z' })
  .transform((s) => new Date(s))
  // Year 0000 parses, but PostgreSQL refuses it in ISO form (a 500 otherwise).
  .refine((d) => d.getUTCFullYear() >= 1, 'must be in the years 0001 to 9999');

export const errorResponses = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  409: errorResponseSchema,
};
