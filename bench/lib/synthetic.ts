/**
 * Synthetic runs and feedback shaped like the gateway's own (src/domain/services/invoke-service.ts
 * toRun): a rollout at 50% by unit over several tenants, ~2% errors, ~40% of answered runs
 * reviewed, the candidate overridden a little more often than the control.
 */
import type { Feedback, Run } from '../../src/domain/model/run.js';
import { newRunId } from '../../src/domain/model/run-ids.js';

export interface SyntheticContext {
  chainId: string;
  rolloutId: string;
  tenants: string[];
  environment: string;
  /** created_at of run i = start + i * stepMs. */
  startMs: number;
  stepMs: number;
}

/** Deterministic per-index pseudo-random in [0, 1) (mulberry32 of the index and a salt). */
export function rand(i: number, salt: number): number {
  let t = (i * 0x9e3779b1 + salt * 0x85ebca6b) >>> 0;
  t = (t + 0x6d2b79f5) >>> 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export function makeRun(i: number, ctx: SyntheticContext): Run {
  const tenant = ctx.tenants[i % ctx.tenants.length]!;
  const unit = `doc-${Math.floor(rand(i, 1) * 1e6)}`;
  const candidate = rand(i, 2) < 0.5;
  const failed = rand(i, 3) < 0.02;
  const latency = 200 + 800 * -Math.log(1 - rand(i, 4));
  const output = { total: 1000 + (i % 997), vendor: 'ACME GmbH', currency: 'EUR', date: '2025-07-01' };
  const createdAt = new Date(ctx.startMs + i * ctx.stepMs);
  return {
    // As the gateway makes them: UUIDv7, time-ordered (random v4 ids would scatter the inserts
    // over the primary-key indexes of runs and feedback, which the gateway's do not).
    id: newRunId(createdAt.getTime()),
    chainId: ctx.chainId,
    version: candidate ? 'v2' : 'v1',
    variant: candidate ? 'candidate' : 'control',
    rolloutId: ctx.rolloutId,
    stage: 0,
    assignmentKey: `${tenant}/${unit}`,
    tenantId: tenant,
    environment: ctx.environment,
    unit,
    externalId: `INV-${i}`,
    metadata: null,
    input: { document: `Invoice INV-${i} from ACME GmbH, net 1,200.00 EUR, VAT 228.00 EUR`, pages: 1 },
    output: failed ? null : output,
    outputHashes: null,
    error: failed ? { code: 'upstream_failed', message: 'The upstream answered HTTP 500.', details: null } : null,
    fallback: false,
    latencyMs: latency,
    upstreamMs: latency - 0.2,
    promptTokens: null,
    completionTokens: null,
    idempotencyKey: null,
    createdAt,
  };
}

/** Feedback on run i (made by makeRun with the same i), or undefined when it is not reviewed. */
export function makeFeedback(i: number, run: Run, at: Date): Feedback | undefined {
  if (run.output === null || rand(i, 5) >= 0.4) return undefined;
  const overridden = rand(i, 6) < (run.variant === 'candidate' ? 0.12 : 0.1);
  return { runId: run.id, overridden, fields: overridden ? ['total'] : [], reviewer: 'bench', at };
}
