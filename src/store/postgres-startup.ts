/**
 * Start-up against PostgreSQL: wait (bounded) for a server that is not up yet, and when it cannot
 * be used, say in one line where we tried (host, port, database, user; never the password) and
 * why (README: Production setup).
 *
 * Failures are classified the way unleash-client's repository classifies fetch errors
 * (src/repository/index.ts): a server that is not there yet or still starting is retried with
 * backoff until the deadline; a wrong database name or a refused login will not mend by waiting
 * and stops at once.
 */
import pg from 'pg';

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Start-up could not use PostgreSQL; `message` is the one line to print. */
export class DatabaseStartupError extends Error {
  constructor(
    message: string,
    readonly target: PostgresTarget,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'DatabaseStartupError';
  }
}

/** Where a connection string points, with node-postgres's own defaults (PGHOST, PGUSER, ...). */
export function describeTarget(connectionString: string): PostgresTarget {
  // A Client reads its connection parameters when constructed; it connects only on connect().
  const p = (
    new pg.Client({ connectionString }) as unknown as {
      connectionParameters: { host?: string; port?: number; database?: string; user?: string };
    }
  ).connectionParameters;
  return { host: p.host ?? 'localhost', port: Number(p.port ?? 5432), database: p.database ?? p.user ?? '', user: p.user ?? '' };
}

export function targetText(t: PostgresTarget): string {
  return `PostgreSQL at ${t.host}:${t.port} (database "${t.database}", user "${t.user}")`;
}

interface Classified {
  /** Worth waiting for: the server is not up yet, starting, or full. */
  retry: boolean;
  /** A few words a person recognises. */
  cause: string;
}

/** The error's code: node-postgres's SQLSTATE, or the socket's errno (first of an AggregateError). */
function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors) && e.errors.length) return codeOf(e.errors[0]);
  return undefined;
}

export function classifyConnectError(err: unknown, target: PostgresTarget): Classified {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case 'ECONNREFUSED':
      return { retry: true, cause: 'connection refused (is PostgreSQL running and listening there?)' };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { retry: true, cause: `host "${target.host}" not found` };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return { retry: true, cause: `network error (${code})` };
    case '57P03': // cannot_connect_now: starting up, shutting down, in recovery
      return { retry: true, cause: `server not ready (${message})` };
    case '53300': // too_many_connections
      return { retry: true, cause: `too many connections (${message})` };
    case '3D000': // invalid_catalog_name
      return { retry: false, cause: `unknown database "${target.database}" (create it, or fix the database name in DATABASE_URL)` };
    case '28P01': // invalid_password
    case '28000': // invalid_authorization_specification: no such role, or pg_hba.conf refuses
      return { retry: false, cause: `authentication failed (${message})` };
  }
  // node-postgres's own connect timeout and a socket closed during start-up have no code.
  if (/timeout|terminated unexpectedly|Connection terminated/i.test(message)) return { retry: true, cause: `no answer (${message})` };
  return { retry: false, cause: code ? `${message} (${code})` : message };
}

export interface WaitOptions {
  /** How long to keep retrying a server that is not up yet; 0: one attempt. */
  timeoutMs: number;
  /** Told before each wait: what failed and when the next attempt is. */
  onRetry?: (info: { target: PostgresTarget; cause: string; attempt: number; delayMs: number }) => void;
}

/** First delay and cap of the exponential backoff between attempts. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 4000;

/**
 * Resolves once a connection to `connectionString` answers `select 1`; throws a
 * DatabaseStartupError otherwise: at once for a configuration error, after `timeoutMs` for a
 * server that never came up.
 */
export async function waitForPostgres(connectionString: string, opts: WaitOptions): Promise<void> {
  const target = describeTarget(connectionString);
  const deadline = Date.now() + opts.timeoutMs;
  for (let attempt = 1, delay = FIRST_DELAY_MS; ; attempt++, delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    const left = deadline - Date.now();
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: Math.max(1000, Math.min(5000, left)) });
    // A server closing the socket mid-handshake emits 'error' on the client as well as rejecting.
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (err) {
      const { retry, cause } = classifyConnectError(err, target);
      const remaining = deadline - Date.now();
      if (!retry || remaining <= 0) {
        const waited =
          retry && opts.timeoutMs > 0 ? `; gave up after ${Math.round(opts.timeoutMs / 1000)} s (DATABASE_CONNECT_TIMEOUT_MS)` : '';
        throw new DatabaseStartupError(`Cannot connect to ${targetText(target)}: ${cause}${waited}`, target, err);
      }
      const wait = Math.min(delay, remaining);
      opts.onRetry?.({ target, cause, attempt, delayMs: wait });
      await new Promise((r) => setTimeout(r, wait));
    } finally {
      await client.end().catch(() => {});
    }
  }
}

/** A migration that failed on a reachable server (e.g. no CREATE permission): one line, with the driver's reason. */
export function migrationError(connectionString: string, err: unknown): DatabaseStartupError {
  const target = describeTarget(connectionString);
  // drizzle wraps the driver's error ("Failed query: ...") and keeps it as `cause`.
  const inner = (err as { cause?: unknown }).cause ?? err;
  const code = codeOf(inner);
  const message = inner instanceof Error ? inner.message : String(inner);
  return new DatabaseStartupError(`Cannot migrate ${targetText(target)}: ${message}${code ? ` (${code})` : ''}`, target, err);
}
