/**
 * Shared pieces of the fault-injection tests: HTTP calls to a gateway, the setup of one tenant
 * and chain, a steady load that remembers every answered run id, and counting stored runs.
 */
import pg from 'pg';
import { ADMIN } from '../../support/gateway.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function api(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = ADMIN,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Tenant `acme` with a key, chain `extract` with version v1 on `upstreamUrl`. */
export async function setupChain(base: string, upstreamUrl: string, timeoutMs = 10_000): Promise<{ key: string }> {
  const must = async (p: Promise<{ status: number; body: any }>, ok: number[]) => {
    const r = await p;
    if (!ok.includes(r.status)) throw new Error(`setup: ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  };
  await must(api(base, 'PUT', '/v1/tenants/acme', { name: 'ACME' }), [200, 201]);
  const key = await must(api(base, 'POST', '/v1/tenants/acme/keys', { name: 'load' }), [201]);
  await must(api(base, 'PUT', '/v1/chains/extract', { description: 'reliability' }), [200, 201]);
  await must(
    api(base, 'POST', '/v1/chains/extract/versions', { version: 'v1', adapter: { type: 'http', url: upstreamUrl, timeoutMs } }),
    [200, 201],
  );
  return { key: key.body.key };
}

export interface Load {
  /** Run ids of invokes answered 200. */
  readonly answered: string[];
  /** Run ids whose feedback was answered 200. */
  readonly feedbackAnswered: string[];
  /** Count of every outcome: "invoke 200", "invoke 503", "feedback error", ... */
  readonly outcomes: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * `concurrency` loops, each sending an invoke (and every `feedbackEvery`-th time, feedback on
 * the run it got), until stopped. A call that fails in transit is counted, never retried.
 */
export function startLoad(opts: { base: () => string; key: string; concurrency: number; feedbackEvery?: number; pauseMs?: number }): Load {
  const answered: string[] = [];
  const feedbackAnswered: string[] = [];
  const outcomes: Record<string, number> = {};
  const count = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
  let stopped = false;
  let n = 0;
  const loop = async () => {
    while (!stopped) {
      const i = n++;
      try {
        const r = await api(
          opts.base(),
          'POST',
          '/v1/chains/extract/invoke',
          { environment: 'prod', input: { doc: i, text: `document ${i}` } },
          opts.key,
        );
        count(`invoke ${r.status}`);
        if (r.status === 200) {
          answered.push(r.body.runId);
          if (opts.feedbackEvery && i % opts.feedbackEvery === 0) {
            const f = await api(opts.base(), 'POST', `/v1/runs/${r.body.runId}/feedback`, { final: { doc: i + 1 } }, opts.key);
            count(`feedback ${f.status}`);
            if (f.status === 200) feedbackAnswered.push(r.body.runId);
          }
        }
      } catch {
        count('transport error');
        await sleep(20);
      }
      if (opts.pauseMs) await sleep(opts.pauseMs);
    }
  };
  const loops = Array.from({ length: opts.concurrency }, loop);
  return {
    answered,
    feedbackAnswered,
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

/** How many times each of `ids` is stored, and how many runs there are in all. */
export async function storedRuns(
  databaseUrl: string,
  ids: readonly string[],
): Promise<{ total: number; found: Map<string, number>; feedback: Set<string> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = await client.query<{ id: string; n: string }>(
      'SELECT id::text AS id, count(*) AS n FROM runs WHERE id = ANY($1::uuid[]) GROUP BY id',
      [ids],
    );
    const total = await client.query<{ n: string }>('SELECT count(*) AS n FROM runs');
    const fb = await client.query<{ id: string }>('SELECT run_id::text AS id FROM feedback WHERE run_id = ANY($1::uuid[])', [ids]);
    return {
      total: Number(total.rows[0]!.n),
      found: new Map(rows.rows.map((r) => [r.id, Number(r.n)])),
      feedback: new Set(fb.rows.map((r) => r.id)),
    };
  } finally {
    await client.end();
  }
}

/** Polls `fn` until it returns true (or throws after `timeoutMs`). */
export async function eventually(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 20_000, everyMs = 100): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    let last: unknown;
    try {
      if (await fn()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(everyMs);
  }
}
