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
 *   before the reply (the spool's promise: an answered run is on disk).
 *
 * Left out, though the gateway needs them: validation of the body, rate limiting, metrics,
 * security headers, idempotency, the read-your-writes queue, the database write of the run (which
 * a worker thread could take), redaction, and the group commit (one write per run here). So its
 * CPU per call is a lower bound for any gateway built this way: what the profile phase sets
 * beside the gateway's and the bare proxy's.
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
    chainId: (req.params as { chain: string }).chain,
    variant,
    tenantId: principal.tenant,
    environment: call.environment,
    unit: call.unit ?? null,
    externalId: call.externalId ?? null,
    input: call.input,
    output,
    latencyMs: performance.now() - started,
    createdAt: new Date(createdAt),
  };
  writeSync(fd, JSON.stringify(run) + '\n');
  served++;
  return reply.code(r.status === 200 ? 200 : 502).send({ runId: id, variant, output });
});

await app.listen({ port: 0, host: '127.0.0.1' });
const port = (app.server.address() as AddressInfo).port;

serveChild({ url: `http://127.0.0.1:${port}`, token: TOKEN }, async () => {
  await app.close();
  await pool.close();
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return { served };
});
