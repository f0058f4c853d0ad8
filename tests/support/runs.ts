/** Runs and feedback for tests: a whole domain record with neutral defaults, and the fields a test cares about. */
import type { Feedback, Run } from '../../src/domain/model/run.js';

export function aRun(fields: Pick<Run, 'id'> & Partial<Run>): Run {
  return {
    chainId: 'c',
    version: 'v1',
    variant: 'default',
    rolloutId: null,
    stage: null,
    assignmentKey: null,
    tenantId: 't',
    environment: 'prod',
    unit: null,
    externalId: null,
    metadata: null,
    input: null,
    output: null,
    outputHashes: null,
    error: null,
    fallback: false,
    latencyMs: 1,
    upstreamMs: null,
    promptTokens: null,
    completionTokens: null,
    idempotencyKey: null,
    createdAt: new Date(0),
    ...fields,
  };
}

export function aFeedback(fields: Pick<Feedback, 'runId'> & Partial<Feedback>): Feedback {
  return { overridden: false, fields: [], reviewer: null, at: new Date(0), ...fields };
}
