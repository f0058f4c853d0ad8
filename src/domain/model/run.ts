/**
 * A run: one call the gateway answered, as the request path records it (src/domain/services/
 * invoke-service.ts) and every reader sees it. Written once here; the store's table follows it
 * (src/store/schema.ts types its columns with these types, and src/store/run-store.ts checks at
 * compile time that a row is a Run and a Run is a row).
 */

/** Which arm served a call: a rollout's control or candidate, or the chain's current version. */
export type Variant = 'control' | 'candidate' | 'default';

/** What a failed call recorded (the upstream error's code, message and details). */
export interface RunError {
  code: string;
  message: string;
  details?: unknown;
}

export interface Run {
  id: string;
  chainId: string;
  /** The version assigned (the candidate, even when the control answered a fallback). */
  version: string;
  variant: Variant;
  rolloutId: string | null;
  stage: number | null;
  /** The key the arm was assigned on: the tenant, or tenant/unit (tenant/runId without a unit). */
  assignmentKey: string | null;
  tenantId: string;
  environment: string;
  unit: string | null;
  externalId: string | null;
  metadata: Record<string, unknown> | null;
  /** Input and output as stored: after the chain's PII redaction. */
  input: unknown;
  /** null when the call failed. */
  output: unknown;
  /** Keyed hashes of redacted output fields, so later feedback can still be diffed. */
  outputHashes: Record<string, string> | null;
  error: RunError | null;
  /** A candidate call that failed and was answered by the control (fallbackToControl). */
  fallback: boolean;
  latencyMs: number;
  upstreamMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  idempotencyKey: string | null;
  /** The candidate's run in this run's shadow (README "Shadow runs"), when the call was mirrored. */
  shadowRunId?: string | null;
  createdAt: Date;
}

/** The human's verdict on one run; sending again replaces it (last received wins). */
export interface Feedback {
  runId: string;
  overridden: boolean;
  /** Top-level output fields the human changed. */
  fields: string[];
  reviewer: string | null;
  at: Date;
  /** The human's values of the changed fields, after redaction; datasets' `expected` (overrides/human-record.ts). */
  corrections?: Record<string, unknown> | null;
  /** The fields the human's final record named; null: all of them. */
  tracked?: string[] | null;
  /** `fields` as the read models count them: names beyond the chain's tracked ones fold into `$other` (overrides/counted-fields.ts). */
  countedFields?: string[] | null;
}

export type RunWithFeedback = Run & { feedback: Feedback | null };
