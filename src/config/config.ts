/**
 * The gateway's configuration: the environment variables of the README's "Configuration",
 * validated once by zod.
 * A bad value stops start-up with one line naming the variable (see formatConfigError).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { UpstreamAllowList } from '../adapters/upstream-allow.js';

const optionalString = z
  .string()
  .trim()
  .transform((s) => (s === '' ? undefined : s))
  .optional();

const url = (what: string) =>
  optionalString.refine((v) => v === undefined || /^https?:\/\/[^\s]+$/.test(v), `must be an http(s) URL (${what})`);

const int = (def: number, min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(def);

export const configSchema = z.object({
  PORT: int(8080, 0, 65535),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), 'must be a postgres:// connection string'),
  /** How long start-up waits for a PostgreSQL that is not up yet (retried with backoff); 0: no wait. */
  DATABASE_CONNECT_TIMEOUT_MS: int(30_000, 0, 3_600_000),
  DATA_DIR: z
    .string()
    .trim()
    .min(1)
    .default('./.chain-canary')
    .transform((p) => resolve(p)),
  UNLEASH_URL: url('the Unleash API base, e.g. http://127.0.0.1:4242/api'),
  UNLEASH_API_TOKEN: optionalString,
  UNLEASH_ADMIN_TOKEN: optionalString,
  UNLEASH_PROJECT: z.string().trim().min(1).default('default'),
  UNLEASH_ENVIRONMENT: z.string().trim().min(1).default('development'),
  /** How often flag definitions are refreshed from Unleash (or from the database, embedded). */
  UNLEASH_REFRESH_MS: int(5000, 100, 600_000),
  ADMIN_TOKEN: optionalString.refine((v) => v === undefined || v.length >= 12, 'must be at least 12 characters'),
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url('the OpenAI API base'),
  AZURE_OPENAI_ENDPOINT: url('the Azure OpenAI endpoint'),
  AZURE_OPENAI_API_KEY: optionalString,
  BODY_LIMIT: int(10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  /**
   * Slow clients (README "Limits and timeouts"): the request line and headers must arrive within
   * HEADERS_TIMEOUT_MS and the whole request, body included, within REQUEST_TIMEOUT_MS (a 408 and
   * the connection closed past either); an idle keep-alive connection is closed after
   * KEEP_ALIVE_TIMEOUT_MS. Node's own defaults are off (Fastify sets requestTimeout to 0).
   */
  HEADERS_TIMEOUT_MS: int(10_000, 100, 600_000),
  REQUEST_TIMEOUT_MS: int(60_000, 100, 3_600_000),
  KEEP_ALIVE_TIMEOUT_MS: int(72_000, 100, 600_000),
  /** Hosts `http` chain versions may call (src/adapters/upstream-allow.ts); unset: any. */
  UPSTREAM_ALLOW: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    try {
      return UpstreamAllowList.parse(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a list of hosts: ${(err as Error).message}` });
      return z.NEVER;
    }
  }),
  WEBHOOK_URL: url('where rollout events are POSTed'),
  WEBHOOK_SECRET: optionalString,
  RETENTION_DAYS: z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Requests per minute per key (rate limit); 0 turns it off. */
  RATE_LIMIT_PER_MINUTE: int(60_000, 0, 10_000_000),
  /** How long feedback waits for a run another replica answered to land in the database (README "Several replicas"); 0: not at all. */
  FEEDBACK_WAIT_MS: int(2000, 0, 60_000),
  /** Requests in flight at once per key (README "Limits and timeouts"); 0 turns it off. */
  MAX_CONCURRENT_PER_KEY: int(64, 0, 1_000_000),
  /** Invalid bearer tokens per client address per minute before 429s (token guessing); 0 turns it off. */
  AUTH_FAILURES_PER_MINUTE: int(30, 0, 1_000_000),
  /**
   * Fastify's trustProxy: which proxies' X-Forwarded-For to believe for the client address (the
   * per-address limits). `true`, a hop count, or a comma-separated list of addresses or CIDRs.
   */
  TRUST_PROXY: optionalString
    .transform((v): boolean | number | string | undefined =>
      v === undefined || v === 'false' ? undefined : v === 'true' ? true : /^\d+$/.test(v) ? Number(v) : v,
    )
    .refine(
      (v) => typeof v !== 'string' || /^[0-9A-Fa-f:./, ]+$/.test(v),
      'must be true, false, a hop count, or addresses/CIDRs separated by commas',
    ),
  /**
   * PostgreSQL mode: the run writer's batches (inserts, read models, the driver's work) are written
   * by a thread of their own (src/runtime/recorder-thread), off the thread that answers calls.
   * Ignored with the embedded database, whose database already runs in its own thread. Off by
   * default: the thread costs about 25 MB of RSS (README "Performance").
   */
  RECORDER_THREAD: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  /** Largest size of the run spool (runs answered but not yet in the database) before 503s. */
  SPOOL_MAX_BYTES: int(1024 * 1024 * 1024, 1024 * 1024, Number.MAX_SAFE_INTEGER),
  /** Period of the guardrail and auto-advance job. */
  GUARDRAIL_INTERVAL_MS: int(10_000, 100, 3_600_000),
  /** Shadow calls in flight on this replica, over all rollouts; more are skipped (README "Shadow runs"). */
  SHADOW_MAX_CONCURRENT: int(64, 0, 100_000),
});

export type Config = z.infer<typeof configSchema>;

/** Rules between variables, checked after each is valid on its own. */
function crossCheck(config: Config): string | undefined {
  // Node refuses a headers timeout longer than the request timeout (the request includes them).
  if (config.HEADERS_TIMEOUT_MS > config.REQUEST_TIMEOUT_MS)
    return `HEADERS_TIMEOUT_MS must be at most REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS})`;
  return undefined;
}

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked: Record<string, string | undefined> = {};
  for (const key of Object.keys(configSchema.shape)) picked[key] = env[key];
  const parsed = configSchema.safeParse(picked);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}`);
  }
  const conflict = crossCheck(parsed.data);
  if (conflict) throw new ConfigError(`Invalid configuration: ${conflict}`);
  return parsed.data;
}
