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

/**
 * The instants a timestamp parameter may name: from 0001-01-01 up to (not including) 9999-12-31,
 * UTC. Year 0000 parses but PostgreSQL refuses it in ISO form; past 9999 (`9999-12-31T23:59:59-14:00`
 * is year 10000 in UTC) Date.toISOString() writes `+010000-…`, which PostgreSQL refuses too. The
 * last day is left out because windows are widened up to the hour or day (the comparison, the
 * timeseries' buckets), and a widened end must still be a timestamp PostgreSQL takes.
 */
export const END_OF_INSTANTS = Date.UTC(9999, 11, 31);

export const isoDateSchema = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 timestamp, e.g. 2026-01-31T12:00:00Z' })
  .transform((s) => new Date(s))
  .refine(
    (d) => d.getUTCFullYear() >= 1 && d.getTime() < END_OF_INSTANTS,
    'must lie between 0001-01-01 and 9999-12-30T23:59:59.999Z (UTC)',
  );

export const errorResponses = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  409: errorResponseSchema,
  429: errorResponseSchema.describe(
    'rate_limited: over RATE_LIMIT_PER_MINUTE or MAX_CONCURRENT_PER_KEY for this key, or too many invalid tokens; see Retry-After.',
  ),
  503: errorResponseSchema.describe('database_unavailable (see Retry-After), or the run spool cannot take more.'),
};
