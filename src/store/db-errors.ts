/**
 * Classifying database errors (node-postgres and PGlite both carry SQLSTATE in `code`, drizzle
 * wraps them in a DrizzleQueryError whose `cause` is the driver's error), and mapping them to the
 * domain's errors at the store's edge, so nothing above the store knows a SQLSTATE.
 */
import { DatabaseUnavailableError, DuplicateError, RecordRefusedError } from '../domain/model/errors.js';

/** The `code` of the error and of its causes (drizzle's error, then the driver's). */
function* codesOf(err: unknown): Generator<string> {
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') yield code;
  }
}

/** The SQLSTATE of a data error (classes 22, data exception, and 23, integrity): the record, not the database, is bad. */
function dataErrorState(err: unknown): string | undefined {
  for (const code of codesOf(err)) if (/^2[23][0-9A-Z]{3}$/.test(code)) return code;
  return undefined;
}

export function isDataError(err: unknown): boolean {
  return dataErrorState(err) !== undefined;
}

/** 23505: a unique index already holds the key. */
export function isUniqueViolation(err: unknown): boolean {
  for (const code of codesOf(err)) if (code === '23505') return true;
  return false;
}

/** 23503: a row it references is gone (or a row it deletes is still referenced). */
export function isForeignKeyViolation(err: unknown): boolean {
  for (const code of codesOf(err)) if (code === '23503') return true;
  return false;
}

/**
 * A data error as the domain's RecordRefusedError; any other error as it is. The database's error
 * is not kept as the cause: drizzle's carries the statement's values (runs' inputs and outputs),
 * and an error's causes end up in its log line.
 */
export function refusedAsData(err: unknown): unknown {
  const state = dataErrorState(err);
  return state ? new RecordRefusedError(state) : err;
}

/** A unique violation as the domain's DuplicateError naming `what`; any other error as it is. */
export function duplicateAs(what: string, err: unknown): unknown {
  return isUniqueViolation(err) ? new DuplicateError(what) : err;
}

/** Socket errors of a connection that cannot be made or was cut. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** node-postgres' own errors for a connection lost or not made, which carry no code. */
const LOST_CONNECTION =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end/i;

/**
 * The database is away rather than the statement wrong: a socket error, SQLSTATE class 08
 * (connection exception), 57P01–57P03 (shutting down, crashed, starting up), 53300 (too many
 * connections), or node-postgres' errors for a lost connection.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (const code of codesOf(err))
    if (NETWORK_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || /^57P0[123]$/.test(code) || code === '53300') return true;
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && LOST_CONNECTION.test(message)) return true;
    if (e instanceof AggregateError && e.errors.some((x) => isDatabaseUnavailable(x))) return true;
  }
  return false;
}

/** A database that is away as the domain's DatabaseUnavailableError; any other error as it is. */
export function unavailableAs(err: unknown): unknown {
  return isDatabaseUnavailable(err) ? new DatabaseUnavailableError() : err;
}
