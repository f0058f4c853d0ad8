/**
 * Datasets: named, immutable snapshots of cases for one chain. A case is an input with the
 * record a human accepted as right (`expected`), the fields that record covers, and where it came
 * from. Built from reviewed runs by a filter, or uploaded (a team's hand-kept cases).
 */
import { z } from 'zod';
import { idSchema } from './ids.js';

/** How a dataset picks reviewed runs (`POST /v1/datasets` `from`). Dates are parsed by the HTTP layer. */
export interface DatasetFilter {
  environments?: string[];
  tenants?: string[];
  from?: Date;
  to?: Date;
  overriddenOnly: boolean;
  limit: number;
  sample: 'latest' | 'random';
  /** Seed of `random` sampling: the same seed over the same runs picks the same cases. */
  seed?: number;
  /** At most this many cases per tenant, taken round-robin so that no tenant dominates. */
  perTenant?: number;
}

export const MAX_DATASET_CASES = 100_000;

/** Where a case came from: the reviewed run (for erasure, and for a person checking it). */
export const caseSourceSchema = z.strictObject({
  runId: z.uuid(),
  tenant: idSchema,
  environment: idSchema,
});
export type CaseSource = z.infer<typeof caseSourceSchema>;

/**
 * One uploaded case (a JSON array item or a JSON Lines line). `caseId` is accepted and ignored so
 * that an export can be uploaded again as it is; `source` is kept.
 */
export const uploadedCaseSchema = z.strictObject({
  input: z.unknown().refine((v) => v !== undefined, 'is required'),
  expected: z.unknown().refine((v) => v !== undefined, 'is required'),
  trackedFields: z
    .array(z.string().min(1).max(512))
    .max(10_000)
    .nullable()
    .optional()
    .describe('Only these fields are compared; omitted: every field of expected.'),
  caseId: z.string().max(200).optional().describe('Ignored (exports carry it).'),
  source: caseSourceSchema.optional(),
});
export type UploadedCase = z.infer<typeof uploadedCaseSchema>;

export interface Dataset {
  id: string;
  name: string;
  chain: string;
  /** The filter it was built by; null for a dataset filled by uploads. */
  filter: DatasetFilter | null;
  cases: number;
  redactedInputs: number;
  /** Every field some case compares (the field universe of a replay's per-field rates). */
  fields: string[];
  createdAt: Date;
}

export interface DatasetCase {
  id: string;
  /** Position in the dataset, from 0. */
  seq: number;
  input: unknown;
  expected: unknown;
  trackedFields: string[] | null;
  source: CaseSource | null;
}

export type NewDatasetCase = Omit<DatasetCase, 'id' | 'seq'> & { inputRedacted: boolean };

/** A reviewed run as the repository reads it for a dataset. */
export interface ReviewedRun {
  runId: string;
  tenant: string;
  environment: string;
  input: unknown;
  output: unknown;
  /** Top-level output fields stored as a redaction placeholder. */
  redactedFields: string[];
  fields: string[];
  corrections: Record<string, unknown> | null;
  tracked: string[] | null;
}
