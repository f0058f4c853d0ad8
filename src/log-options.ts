/**
 * What the gateway's loggers redact and how they serialize errors: the gateway's thread's logger
 * (server.ts) and the recorder thread's (src/runtime/recorder-thread), whose lines are serialized
 * there before the gateway's logger writes them.
 */
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { stdSerializers } from 'pino';

/** Never log secrets: bearer tokens, created keys, admin tokens. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  'key',
  '*.key',
  'adminToken',
  '*.adminToken',
  'err.params',
];

/**
 * A database error carries the statement's values (runs' inputs and outputs: possibly PII, and a
 * whole batch of them) in `params` and in its message: log the statement and the driver's error.
 */
export const LOG_SERIALIZERS = {
  err: (err: unknown): unknown => {
    if (!(err instanceof DrizzleQueryError)) return stdSerializers.err(err as Error);
    const at = err.stack?.indexOf('\n    at ') ?? -1;
    return {
      type: 'DrizzleQueryError',
      message: `Failed query: ${err.query}`,
      stack: at >= 0 ? `DrizzleQueryError: Failed query${err.stack!.slice(at)}` : undefined,
      cause: err.cause ? stdSerializers.err(err.cause) : undefined,
    };
  },
};
