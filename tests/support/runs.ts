/** Runs and feedback for tests: a whole domain record with neutral defaults, and the fields a test cares about. */
import type { Feedback, Run } from '../../src/domain/model/run.js';
import type { RecordBatch } from '../../src/domain/ports/run-repository.js';
import { parseRun } from '../../src/runtime/spool/spool-record.js';

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

/** A batch of whole runs for writeBatch, each encoded as the run writer does (tests that store runs directly). */
export function batchOf(runs: Run[], feedback: Feedback[] = []): RecordBatch {
  return { runs, runJson: runs.map((r) => JSON.stringify(r)), feedback };
}

/** A batch's whole runs, from their JSON (a batch's `runs` hold only what the read models count): for stores in memory. */
export function runsOf(batch: RecordBatch): Run[] {
  return batch.runJson.map(parseRun);
}
