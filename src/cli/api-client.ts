/** A small client of the gateway's REST API for the CLI and the demo. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';

/** The gateway answered with an error in the contract's shape `{"error": {"code", "message", "details"?}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The gateway could not be reached at all (not running, wrong URL): one line saying so. */
export class GatewayUnreachableError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
  ) {
    super(`Cannot reach the gateway at ${url}: ${reason}. Is it running? Pass --url or set CHAIN_CANARY_URL.`);
    this.name = 'GatewayUnreachableError';
  }
}

export interface ApiClientOptions {
  url: string;
  token: string;
  /** Per request; the planner can take up to 30 s of CPU, so the default leaves room. */
  timeoutMs?: number;
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS)',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer in time',
  UND_ERR_BODY_TIMEOUT: 'no answer in time',
  UND_ERR_SOCKET: 'connection closed',
};

/** The socket-level code of a failed request (undici wraps some; Node's happy eyeballs aggregates). */
function networkCode(err: unknown): string | undefined {
  for (let e: any = err, i = 0; e && i < 4; e = e.cause, i++) {
    if (typeof e.code === 'string' && e.code in UNREACHABLE) return e.code;
    if (Array.isArray(e.errors) && typeof e.errors[0]?.code === 'string' && e.errors[0].code in UNREACHABLE) return e.errors[0].code;
  }
  return undefined;
}

export class ApiClient {
  constructor(private readonly opts: ApiClientOptions) {}

  get url(): string {
    return this.opts.url;
  }

  async call<T = any>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    let target: URL;
    try {
      target = new URL(path, this.opts.url);
    } catch {
      throw new GatewayUnreachableError(this.opts.url, 'not a URL');
    }
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(target, {
        method,
        headers: { authorization: `Bearer ${this.opts.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: this.opts.timeoutMs ?? 60_000,
        bodyTimeout: this.opts.timeoutMs ?? 60_000,
      });
    } catch (err) {
      const code = networkCode(err);
      if (code) throw new GatewayUnreachableError(this.opts.url, `${UNREACHABLE[code]} (${code})`);
      throw err;
    }
    const text = await res.body.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // Something else answers there (a proxy's HTML page, another service).
      throw new ApiError(
        res.statusCode,
        'not_json',
        `${method} ${target.pathname} answered ${res.statusCode} with a body that is not JSON: is ${this.opts.url} a chain-canary gateway?`,
      );
    }
    if (res.statusCode >= 400) {
      throw new ApiError(
        res.statusCode,
        json?.error?.code ?? 'error',
        json?.error?.message ?? `HTTP ${res.statusCode}`,
        json?.error?.details,
      );
    }
    return json as T;
  }
}

export class MissingTokenError extends Error {
  override name = 'MissingTokenError';
}

/** The token from --token, CHAIN_CANARY_TOKEN, ADMIN_TOKEN, or DATA_DIR/admin-token. */
export function resolveToken(explicit?: string): string {
  const fromEnv = explicit ?? process.env.CHAIN_CANARY_TOKEN ?? process.env.ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const file = join(resolve(process.env.DATA_DIR ?? './.chain-canary'), 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new MissingTokenError(
    'No token: pass --token, set CHAIN_CANARY_TOKEN, or run from the folder whose .chain-canary/admin-token holds it.',
  );
}
