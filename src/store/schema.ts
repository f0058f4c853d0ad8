/**
 * The drizzle schema: the one source of table shapes. Row types are derived from it with
 * `$inferSelect` / `$inferInsert`; the HTTP contract has its own zod schemas in src/http/schemas.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { AdapterDefinition } from '../adapters/adapter-definition.js';
import type { ActiveStatus, RolloutStatus } from '../domain/model/rollout.js';
import type { RolloutSpec } from '../domain/model/rollout-spec.js';
import type { RunError, Variant } from '../domain/model/run.js';
import type { RedactionConfig } from '../redaction/redaction.js';
import { COUNTED_METRICS, SERIES_METRICS } from '../domain/metrics/counted-metrics.js';
import { rollupColumns } from './read-models/rollup-columns.js';

/**
 * ACTIVE_STATUSES of domain/model/rollout.ts, for the one-active-rollout index. Not imported: that
 * module loads zod (about 3 MB of heap), and this one is loaded by the recorder thread too
 * (README "Performance"), which validates nothing. The types below keep the two lists equal.
 */
const ACTIVE_STATUSES = ['gated', 'running', 'paused'] as const satisfies readonly ActiveStatus[];
type MissingActiveStatus = Exclude<ActiveStatus, (typeof ACTIVE_STATUSES)[number]>;
const activeStatusesComplete: [MissingActiveStatus] extends [never] ? true : never = true;
void activeStatusesComplete;

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

export const tenants = pgTable('tenants', {
  id: text('id').primaryKey(),
  name: text('name'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** API keys, stored only as HMAC-SHA-256 of the key. tenantId null = a named admin key. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    hash: text('hash').notNull(),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [uniqueIndex('api_keys_hash_idx').on(t.hash)],
);

export const chains = pgTable('chains', {
  id: text('id').primaryKey(),
  description: text('description'),
  currentVersion: text('current_version'),
  /** PII redaction applied to inputs and outputs before storage (src/redaction/redaction.ts). */
  redaction: jsonb('redaction').$type<RedactionConfig>(),
  /** Fields the comparison counts by name (src/domain/overrides/counted-fields.ts); null: the output's. */
  trackedFields: jsonb('tracked_fields').$type<string[]>(),
  /** The environment names the chain accepts; null: the defaults (src/domain/model/catalog.ts). */
  environments: jsonb('environments').$type<string[]>(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const chainVersions = pgTable(
  'chain_versions',
  {
    chainId: text('chain_id')
      .notNull()
      .references(() => chains.id, { onDelete: 'cascade' }),
    version: text('version').notNull(),
    /** The adapter definition as registered (secrets only as {"env": NAME} references). */
    adapter: jsonb('adapter').$type<AdapterDefinition>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.version] })],
);

/** Every call the gateway answered, successful or not. Written in batches from the spool. */
export const runs = pgTable(
  'runs',
  {
    id: uuid('id').primaryKey(),
    chainId: text('chain_id').notNull(),
    version: text('version').notNull(),
    variant: text('variant').$type<Variant>().notNull(),
    rolloutId: uuid('rollout_id'),
    stage: integer('stage'),
    /** The key the arm was assigned on: the tenant, or tenant/unit (tenant/runId without a unit). */
    assignmentKey: text('assignment_key'),
    tenantId: text('tenant_id').notNull(),
    environment: text('environment').notNull(),
    unit: text('unit'),
    externalId: text('external_id'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    input: jsonb('input'),
    output: jsonb('output'),
    /** Keyed hashes of redacted output fields, so later feedback can still be diffed. */
    outputHashes: jsonb('output_hashes').$type<Record<string, string>>(),
    error: jsonb('error').$type<RunError>(),
    /** A candidate call that failed and was answered by the control (fallbackToControl). */
    fallback: boolean('fallback').notNull().default(false),
    latencyMs: real('latency_ms').notNull(),
    upstreamMs: real('upstream_ms'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    idempotencyKey: text('idempotency_key'),
    /** The candidate's run in this run's shadow (shadow_runs.id), when the call was mirrored. */
    shadowRunId: uuid('shadow_run_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('runs_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('runs_created_idx').on(t.createdAt, t.id),
    index('runs_chain_external_idx').on(t.chainId, t.externalId, t.createdAt),
    index('runs_rollout_idx').on(t.rolloutId, t.variant),
    // An Idempotency-Key is scoped per tenant and chain: the same key on another chain is another call.
    uniqueIndex('runs_idempotency_chain_idx')
      .on(t.tenantId, t.chainId, t.idempotencyKey)
      .where(sql`idempotency_key IS NOT NULL`),
  ],
);

/** The human's verdict on one run; re-sending replaces it (one row per run). */
export const feedback = pgTable('feedback', {
  runId: uuid('run_id').primaryKey(),
  overridden: boolean('overridden').notNull(),
  fields: jsonb('fields').$type<string[]>().notNull(),
  reviewer: text('reviewer'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  /** The human's values of the changed fields, after redaction (src/domain/overrides/human-record.ts): datasets' `expected`. */
  corrections: jsonb('corrections').$type<Record<string, unknown>>(),
  /** The fields the human's final record named; null: all. */
  tracked: jsonb('tracked').$type<string[]>(),
  /** The changed fields as the read models count them (`$other` for the rest: src/domain/overrides/counted-fields.ts); null: `fields`. */
  countedFields: jsonb('counted_fields').$type<string[]>(),
});

export const rollouts = pgTable(
  'rollouts',
  {
    id: uuid('id').primaryKey(),
    chainId: text('chain_id')
      .notNull()
      .references(() => chains.id, { onDelete: 'cascade' }),
    control: text('control').notNull(),
    candidate: text('candidate').notNull(),
    status: text('status').$type<RolloutStatus>().notNull(),
    stage: integer('stage').notNull(),
    flag: text('flag').notNull(),
    /** The validated creation body: stages, guardrails, alphas, autoAdvance, fallback, webhook. */
    spec: jsonb('spec').$type<RolloutSpec>().notNull(),
    stageStartedAt: timestamp('stage_started_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // One gated, running or paused rollout per chain, enforced by the database too.
    uniqueIndex('rollouts_one_active_idx')
      .on(t.chainId)
      .where(sql.raw(`status IN (${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
  ],
);

export const rolloutEvents = pgTable(
  'rollout_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    rolloutId: uuid('rollout_id')
      .notNull()
      .references(() => rollouts.id, { onDelete: 'cascade' }),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    type: text('type').notNull(),
    actor: text('actor').notNull(),
    reason: text('reason'),
    data: jsonb('data').$type<Record<string, unknown>>(),
  },
  (t) => [index('rollout_events_rollout_idx').on(t.rolloutId, t.id)],
);

/** Flag definitions of the embedded flag store (no UNLEASH_URL): Unleash feature JSON. */
export const flags = pgTable('flags', {
  name: text('name').primaryKey(),
  definition: jsonb('definition').notNull(),
  updatedAt: updatedAt(),
});

export type TenantRow = typeof tenants.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type ChainRow = typeof chains.$inferSelect;
export type ChainVersionRow = typeof chainVersions.$inferSelect;
export type RunRow = typeof runs.$inferSelect;
export type RunInsert = typeof runs.$inferInsert;
export type FeedbackRow = typeof feedback.$inferSelect;
export type RolloutRow = typeof rollouts.$inferSelect;
export type RolloutEventRow = typeof rolloutEvents.$inferSelect;
export type FlagRow = typeof flags.$inferSelect;

/** Server-wide settings, e.g. the generated secret that keys are hashed under. */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/**
 * GDPR erasures of a tenant's data (src/domain/services/erasure-service.ts): any replica answers
 * GET /v1/erasures/{id}, and every replica forgets its cached Idempotency-Key answers of a tenant
 * whose erasure started (README "Privacy").
 */
export const erasures = pgTable(
  'erasures',
  {
    id: uuid('id').primaryKey(),
    tenantId: text('tenant_id').notNull(),
    status: text('status').$type<'running' | 'done' | 'failed'>().notNull(),
    deletedRuns: integer('deleted_runs'),
    deletedDatasetCases: integer('deleted_dataset_cases'),
    error: text('error'),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [index('erasures_started_idx').on(t.startedAt)],
);

/** Leases of background jobs, so one replica at a time runs each (DESIGN.md pattern 9). */
export const jobLeases = pgTable('job_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
});

/*
 * Read models of the comparison (src/store/read-models): aggregates kept in the transaction that
 * writes runs and feedback (RunStore's ReadModelHooks), so the comparison, the timeseries and the
 * guardrails never scan runs. Every counter is a sum of deltas: a run adds once (runs are inserted
 * idempotently and only new ones reach the hooks), feedback adds (after − before).
 * The counter columns are the counted metrics' (src/domain/metrics/counted-metrics.ts), one column
 * per metric, typed by its kind (src/store/read-models/rollup-columns.ts); the latency histogram is
 * one numeric whose base-10^12 digits are the bucket counts, so adding numerics adds histograms
 * (src/store/read-models/histogram-codec.ts).
 */

/** Every counted metric: the per-cell and default-traffic rollups. */
const rollupCounts = () => rollupColumns(COUNTED_METRICS);
/** The metrics the per-arm series keeps. */
const seriesCounts = () => rollupColumns(SERIES_METRICS);

/** A rollout's runs per stage, arm, tenant and environment, by hour (windowed comparisons). */
export const rolloutRollups = pgTable(
  'rollout_rollups',
  {
    rolloutId: uuid('rollout_id').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    stage: integer('stage').notNull(),
    variant: text('variant').notNull(),
    tenantId: text('tenant_id').notNull(),
    environment: text('environment').notNull(),
    ...rollupCounts(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.hour, t.stage, t.variant, t.tenantId, t.environment] })],
);

/** The same over the rollout's whole life (the comparison without from/to: one small range read). */
export const rolloutTotals = pgTable(
  'rollout_totals',
  {
    rolloutId: uuid('rollout_id').notNull(),
    stage: integer('stage').notNull(),
    variant: text('variant').notNull(),
    tenantId: text('tenant_id').notNull(),
    environment: text('environment').notNull(),
    ...rollupCounts(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.stage, t.variant, t.tenantId, t.environment] })],
);

/**
 * Per arm, without tenant: grain 'minute' and 'hour' rows (the timeseries; days sum hours) and one
 * 'total' row per arm at t = 1970-01-01 (the guardrails' per-arm totals, a two-row read).
 */
export const rolloutSeries = pgTable(
  'rollout_series',
  {
    rolloutId: uuid('rollout_id').notNull(),
    grain: text('grain').notNull(),
    t: timestamp('t', { withTimezone: true, mode: 'date' }).notNull(),
    variant: text('variant').notNull(),
    ...seriesCounts(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.grain, t.t, t.variant] })],
);

/**
 * Traffic no rollout claimed (variant 'default'), per tenant, by hour: the baseline "before"
 * (keyed tenant-first: a baseline reads a few tenants' hours before their switch).
 */
export const defaultRollups = pgTable(
  'default_rollups',
  {
    chainId: text('chain_id').notNull(),
    version: text('version').notNull(),
    environment: text('environment').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    tenantId: text('tenant_id').notNull(),
    ...rollupCounts(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.version, t.tenantId, t.environment, t.hour] })],
);

/** The same summed over tenants: the baseline "other tenants while the rollout runs". */
export const defaultEnvRollups = pgTable(
  'default_env_rollups',
  {
    chainId: text('chain_id').notNull(),
    version: text('version').notNull(),
    environment: text('environment').notNull(),
    hour: timestamp('hour', { withTimezone: true, mode: 'date' }).notNull(),
    ...rollupCounts(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.version, t.environment, t.hour] })],
);

/**
 * Distinct assignment keys per rollout, stage and arm, for the SRM check: a key is stored once
 * (as an MD5 digest: unit ids may be personal), and a newly stored key bumps the counter below.
 */
export const rolloutAssignmentKeys = pgTable(
  'rollout_assignment_keys',
  {
    rolloutId: uuid('rollout_id').notNull(),
    stage: integer('stage').notNull(),
    variant: text('variant').notNull(),
    keyHash: uuid('key_hash').notNull(),
    /** For GDPR erasure. */
    tenantId: text('tenant_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.stage, t.variant, t.keyHash] })],
);

/** The `variant` of the counter of keys stored with both arms in one stage. */
export const BOTH_ARMS_VARIANT = 'both_arms';

/**
 * The counters of rollout_assignment_keys: keys per rollout, stage and arm (`control`,
 * `candidate`), and, in the row of variant `both_arms`, the keys stored with both arms in one
 * stage (assignment is sticky, so any is a bug: the comparison's `keys_in_both_arms` warning).
 * Kept as keys are stored (rollout-read-model.ts), so the comparison reads them in constant time.
 */
export const rolloutAssignmentCounts = pgTable(
  'rollout_assignment_counts',
  {
    rolloutId: uuid('rollout_id').notNull(),
    stage: integer('stage').notNull(),
    variant: text('variant').notNull(),
    keys: integer('keys').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.stage, t.variant] })],
);

/*
 * Datasets and replays (src/domain/model/dataset.ts, replay.ts). Replay results live here, apart
 * from runs: they count in no rollout, rollup, metric or guardrail.
 */

export const datasets = pgTable(
  'datasets',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    chainId: text('chain_id')
      .notNull()
      .references(() => chains.id, { onDelete: 'cascade' }),
    /** The filter it was built by (dates as ISO strings); null when filled by uploads. */
    filter: jsonb('filter'),
    cases: integer('cases').notNull().default(0),
    redactedInputs: integer('redacted_inputs').notNull().default(0),
    /** Union of the fields the cases compare. */
    fields: jsonb('fields').$type<string[]>().notNull().default([]),
    createdAt: createdAt(),
  },
  (t) => [index('datasets_chain_idx').on(t.chainId, t.createdAt)],
);

export const datasetCases = pgTable(
  'dataset_cases',
  {
    id: uuid('id').primaryKey(),
    datasetId: uuid('dataset_id')
      .notNull()
      .references(() => datasets.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    input: jsonb('input'),
    expected: jsonb('expected'),
    trackedFields: jsonb('tracked_fields').$type<string[]>(),
    sourceRunId: uuid('source_run_id'),
    /** The tenant whose run it came from: GDPR erasure deletes the case with the tenant's runs. */
    tenantId: text('tenant_id'),
    environment: text('environment'),
    inputRedacted: boolean('input_redacted').notNull().default(false),
  },
  (t) => [uniqueIndex('dataset_cases_seq_idx').on(t.datasetId, t.seq), index('dataset_cases_tenant_idx').on(t.tenantId)],
);

export const replays = pgTable(
  'replays',
  {
    id: uuid('id').primaryKey(),
    datasetId: uuid('dataset_id')
      .notNull()
      .references(() => datasets.id, { onDelete: 'cascade' }),
    chainId: text('chain_id').notNull(),
    version: text('version').notNull(),
    concurrency: integer('concurrency').notNull(),
    repeats: integer('repeats').notNull(),
    /** 'queued' | 'running' | 'done' | 'cancelled' | 'failed' */
    status: text('status').notNull(),
    total: integer('total').notNull(),
    rolloutId: uuid('rollout_id'),
    /** The process running it and until when (renewed while it runs; a dead runner's lease expires). */
    runner: text('runner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true, mode: 'date' }),
    error: text('error'),
    result: jsonb('result'),
    createdAt: createdAt(),
    startedAt: timestamp('started_at', { withTimezone: true, mode: 'date' }),
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('replays_dataset_idx').on(t.datasetId, t.createdAt),
    index('replays_open_idx')
      .on(t.status)
      .where(sql`status IN ('queued', 'running')`),
    // A gate replays each of its rollout's two versions once, whichever replica starts it.
    uniqueIndex('replays_gate_idx')
      .on(t.rolloutId, t.version)
      .where(sql`rollout_id IS NOT NULL`),
  ],
);

/** One result per (replay, case, repeat), committed as it finishes: a case is never scored twice. */
export const replayCases = pgTable(
  'replay_cases',
  {
    replayId: uuid('replay_id')
      .notNull()
      .references(() => replays.id, { onDelete: 'cascade' }),
    caseId: uuid('case_id')
      .notNull()
      .references(() => datasetCases.id, { onDelete: 'cascade' }),
    repeat: integer('repeat').notNull(),
    seq: integer('seq').notNull(),
    output: jsonb('output'),
    error: jsonb('error'),
    overridden: boolean('overridden').notNull(),
    fields: jsonb('fields').$type<string[]>().notNull(),
    latencyMs: real('latency_ms').notNull(),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.replayId, t.caseId, t.repeat] }), index('replay_cases_order_idx').on(t.replayId, t.seq, t.repeat)],
);

export type DatasetRow = typeof datasets.$inferSelect;
export type DatasetCaseRow = typeof datasetCases.$inferSelect;
export type ReplayRow = typeof replays.$inferSelect;
export type ReplayCaseRow = typeof replayCases.$inferSelect;

/*
 * Shadow runs (README "Shadow runs"): the candidate run on a control-served call, never answered
 * with. A row is created by whichever comes first, the shadow call's result or the feedback on its
 * control run, and the pair is scored by whichever comes second (src/store/shadow-store.ts).
 */
export const shadowRuns = pgTable(
  'shadow_runs',
  {
    id: uuid('id').primaryKey(),
    /** The control run this call shadowed (runs.id). */
    shadowOf: uuid('shadow_of').notNull(),
    /** Null until the shadow call's result is stored when feedback came first on a stage-free run (its control run has no rollout id). */
    rolloutId: uuid('rollout_id'),
    chainId: text('chain_id').notNull(),
    /** The candidate version; null until the shadow call's result is stored. */
    version: text('version'),
    tenantId: text('tenant_id').notNull(),
    environment: text('environment').notNull(),
    /** The control run's stage; null in stage-free shadow mode. */
    stage: integer('stage'),
    /** The control run's creation time (retention deletes both together). */
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** Set when the shadow call's result is stored. */
    finishedAt: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
    output: jsonb('output'),
    outputHashes: jsonb('output_hashes'),
    error: jsonb('error'),
    latencyMs: real('latency_ms'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    /** The human's record of the control run (src/domain/shadow/expectation.ts); set by feedback. */
    expected: jsonb('expected'),
    feedbackAt: timestamp('feedback_at', { withTimezone: true, mode: 'date' }),
    controlOverridden: boolean('control_overridden'),
    controlFields: jsonb('control_fields').$type<string[]>(),
    /** Whether the human's record would have overridden the candidate; set when the pair is scored. */
    candidateOverridden: boolean('candidate_overridden'),
    candidateFields: jsonb('candidate_fields').$type<string[]>(),
    scoredAt: timestamp('scored_at', { withTimezone: true, mode: 'date' }),
  },
  // No index on shadow_of: a control run's shadow run has one id (its ticket, stored on the run),
  // so the primary key already keeps one row per control run, and nothing looks rows up by it. A
  // unique index there made the two halves' upserts, landing at once from two replicas, fail with
  // a duplicate key instead of meeting on the id (ON CONFLICT arbitrates on one index only).
  (t) => [
    index('shadow_runs_rollout_idx').on(t.rolloutId, t.tenantId),
    index('shadow_runs_tenant_idx').on(t.tenantId),
    index('shadow_runs_created_idx').on(t.createdAt),
  ],
);

/** Shadow calls skipped by a rollout's limits, summed over replicas (reason: 'budget' | 'concurrency'). */
export const shadowSkips = pgTable(
  'shadow_skips',
  {
    rolloutId: uuid('rollout_id').notNull(),
    reason: text('reason').notNull(),
    skipped: bigint('skipped', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.reason] })],
);

export type ShadowRunRow = typeof shadowRuns.$inferSelect;
export type ShadowRunInsert = typeof shadowRuns.$inferInsert;
