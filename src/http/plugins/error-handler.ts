/**
 * The one place where errors become the contract's JSON:
 * `{"error": {"code", "message", "details"?}}` with the fitting status. Domain errors carry their
 * own code and status; Fastify's and zod's errors are translated here; 5xx messages never leak.
 */
import { once } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DatabaseUnavailableError, DomainError } from '../../domain/model/errors.js';
import { isDatabaseUnavailable } from '../../store/db-errors.js';

/** What a 503 database_unavailable asks the client to wait: a restart or failover takes seconds. */
const DATABASE_RETRY_AFTER_S = 5;

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', message: 'Send the body as application/json.' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The body is empty but its content type says JSON.' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', message: 'Content-Length does not match the body.' },
  FST_ERR_VALIDATION: { status: 400, code: 'validation_failed' },
};

/**
 * A 4xx from Fastify or a plugin that carries no code of ours (e.g. @fastify/static's 403 for a
 * path that climbs out of its folder, whose message is just "Forbidden"): a code that fits the
 * status, and a sentence when the error's own message is only the status text.
 */
const BY_STATUS: Record<number, { code: string; message: string }> = {
  400: { code: 'bad_request', message: 'The request is not valid.' },
  403: { code: 'forbidden', message: 'This path is not served: it leaves its folder or names a file that is not public.' },
  404: { code: 'not_found', message: 'Not found.' },
  405: { code: 'method_not_allowed', message: 'This method is not allowed here.' },
  406: { code: 'not_acceptable', message: 'No representation matches the Accept header.' },
  408: { code: 'request_timeout', message: 'The request did not arrive in time.' },
  411: { code: 'length_required', message: 'Send a Content-Length.' },
  412: { code: 'precondition_failed', message: 'A precondition header did not hold.' },
  414: { code: 'uri_too_long', message: 'The URL is too long.' },
  416: { code: 'range_not_satisfiable', message: 'The requested range is outside the file.' },
  431: { code: 'headers_too_large', message: 'The request headers are too large.' },
};

function plainClientError(error: FastifyError, status: number): { code: string; message: string } {
  const known = BY_STATUS[status];
  const message =
    !error.message || error.message === STATUS_CODES[status]
      ? (known?.message ?? STATUS_CODES[status] ?? 'The request is not valid.')
      : error.message;
  if (error.code?.startsWith('FST_ERR_')) return { code: error.code.replace(/^FST_ERR_/, '').toLowerCase(), message };
  return { code: known?.code ?? (status === 400 ? 'bad_request' : `http_${status}`), message };
}

/** How much of an oversized body we read and drop so the client sees the 413 (beyond: close). */
const DRAIN_CAP_BYTES = 256 * 1024 * 1024;

async function drain(request: FastifyRequest): Promise<void> {
  const raw = request.raw;
  if (raw.complete || raw.destroyed) return;
  let seen = 0;
  raw.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > DRAIN_CAP_BYTES) raw.destroy();
  });
  raw.resume();
  await Promise.race([once(raw, 'end'), once(raw, 'close'), new Promise((r) => setTimeout(r, 30_000).unref())]).catch(() => {});
}

function validationMessage(error: FastifyError & { validation: { instancePath?: string; message?: string; params?: unknown }[] }): {
  message: string;
  details: unknown;
} {
  const where = (error as { validationContext?: string }).validationContext ?? 'body';
  const issues = error.validation.map((v) => {
    const path = (v.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    return { field: path ? `${where}.${path}` : where, message: v.message ?? 'is invalid' };
  });
  const first = issues[0]!;
  return { message: `${first.field}: ${first.message}`, details: { issues } };
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any route or hook runs (a URL with
 * malformed percent-encoding, a path parameter over maxParamLength) gets the same error JSON.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.status(414).send(errorBody('uri_too_long', 'A path parameter is longer than the 256 characters accepted.'));
  } else if (error.code === 'FST_ERR_BAD_URL') {
    void reply.status(400).send(errorBody('bad_url', 'The URL is not valid: malformed percent-encoding.'));
  } else {
    void reply.status(error.statusCode && error.statusCode < 500 ? error.statusCode : 400).send(errorBody('bad_request', error.message));
  }
}

export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler(async (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      if (error instanceof DomainError) {
        if (error instanceof DatabaseUnavailableError) reply.header('retry-after', String(DATABASE_RETRY_AFTER_S));
        if (error.statusCode >= 500 && !(error.code.startsWith('upstream') || error.statusCode === 503))
          request.log.error({ err: error, reqId: request.id }, 'domain error');
        return reply.status(error.statusCode).send(errorBody(error.code, error.message, error.details));
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        const { message, details } = validationMessage(error);
        return reply.status(400).send(errorBody('validation_failed', message, details));
      }
      const known = error.code ? FASTIFY_CODES[error.code] : undefined;
      if (known) {
        if (known.status === 413) {
          await drain(request);
          reply.header('connection', 'close');
        }
        const message =
          known.message ??
          (known.status === 413 ? `The body is larger than the limit of ${app.initialConfig.bodyLimit} bytes.` : error.message);
        return reply.status(known.status).send(errorBody(known.code, message));
      }
      if (isDatabaseUnavailable(error)) {
        // Reads and admin writes need the database; a stopped one is an outage, not our bug (README "Outages").
        reply.header('retry-after', String(DATABASE_RETRY_AFTER_S));
        return reply.status(503).send(errorBody('database_unavailable', 'The database is unreachable right now; retry shortly.'));
      }
      if (error instanceof SyntaxError)
        return reply.status(400).send(errorBody('invalid_json', `The body is not valid JSON: ${error.message}`));
      const status = error.statusCode ?? 500;
      if (status === 429) return reply.status(429).send(errorBody('rate_limited', error.message || 'Too many requests; retry later.'));
      if (status >= 400 && status < 500) {
        const { code, message } = plainClientError(error, status);
        return reply.status(status).send(errorBody(code, message));
      }
      request.log.error({ err: error, reqId: request.id }, 'unhandled error');
      return reply.status(500).send(errorBody('internal_error', 'Something went wrong on our side; the error is logged.'));
    });

    app.setNotFoundHandler((request, reply) => {
      reply.status(404).send(errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}.`));
    });
  },
  { name: 'error-handler' },
);
