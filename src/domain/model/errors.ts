/**
 * The coded error hierarchy of the domain. The HTTP error handler (src/http/plugins/error-handler.ts)
 * maps these, and only these, to the contract's `{"error": {code, message, details}}` shape.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends DomainError {
  constructor(message: string, details?: unknown, code = 'bad_request') {
    super(code, 400, message, details);
  }
}

/** 415: a body the gateway cannot read as it is sent (e.g. compressed). */
export class UnsupportedMediaTypeError extends DomainError {
  constructor(message: string, details?: unknown) {
    super('unsupported_media_type', 415, message, details);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'A valid bearer token is required.') {
    super('unauthorized', 401, message);
  }
}

export class ForbiddenError extends DomainError {
  constructor(message = 'This key may not do that.') {
    super('forbidden', 403, message);
  }
}

export class NotFoundError extends DomainError {
  /** `message` and `details` replace the generated ones where `what 'id'` would not say enough. */
  constructor(what: string, id?: string, message?: string, details?: unknown) {
    super(
      'not_found',
      404,
      message ?? (id === undefined ? `${what} not found.` : `${what} '${id}' not found.`),
      details ?? (id === undefined ? undefined : { [what.toLowerCase()]: id }),
    );
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: unknown, code = 'conflict') {
    super(code, 409, message, details);
  }
}

export class RateLimitedError extends DomainError {
  constructor(message: string) {
    super('rate_limited', 429, message);
  }
}

/** The chain's upstream answered with an error (502) or not in time (504). */
export class UpstreamError extends DomainError {
  constructor(
    readonly kind: 'failed' | 'timeout' | 'circuit_open',
    message: string,
    details?: unknown,
  ) {
    super(
      kind === 'timeout' ? 'upstream_timeout' : kind === 'circuit_open' ? 'upstream_unavailable' : 'upstream_failed',
      kind === 'timeout' ? 504 : 502,
      message,
      details,
    );
  }
}

export class UnavailableError extends DomainError {
  constructor(message: string, code = 'unavailable') {
    super(code, 503, message);
  }
}

/**
 * The database cannot be reached (stopped, restarting, the network away): a 503 whose code says
 * so. Stores raise it at their edge (src/store/db-errors.ts) where the domain decides what to do
 * without the database (an Idempotency-Key lookup); elsewhere the error handler maps the driver's
 * error to the same answer.
 */
export class DatabaseUnavailableError extends UnavailableError {
  constructor(message = 'The database is unreachable right now; retry shortly.') {
    super(message, 'database_unavailable');
  }
}

/**
 * The record already exists (a unique key is taken). Stores raise it at their edge in place of
 * the database's own error, so the domain decides what a duplicate means.
 */
export class DuplicateError extends ConflictError {
  constructor(what: string) {
    super(`${what} already exists.`, undefined, 'duplicate');
  }
}

/**
 * The store refused a record as data (PostgreSQL classes 22 and 23: a value it cannot hold, a
 * broken constraint): the record is bad, not the database, so retrying it will not help. The
 * write path sets such records aside rather than holding back those queued behind them.
 * `sqlState` is for logs; the message never carries the record's values (they may be personal).
 */
export class RecordRefusedError extends Error {
  constructor(readonly sqlState: string | undefined) {
    super(`the store refused the record as data${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`);
    this.name = 'RecordRefusedError';
  }
}

/**
 * A pipelined batch rolled back because the batch sent before it did not commit (see
 * BatchPipeline in src/domain/ports/run-repository.ts); it is retried after that one.
 */
export class PreviousBatchFailedError extends Error {
  constructor(readonly previous: unknown) {
    super('the previous batch did not commit');
    this.name = 'PreviousBatchFailedError';
  }
}

/** A call came back to the gateway that made it (a version whose URL points at this gateway). */
export class LoopDetectedError extends DomainError {
  constructor(message: string) {
    super('loop_detected', 508, message);
  }
}
