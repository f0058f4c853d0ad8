/** A small client of the gateway's REST API for the CLI and the demo. */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiClientOptions {
  url: string;
  token: string;
}

export class ApiClient {
  constructor(private readonly opts: ApiClientOptions) {}

  async call<T = any>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
    const res = await request(new URL(path, this.opts.url), {
      method,
      headers: { authorization: `Bearer ${this.opts.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    const json = text ? JSON.parse(text) : undefined;
    if (res.statusCode >= 400) {
      throw new ApiError(res.statusCode, json?.error?.code ?? 'error', json?.error?.message ?? `HTTP ${res.statusCode}`);
    }
    return json as T;
  }
}

/** The token from --token, CHAIN_CANARY_TOKEN, ADMIN_TOKEN, or DATA_DIR/admin-token. */
export function resolveToken(explicit?: string): string {
  const fromEnv = explicit ?? process.env.CHAIN_CANARY_TOKEN ?? process.env.ADMIN_TOKEN;
  if (fromEnv) return fromEnv;
  const file = join(resolve(process.env.DATA_DIR ?? './.chain-canary'), 'admin-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new Error('No token: pass --token, set CHAIN_CANARY_TOKEN, or run from the folder whose .chain-canary/admin-token holds it.');
}
