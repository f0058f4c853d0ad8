/**
 * buildApp(services): the Fastify instance with plugins and routes. It never listens; server.ts
 * does, and tests use inject() or an ephemeral port.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { withCompiledSerialization } from './http/compiled-serializer.js';
import { authPlugin } from './http/plugins/auth.js';
import { concurrencyLimitPlugin } from './http/plugins/concurrency-limit.js';
import { clientErrorHandler } from './http/plugins/client-errors.js';
import { docsPlugin } from './http/plugins/docs.js';
import { loopGuardPlugin } from './http/plugins/loop-guard.js';
import type { UpstreamAllowList } from './adapters/upstream-allow.js';
import { errorHandlerPlugin, frameworkErrors } from './http/plugins/error-handler.js';
import { jsonBodyPlugin } from './http/plugins/json-body.js';
import { metricsPlugin } from './http/plugins/metrics.js';
import { rateLimitPlugin } from './http/plugins/rate-limit.js';
import { securityHeadersPlugin } from './http/plugins/security-headers.js';
import type { OpenAIProviderSettings } from './adapters/openai-provider.js';
import { chainRoutes } from './http/routes/chains.js';
import { datasetRoutes } from './http/routes/datasets.js';
import { replayRoutes } from './http/routes/replays.js';
import { healthRoutes } from './http/routes/health.js';
import { invokeRoutes } from './http/routes/invoke.js';
import { langserveRoutes } from './http/routes/langserve.js';
import { rolloutRoutes } from './http/routes/rollouts.js';
import { rolloutAnalysisRoutes } from './http/routes/rollout-analysis.js';
import { rolloutPlanRoutes } from './http/routes/rollout-plan.js';
import { shadowRoutes } from './http/routes/shadow.js';
import { runRoutes } from './http/routes/runs.js';
import { tenantRoutes } from './http/routes/tenants.js';
import { adminKeyRoutes } from './http/routes/admin-keys.js';
import type { AppServices } from './http/services.js';

export type { AppServices, Readiness } from './http/services.js';

export interface AppOptions {
  bodyLimit: number;
  /** Requests per minute per key (RATE_LIMIT_PER_MINUTE); 0 or unset: no limit. */
  rateLimitPerMinute?: number;
  /** Requests in flight per key (MAX_CONCURRENT_PER_KEY); 0 or unset: no limit. */
  maxConcurrentPerKey?: number;
  /** Invalid tokens per client address per minute (AUTH_FAILURES_PER_MINUTE); 0 or unset: no limit. */
  authFailuresPerMinute?: number;
  /** This deployment's tag in upstream calls' hop header: a request carrying it is a loop (508). */
  hopTag?: string;
  /** UPSTREAM_ALLOW: hosts `http` versions may call; checked when a version is registered. */
  upstreamAllow?: UpstreamAllowList;
  /** The model providers' settings: registering an `openai` version whose provider has none warns. */
  providers?: OpenAIProviderSettings;
  /** Fastify's trustProxy (TRUST_PROXY): whose X-Forwarded-For gives the client address. */
  trustProxy?: boolean | number | string;
  /** Slow-client limits (HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS); unset: 10 s, 60 s, 72 s. */
  timeouts?: ServerTimeouts;
  logger?: FastifyServerOptions['logger'];
  loggerInstance?: FastifyServerOptions['loggerInstance'];
}

// The logger's redaction and serializers: log-options.ts (the recorder thread's logger uses them too).
export { LOG_REDACT, LOG_SERIALIZERS } from './log-options.js';

export interface ServerTimeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 10_000, requestMs: 60_000, keepAliveMs: 72_000 };

/** A hop count as the function Fastify's types accept (the runtime takes the number too). */
function trustProxyOption(v: boolean | number | string): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof v === 'number' ? (_address, hop) => hop < v : v;
}

export async function buildApp(services: AppServices, opts: AppOptions): Promise<FastifyInstance> {
  const timeouts = opts.timeouts ?? DEFAULT_TIMEOUTS;
  const app = Fastify({
    bodyLimit: opts.bodyLimit,
    // A client that sends its headers or body slowly (or not at all) holds a socket and the body
    // buffered so far: both are bounded in time. Node checks them every connectionsCheckingInterval
    // (30 s by default, which would let a 1 s limit run for 30 s): a quarter of the shortest, at
    // most 1 s. requestTimeout covers receiving the request only, not the upstream call after it.
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: {
      headersTimeout: timeouts.headersMs,
      connectionsCheckingInterval: Math.max(25, Math.min(1000, Math.floor(Math.min(timeouts.headersMs, timeouts.requestMs) / 4))),
    },
    ...(opts.trustProxy === undefined ? {} : { trustProxy: trustProxyOption(opts.trustProxy) }),
    clientErrorHandler: clientErrorHandler({ headersMs: timeouts.headersMs, requestMs: timeouts.requestMs }),
    logger: opts.loggerInstance ? undefined : (opts.logger ?? false),
    loggerInstance: opts.loggerInstance,
    // Our logging is per error, not per request: the hot path stays quiet. Nor does it build a
    // child logger per request (with redaction configured, pino re-parses the redact paths for
    // every child: ~1 KB and a few µs per call); error logs carry the request id themselves.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: (logger) => logger,
    // Cursor and filters are short; a long query string is hostile.
    routerOptions: { maxParamLength: 256 },
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // On close, idle keep-alive sockets are closed at once; requests in flight still finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    frameworkErrors,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  // fast-json-stringify for the hot routes' answers, zod for the rest (compiled-serializer.ts).
  app.setSerializerCompiler(withCompiledSerialization(serializerCompiler));

  await app.register(errorHandlerPlugin);
  await app.register(loopGuardPlugin, { hopTag: opts.hopTag });
  await app.register(securityHeadersPlugin);
  await app.register(jsonBodyPlugin);
  await app.register(authPlugin, { catalog: services.catalog, failuresPerMinute: opts.authFailuresPerMinute ?? 0 });
  await app.register(concurrencyLimitPlugin, { perKey: opts.maxConcurrentPerKey ?? 0 });
  await app.register(docsPlugin);
  await app.register(rateLimitPlugin, { perMinute: opts.rateLimitPerMinute ?? 0 });

  await app.register(healthRoutes, { services });
  await app.register(tenantRoutes, { services });
  await app.register(adminKeyRoutes, { services });
  await app.register(chainRoutes, { services, upstreamAllow: opts.upstreamAllow, providers: opts.providers });
  await app.register(invokeRoutes, { services });
  await app.register(langserveRoutes, { services });
  await app.register(metricsPlugin, { metrics: services.metrics });
  await app.register(runRoutes, { services });
  await app.register(rolloutRoutes, { services });
  await app.register(rolloutAnalysisRoutes, { services });
  await app.register(rolloutPlanRoutes, { services });
  await app.register(datasetRoutes, { services });
  await app.register(replayRoutes, { services });
  await app.register(shadowRoutes, { services });
  await app.register((await import('./http/routes/dashboard.js')).dashboardRoutes);
  return app;
}
