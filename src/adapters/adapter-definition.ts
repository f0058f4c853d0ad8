/**
 * The adapter definition of a chain version (README, "Chain versions"): how the gateway
 * calls that version's upstream. Versions are immutable, so these objects are strict: a typo in a
 * field name is a 400 at registration rather than a silently ignored setting in production.
 *
 * Beyond the contract, both kinds accept `timeoutMs`, and `openai` accepts `maxRetries` and
 * `strictSchema`; the defaults are applied by the schema, so the stored definition says exactly
 * what runs (and `{url}` registered twice, once with the default spelled out, compares equal).
 */
import { z } from 'zod';
import { canonicalJson } from '../domain/overrides/canonical-json.js';

/** A version's timeout when it names none. LLM calls get longer: a long prompt easily takes 30 s. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;
export const DEFAULT_OPENAI_TIMEOUT_MS = 60_000;
export const MAX_TIMEOUT_MS = 600_000;

// RFC 9110 §5.6.2 token: what a header field name may contain.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// CR, LF and NUL would let a value smuggle another header (request splitting).
const HEADER_VALUE = /^[^\r\n\0]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Set by the adapter itself (body framing, connection reuse); a version overriding them would
// break the request rather than configure it.
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
  // The loop guard's (http-adapter.ts HOP_HEADER): a version must not be able to hide it.
  'x-chain-canary-hop',
]);

const timeoutMs = (fallback: number) => z.int().min(1).max(MAX_TIMEOUT_MS, `at most ${MAX_TIMEOUT_MS} ms`).default(fallback);

/** `{"env": "NAME"}`: read from the gateway's environment at call time, so no secret is stored. */
export const envReferenceSchema = z.strictObject({
  env: z.string().regex(ENV_NAME, 'an environment variable name such as LANGSERVE_TOKEN'),
});
export type EnvReference = z.infer<typeof envReferenceSchema>;

export const headerValueSchema = z.union(
  [z.string().max(8192).regex(HEADER_VALUE, 'a header value may not contain CR, LF or NUL'), envReferenceSchema],
  { error: 'a header value is a string or {"env": "NAME"}' },
);
export type HeaderValue = z.infer<typeof headerValueSchema>;

const upstreamUrlSchema = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a valid absolute URL' });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'the URL must be http or https' });
  }
  // user:password@host would put a secret into an immutable, readable version.
  if (url.username !== '' || url.password !== '') {
    ctx.addIssue({ code: 'custom', message: 'credentials may not be part of the URL; use a header with {"env": "NAME"}' });
  }
});

export const httpAdapterDefinitionSchema = z.strictObject({
  type: z.literal('http'),
  url: upstreamUrlSchema,
  timeoutMs: timeoutMs(DEFAULT_HTTP_TIMEOUT_MS),
  // Names are checked here rather than by a key schema, whose failure zod reports only as
  // "Invalid key in record"; the 400 should say which header and why.
  headers: z
    .record(z.string(), headerValueSchema)
    .superRefine((headers, ctx) => {
      const seen = new Set<string>();
      for (const name of Object.keys(headers)) {
        const lower = name.toLowerCase();
        if (!HEADER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid HTTP header name' });
        else if (RESERVED_HEADERS.has(lower)) ctx.addIssue({ code: 'custom', path: [name], message: 'this header is set by the gateway' });
        else if (seen.has(lower))
          ctx.addIssue({ code: 'custom', path: [name], message: 'header names are case-insensitive: this header is given twice' });
        seen.add(lower);
      }
    })
    .optional(),
});
export type HttpAdapterDefinition = z.infer<typeof httpAdapterDefinitionSchema>;

export const chatMessageSchema = z.strictObject({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const openaiAdapterDefinitionSchema = z
  .strictObject({
    type: z.literal('openai'),
    provider: z.enum(['openai', 'azure']).default('openai'),
    model: z.string().min(1),
    /** Azure only: the deployment name; defaults to `model`. */
    deployment: z.string().min(1).optional(),
    /** Azure only: the `api-version` query parameter. */
    apiVersion: z.string().min(1).optional(),
    messages: z.array(chatMessageSchema).min(1),
    /** A JSON Schema; the reply is parsed as JSON and becomes the output. */
    responseFormat: z.record(z.string(), z.unknown()).optional(),
    /** Sent as `json_schema.strict`; OpenAI then requires every property listed in `required`. */
    strictSchema: z.boolean().optional(),
    temperature: z.number().min(0).max(2).optional(),
    timeoutMs: timeoutMs(DEFAULT_OPENAI_TIMEOUT_MS),
    /** A completion is not idempotent (it costs tokens and may differ), so no retries unless asked. */
    maxRetries: z.int().min(0).max(5).default(0),
  })
  .superRefine((def, ctx) => {
    if (def.provider !== 'azure') {
      for (const field of ['deployment', 'apiVersion'] as const) {
        if (def[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `${field} applies to provider "azure" only` });
      }
    }
    if (def.strictSchema !== undefined && def.responseFormat === undefined) {
      ctx.addIssue({ code: 'custom', path: ['strictSchema'], message: 'strictSchema needs a responseFormat' });
    }
  });
export type OpenAIAdapterDefinition = z.infer<typeof openaiAdapterDefinitionSchema>;

export const adapterDefinitionSchema = z.discriminatedUnion('type', [httpAdapterDefinitionSchema, openaiAdapterDefinitionSchema]);
/** A parsed definition: defaults applied. */
export type AdapterDefinition = z.infer<typeof adapterDefinitionSchema>;
/** What a client may send: defaults not yet applied. */
export type AdapterDefinitionInput = z.input<typeof adapterDefinitionSchema>;

/**
 * A stable JSON text of a parsed definition (the code base's one canonical JSON, canonical-json.ts:
 * keys sorted at every depth, undefined members dropped), used to decide whether a re-registered
 * version is the same (200) or a conflicting one (409). Pass the parsed value so that defaults
 * spelled out or left out compare equal. Array order is kept: it means something (message order).
 * Note that sorting also ignores the order of a JSON Schema's `properties`, which OpenAI uses for
 * the order of generated fields; that order carries no meaning in the output.
 */
export function canonicalAdapterJson(def: AdapterDefinition): string {
  return canonicalJson(def);
}
