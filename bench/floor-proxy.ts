/**
 * Bench child: the floor of a gateway in this project's stack. It is the bare proxy
 * (bare-proxy.ts), plus only what every call of a recorded, flag-routed gateway built on
 * fastify must do before its reply:
 * - fastify with its JSON body parser and router (no plugins, hooks, schemas or logging);
 * - the upstream called as the gateway calls it (`post`, src/adapters/upstream-post.ts);
 * - a bearer token checked by the SHA-256 digest of the token against a map;
 * - the arm chosen by unleash-client's engine on a 50% flag by unit (`UnleashEngine`, the
 *   gateway's own);
 * - the run built, its JSON made once, and written to an append-only file with one `writeSync`
 *   before the reply (the spool's promise: an answered run is on disk);
 * - with `FLOOR_DATABASE_URL` (PostgreSQL) or `FLOOR_DATA_DIR` (the embedded database, in its
 *   worker thread as the gateway runs it), the runs stored in the database too, the cheapest way
 *   the gateway knows: every 50 ms, the JSON texts queued since are one parameter of one
 *   statement (the gateway's own `json_to_recordset` insert into its `runs` table, same indexes,
 *   on PostgreSQL sent as one UTF-8 buffer as the gateway sends it; chain `floor`, no rollout, so
 *   they stay apart from the gateway's), one connection, no
 *   transaction, nothing else (no read models, no feedback, no retries).
 *
 * Left out, though the gateway needs them: validation of the body, rate limiting, metrics,
 * security headers, idempotency, the read-your-writes queue, the read models, redaction, and the
 * group commit (one write per run here). So its CPU per call is a lower bound for any gateway
 * built this way: what the overhead and profile phases set beside the gateway's and the bare
 * proxy's.
 */
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { post } from '../src/adapters/upstream-post.js';
import { newRunId } from '../src/domain/model/run-ids.js';
import { UnleashEngine } from '../src/flags/unleash-engine.js';
import { toUnleashFeature } from '../src/flags/unleash-mapping.js';
import { openDatabase } from '../src/store/db.js';
import { jsonArray, jsonArrayBytes, recordsetInsert } from '../src/store/json-recordset.js';
import { runs } from '../src/store/schema.js';
import { serveChild } from './lib/children.js';

const target = new URL(process.env.UPSTREAM_URL ?? 'http://127.0.0.1:1/invoke');
const upstreamPath = target.pathname;
const pool = new Pool(target.origin, { connections: 256 });
const DEADLINE = new Error('deadline');
const HEADERS = ['content-type', 'application/json', 'accept', 'application/json'];
const TOKEN = process.env.FLOOR_TOKEN ?? 'floor-token';
const digest = (token: string) => createHash('sha256').update(token).digest('base64url');
const principals = new Map([[digest(TOKEN), { tenant: 'acme' }]]);

const engine = new UnleashEngine({ appName: 'bench-floor' });
engine.upsert(toUnleashFeature({ name: 'floor', enabled: true, stages: [{ environments: ['prod'], percent: 50, splitBy: 'unit' }] }));

const dir = mkdtempSync(join(tmpdir(), 'cc-bench-floor-'));
const fd = openSync(join(dir, 'runs.jsonl'), 'a');
let served = 0;

/** FLOOR_DATABASE_URL or FLOOR_DATA_DIR: the runs' JSON queued here and inserted every 50 ms, one statement each time. */
const databaseUrl = process.env.FLOOR_DATABASE_URL || undefined;
const database =
  databaseUrl || process.env.FLOOR_DATA_DIR
    ? await openDatabase({ databaseUrl, dataDir: process.env.FLOOR_DATA_DIR ?? '', poolSize: 1 })
    : undefined;
await database?.migrate();
const insert = recordsetInsert(runs);
let queued: string[] = [];
let stored = 0;
let flushing: Promise<void> | undefined;
async function flush(): Promise<void> {
  while (database && queued.length > 0) {
    const batch = queued;
    queued = [];
    await database.db.execute(insert(databaseUrl ? jsonArrayBytes(batch) : jsonArray(batch), 'ON CONFLICT DO NOTHING'));
    stored += batch.length;
  }
}
const flusher = database
  ? setInterval(() => {
      flushing ??= flush().finally(() => (flushing = undefined));
    }, 50)
  : undefined;

interface Call {
  environment: string;
  unit?: string;
  externalId?: string;
  input?: unknown;
}

const app = Fastify({ logger: false });
app.post('/v1/chains/:chain/invoke', async (req, reply) => {
  const auth = req.headers.authorization;
  const principal = auth?.startsWith('Bearer ') ? principals.get(digest(auth.slice(7))) : undefined;
  if (!principal) return reply.code(401).send({ error: 'unauthorized' });
  const call = req.body as Call;
  const createdAt = Date.now();
  const id = newRunId(createdAt);
  const unitKey = principal.tenant + '/' + (call.unit ?? id);
  const variant = engine.evaluate('floor', { tenant: principal.tenant, environment: call.environment, unitKey });
  const started = performance.now();
  const r = await post(pool, {
    path: upstreamPath,
    headers: HEADERS,
    body: '{"input":' + (JSON.stringify(call.input) ?? 'null') + '}',
    timeoutMs: 10_000,
    deadlineError: DEADLINE,
  });
  const output = (JSON.parse(r.text) as { output?: unknown }).output;
  const run = {
    id,
    chainId: 'floor',
    version: variant === 'candidate' ? 'v2' : 'v1',
    variant,
    rolloutId: null,
    assignmentKey: unitKey,
    tenantId: principal.tenant,
    environment: call.environment,
    unit: call.unit ?? null,
    externalId: call.externalId ?? null,
    input: call.input,
    output,
    latencyMs: performance.now() - started,
    createdAt: new Date(createdAt),
  };
  const json = JSON.stringify(run);
  writeSync(fd, json + '\n');
  if (database) queued.push(json);
  served++;
  return reply.code(r.status === 200 ? 200 : 502).send({ runId: id, variant, output });
});

await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as AddressInfo).port;

serveChild({ url: `http://127.0.0.1:${port}`, token: TOKEN }, async () => {
  await app.close();
  await pool.close();
  clearInterval(flusher);
  await flushing;
  await flush();
  await database?.close();
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return { served, stored };
});
