/**
 * LangServe-compatible routes, so a LangChain app switches to the gateway by changing its
 * RemoteRunnable's URL to `<gateway>/chains/<chain>`:
 *   POST /chains/:chain/invoke  {"input", "config", "kwargs"} -> {"output", "metadata": {"run_id", ...}}
 *   POST /chains/:chain/batch   {"inputs", "config", "kwargs"} -> {"output": [...], "metadata": {"run_ids", ...}}
 *   POST /chains/:chain/stream  server-sent events: metadata (run id), one data event with the whole
 *                               output, end. The gateway does not stream tokens (the adapters answer
 *                               whole), so the stream is honest about that: one chunk.
 *   POST /chains/:chain/stream_log, /stream_events  the same call as LangServe's run-log patches and
 *                               stream events, whose run id (RunLog state.id, event run_id) is where
 *                               LangChain's streamLog() and streamEvents() hand it to the app.
 * Who calls: config.configurable.tenant / .environment, else the x-tenant / x-environment headers;
 * the bearer token as on /v1 (RemoteRunnable's `options.headers`). Each call is the same run as a
 * /v1 invoke (routing, recording, metrics), so its run id takes feedback at /v1/runs/:id/feedback.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Principal } from '../../domain/auth/principal.js';
import { BadRequestError } from '../../domain/model/errors.js';
import type { InvokeRequest, InvokeResult } from '../../domain/services/invoke-service.js';
import { answerHeaders, batchItemKey, idempotencyKeyOf, serverTiming, warnIfNotJournaled } from '../invoke-reply.js';
import { actingTenant } from '../plugins/auth.js';
import { chainParams } from '../schemas/catalog.js';
import { errorResponses } from '../schemas/common.js';
import {
  langserveBatchBody,
  langserveBatchErrorResponse,
  langserveBatchResponse,
  langserveErrorResponse,
  langserveHeaders,
  langserveInvokeBody,
  langserveInvokeResponse,
  langserveStreamErrorResponse,
  langserveStreamResponse,
  type LangserveConfig,
} from '../schemas/langserve.js';
import type { AppServices } from '../services.js';
import { upstreamErrorView } from './upstream-error-view.js';

/** Upstream calls of one batch in flight at once, unless the config asks for fewer. */
const BATCH_CONCURRENCY = 8;

type Caller = Pick<InvokeRequest, 'tenant' | 'environment' | 'unit' | 'externalId' | 'metadata'>;
type Headers = { 'x-tenant'?: string; 'x-environment'?: string };

/** Who a call is for, from its config and the headers; `at` names the config in error messages. */
function callerOf(principal: Principal, config: LangserveConfig | null | undefined, headers: Headers, at: string): Caller {
  const c = config?.configurable ?? undefined;
  const tenant = actingTenant(principal, c?.tenant ?? headers['x-tenant']);
  if (tenant === undefined) {
    throw new BadRequestError(`${at}.configurable.tenant: is required with an admin token (or send the x-tenant header)`, {
      field: `${at}.configurable.tenant`,
    });
  }
  const environment = c?.environment ?? headers['x-environment'];
  if (environment === undefined) {
    throw new BadRequestError(`${at}.configurable.environment: is required (or send the x-environment header)`, {
      field: `${at}.configurable.environment`,
    });
  }
  return { tenant, environment, unit: c?.unit, externalId: c?.externalId ?? c?.external_id, metadata: metadataOf(config) };
}

/**
 * The config's metadata, stored with the run. LangChain copies every primitive configurable value
 * into metadata (ensureConfig in @langchain/core); those copies say nothing new and are dropped.
 */
function metadataOf(config: LangserveConfig | null | undefined): Record<string, unknown> | undefined {
  const metadata = config?.metadata;
  if (!metadata) return undefined;
  const configurable = (config.configurable ?? {}) as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(metadata)) {
    if (Object.hasOwn(configurable, k) && configurable[k] === v) continue;
    (out ??= {})[k] = v;
  }
  return out;
}

function runMetadata(r: InvokeResult) {
  return {
    run_id: r.runId,
    feedback_tokens: [],
    chain: r.chain,
    version: r.version,
    variant: r.variant,
    ...(r.fallback ? { fallback: true as const } : {}),
  };
}

/** One server-sent event; JSON.stringify never emits a raw line break, so the payload is one data line. */
function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Runs `fn` over `items` with at most `limit` in flight; every call settles before this does. */
async function settleAll<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!, i) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const langserveRoutes: FastifyPluginAsyncZod<{ services: Pick<AppServices, 'invoke' | 'journal'> }> = async (app, { services }) => {
  const tags = ['langserve'];
  const access = { access: 'tenant' as const };

  const invokeOne = async (chain: string, input: unknown, caller: Caller, idempotencyKey: string | undefined): Promise<InvokeResult> =>
    services.invoke.invoke({ chain, input, ...caller, idempotencyKey });

  app.post(
    '/chains/:chain/invoke',
    {
      config: access,
      schema: {
        tags,
        operationId: 'langserveInvoke',
        summary: 'LangServe invoke (LangChain RemoteRunnable)',
        description:
          'What `RemoteRunnable.invoke()` sends. The tenant and environment come from `config.configurable` or the `x-tenant` / `x-environment` headers; `metadata.run_id` takes feedback at `/v1/runs/{runId}/feedback`. `Idempotency-Key` and `Server-Timing` as on `/v1/chains/{chain}/invoke`.',
        params: chainParams,
        headers: langserveHeaders,
        body: langserveInvokeBody,
        response: { 200: langserveInvokeResponse, 502: langserveErrorResponse, 504: langserveErrorResponse, ...errorResponses },
      },
    },
    async (req, reply) => {
      const caller = callerOf(req.principal, req.body.config, req.headers, 'body.config');
      const result = await invokeOne(req.params.chain, req.body.input, caller, idempotencyKeyOf(req.headers['idempotency-key']));
      const failed = answerHeaders(reply, result, req.principal, services.journal);
      if (failed) return reply.status(failed.status).send(failed.body);
      return reply.send({ output: result.output ?? null, metadata: runMetadata(result) });
    },
  );

  app.post(
    '/chains/:chain/batch',
    {
      config: access,
      schema: {
        tags,
        operationId: 'langserveBatch',
        summary: 'LangServe batch (LangChain RemoteRunnable)',
        description:
          'What `RemoteRunnable.batch()` sends: one run per input, each routed and recorded like an invoke (a config per input may name different tenants). Every caller is checked before any call is made. If any call fails, the answer is 502 (504 when every failure was a timeout) with all run ids and the failures in `error.details.failures`. An `Idempotency-Key` covers the whole batch (each input is keyed as `<key> <index>`: the key, a space and the index of the input; a key from a client cannot hold a space, so no single call meets a batch item). `Server-Timing` sums the calls.',
        params: chainParams,
        headers: langserveHeaders,
        body: langserveBatchBody,
        response: { 200: langserveBatchResponse, 502: langserveBatchErrorResponse, 504: langserveBatchErrorResponse, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { inputs, config } = req.body;
      const chain = req.params.chain;
      const configOf = (i: number) => (Array.isArray(config) ? config[i] : config);
      const at = (i: number) => (Array.isArray(config) ? `body.config.${i}` : 'body.config');
      const callers = inputs.map((_, i) => callerOf(req.principal, configOf(i), req.headers, at(i)));
      // Fail before any upstream call for what would fail every item or a later one.
      services.invoke.assertCallable(chain, new Set(callers.map((c) => c.tenant)), new Set(callers.map((c) => c.environment)));
      const key = idempotencyKeyOf(req.headers['idempotency-key']);
      const first = configOf(0);
      const limit = Math.min(BATCH_CONCURRENCY, first?.maxConcurrency ?? first?.max_concurrency ?? BATCH_CONCURRENCY);

      const settled = await settleAll(inputs, limit, (input, i) =>
        invokeOne(chain, input, callers[i]!, key === undefined ? undefined : batchItemKey(key, i)),
      );
      // Not an upstream failure (those are results): e.g. the chain has no version yet, or the
      // spool is full (each call checks before its upstream is called, so then none is).
      const refused = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (refused) throw refused.reason;
      const results = settled.map((s) => (s as PromiseFulfilledResult<InvokeResult>).value);

      let latencyMs = 0;
      let upstreamMs = 0;
      for (const r of results) {
        latencyMs += r.latencyMs;
        upstreamMs += r.upstreamMs;
      }
      reply.header('server-timing', serverTiming({ latencyMs, upstreamMs }));
      if (results.length > 0 && results.every((r) => r.replayed)) reply.header('idempotent-replayed', 'true');
      const notJournaled = results.find((r) => services.journal.notJournaled(r.runId));
      if (notJournaled) warnIfNotJournaled(reply, services.journal, notJournaled.runId);

      const runIds = results.map((r) => r.runId);
      const failures = results.flatMap((r, index) =>
        r.error ? [{ index, runId: r.runId, code: r.error.code, message: upstreamErrorView(r.error, req.principal).message }] : [],
      );
      if (failures.length > 0) {
        const allTimeouts = failures.every((f) => f.code === 'upstream_timeout');
        const firstFailure = failures[0]!;
        return reply.status(allTimeouts ? 504 : 502).send({
          runIds,
          error: {
            code: allTimeouts ? 'upstream_timeout' : 'upstream_failed',
            message: `${failures.length} of ${results.length} calls failed; the first (input ${firstFailure.index}, run ${firstFailure.runId}): ${firstFailure.message}`,
            details: { failures },
          },
        });
      }
      return reply.send({
        output: results.map((r) => r.output ?? null),
        metadata: { run_ids: runIds, responses: results.map(runMetadata) },
      });
    },
  );

  /**
   * The three streaming endpoints share everything but their events: the call runs whole (the
   * gateway does not stream tokens), an upstream failure is answered before any event as 502/504
   * JSON with the run id, and the events carry the run id where LangChain's client reads it.
   */
  const streamRoute = (
    path: string,
    operationId: string,
    summary: string,
    description: string,
    events: (result: InvokeResult, chain: string, input: unknown) => string[],
  ) =>
    app.post(
      `/chains/:chain/${path}`,
      {
        config: access,
        schema: {
          tags,
          operationId,
          summary,
          description,
          params: chainParams,
          headers: langserveHeaders,
          body: langserveInvokeBody,
          response: {
            200: langserveStreamResponse,
            502: langserveStreamErrorResponse,
            504: langserveStreamErrorResponse,
            ...errorResponses,
          },
        },
      },
      async (req, reply) => {
        const caller = callerOf(req.principal, req.body.config, req.headers, 'body.config');
        const result = await invokeOne(req.params.chain, req.body.input, caller, idempotencyKeyOf(req.headers['idempotency-key']));
        const failed = answerHeaders(reply, result, req.principal, services.journal);
        // The client reads the error text from a top-level `message` (stream) or the body's text.
        if (failed) return reply.status(failed.status).send({ ...failed.body, message: failed.body.error.message });
        const body = events(result, req.params.chain, req.body.input).join('') + 'event: end\n\n';
        return reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').send(body);
      },
    );

  streamRoute(
    'stream',
    'langserveStream',
    'LangServe stream (LangChain RemoteRunnable)',
    'What `RemoteRunnable.stream()` sends; answers `text/event-stream` with LangServe\'s events: `metadata` (`{"run_id"}`), one `data` event holding the whole output (the gateway runs the chain version whole; it does not stream tokens), then `end`. An upstream failure is answered before any event, as 502/504 JSON with the run id.',
    (r) => [sse('metadata', { run_id: r.runId, ...(r.fallback ? { fallback: true } : {}) }), sse('data', r.output ?? null)],
  );

  streamRoute(
    'stream_log',
    'langserveStreamLog',
    'LangServe stream_log (RemoteRunnable.streamLog)',
    "What `RemoteRunnable.streamLog()` (Python: `astream_log`) sends; answers `text/event-stream` with LangServe's run-log patches as `data` events: the run's initial state (its `id` is the run id, so `RunLog.state.id` takes feedback at `/v1/runs/{runId}/feedback`), the whole output streamed once, the final output, then `end`. The include/exclude filters and `diff` are accepted; there are no inner runs to filter.",
    (r, chain) => {
      const output = r.output ?? null;
      return [
        sse('data', {
          ops: [
            {
              op: 'replace',
              path: '',
              value: { id: r.runId, name: chain, type: 'chain', streamed_output: [], final_output: null, logs: {} },
            },
          ],
        }),
        sse('data', { ops: [{ op: 'add', path: '/streamed_output/-', value: output }] }),
        sse('data', { ops: [{ op: 'replace', path: '/final_output', value: output }] }),
      ];
    },
  );

  streamRoute(
    'stream_events',
    'langserveStreamEvents',
    'LangServe stream_events (RemoteRunnable.streamEvents)',
    'What `RemoteRunnable.streamEvents()` (Python: `astream_events`) sends; answers `text/event-stream` with one `data` event each for `on_chain_start`, `on_chain_stream` (the whole output) and `on_chain_end`, each with `run_id` (the run id, for `/v1/runs/{runId}/feedback`) and `metadata` (version, variant, fallback), then `end`.',
    (r, chain, input) => {
      const base = { name: chain, run_id: r.runId, tags: [], metadata: runMetadata(r) };
      const output = r.output ?? null;
      return [
        sse('data', { event: 'on_chain_start', ...base, data: { input } }),
        sse('data', { event: 'on_chain_stream', ...base, data: { chunk: output } }),
        sse('data', { event: 'on_chain_end', ...base, data: { input, output } }),
      ];
    },
  );
};
