/**
 * The drizzle schema: the one source of table shapes. Row types are derived from it with
 * `$inferSelect` / `$inferInsert`; the HTTP contract has its own zod schemas in src/http/schemas.
 */
import { sql } from 'drizzle-orm';
import {
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
  /** PII redaction applied to inputs and outputs before storage (src/domain/overrides/redaction.ts). */
  redaction: jsonb('redaction'),
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
    adapter: jsonb('adapter').notNull(),
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
    /** 'control' | 'candidate' | 'default' */
    variant: text('variant').notNull(),
    rolloutId: uuid('rollout_id'),
    stage: integer('stage'),
    /** The key the arm was assigned on: the tenant, or tenant/unit (tenant/runId without a unit). */
    assignmentKey: text('assignment_key'),
    tenantId: text('tenant_id').notNull(),
    environment: text('environment').notNull(),
    unit: text('unit'),
    externalId: text('external_id'),
    metadata: jsonb('metadata'),
    input: jsonb('input'),
    output: jsonb('output'),
    /** Keyed hashes of redacted output fields, so later feedback can still be diffed. */
    outputHashes: jsonb('output_hashes'),
    error: jsonb('error'),
    /** A candidate call that failed and was answered by the control (fallbackToControl). */
    fallback: boolean('fallback').notNull().default(false),
    latencyMs: real('latency_ms').notNull(),
    upstreamMs: real('upstream_ms'),
    promptTokens: integer('prompt_tokens'),
    completionTokens: integer('completion_tokens'),
    idempotencyKey: text('idempotency_key'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [
    index('runs_tenant_created_idx').on(t.tenantId, t.createdAt, t.id),
    index('runs_created_idx').on(t.createdAt, t.id),
    index('runs_chain_external_idx').on(t.chainId, t.externalId, t.createdAt),
    index('runs_rollout_idx').on(t.rolloutId, t.variant),
    uniqueIndex('runs_idempotency_idx').on(t.tenantId, t.idempotencyKey).where(sql`idempotency_key IS NOT NULL`),
  ],
);

/** The human's verdict on one run; re-sending replaces it (one row per run). */
export const feedback = pgTable('feedback', {
  runId: uuid('run_id').primaryKey(),
  overridden: boolean('overridden').notNull(),
  fields: jsonb('fields').$type<string[]>().notNull(),
  reviewer: text('reviewer'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
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
    /** 'running' | 'paused' | 'rolled_back' | 'promoted' */
    status: text('status').notNull(),
    stage: integer('stage').notNull(),
    flag: text('flag').notNull(),
    /** The validated creation body: stages, guardrails, alphas, autoAdvance, fallback, webhook. */
    spec: jsonb('spec').notNull(),
    stageStartedAt: timestamp('stage_started_at', { withTimezone: true, mode: 'date' }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // One running or paused rollout per chain, enforced by the database too.
    uniqueIndex('rollouts_one_active_idx').on(t.chainId).where(sql`status IN ('running', 'paused')`),
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
    data: jsonb('data'),
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

/** Leases of background jobs, so one replica at a time runs each (DESIGN.md pattern 9). */
export const jobLeases = pgTable('job_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
});
