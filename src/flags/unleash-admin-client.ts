/**
 * Writes a rollout's flag to Unleash through the Admin API (undici). Failures are classified
 * the way unleash-client's repository does it (src/repository/index.ts): configuration errors
 * (401/403, unknown project or environment) stop at once with a clear message; recoverable ones
 * (connection failures, 429, 5xx) are retried with exponential backoff a few times.
 */
import { request } from 'undici';
import type { RolloutFlag } from '../domain/ports/flag-store.js';
import { featureFingerprint, toAdminStrategies, toUnleashFeature, type AdminStrategyPayload } from './unleash-mapping.js';

export type UnleashAdminErrorKind = 'configuration' | 'recoverable' | 'rejected';

export class UnleashAdminError extends Error {
  constructor(
    message: string,
    readonly kind: UnleashAdminErrorKind,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UnleashAdminError';
  }
}

export interface UnleashAdminClientOptions {
  /** The API root, e.g. http://unleash:4242/api */
  url: string;
  adminToken: string;
  project: string;
  /** Retries after the first attempt for recoverable failures. Default 3. */
  retries?: number;
  /** First backoff; doubled each retry, with jitter. Default 250 ms. */
  backoffMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** A strategy as the Admin API lists it. */
export interface AdminStrategy {
  id: string;
  name: string;
  title?: string | null;
  sortOrder?: number;
  disabled?: boolean | null;
  parameters?: Record<string, unknown>;
  constraints?: Array<Record<string, unknown>>;
  variants?: Array<Record<string, unknown>>;
}

export interface AdminFeature {
  name: string;
  project: string;
  archived?: boolean;
  environments: Array<{ name: string; enabled: boolean; strategies: AdminStrategy[] }>;
}

interface Response {
  status: number;
  body: unknown;
}

export class UnleashAdminClient {
  private readonly base: string;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly opts: UnleashAdminClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 250;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
  }

  private featurePath(name: string): string {
    return `/admin/projects/${encodeURIComponent(this.opts.project)}/features/${encodeURIComponent(name)}`;
  }

  private envPath(name: string, environment: string): string {
    return `${this.featurePath(name)}/environments/${encodeURIComponent(environment)}`;
  }

  /** Makes the flag as mapped in one environment: exists, exactly the mapped strategies, on or off. */
  async applyFlag(flag: RolloutFlag, environment: string): Promise<void> {
    const feature = toUnleashFeature(flag);
    const strategies = toAdminStrategies(flag);
    await this.ensureFlag(flag.name);
    if (feature.enabled) {
      // Strategies first: switching on an environment without strategies makes Unleash add a default one.
      await this.setStrategies(flag.name, environment, strategies);
      await this.setEnabled(flag.name, environment, true);
    } else {
      // The kill switch first: routing to control must not wait for the strategy edits.
      await this.setEnabled(flag.name, environment, false);
      await this.setStrategies(flag.name, environment, strategies);
    }
  }

  async getFlag(name: string): Promise<AdminFeature | undefined> {
    const res = await this.call('GET', this.featurePath(name), undefined, [404]);
    return res.status === 404 ? undefined : (res.body as AdminFeature);
  }

  /** Creates the flag in the project unless it exists. An archived name cannot be reused (one flag per rollout). */
  async ensureFlag(name: string): Promise<void> {
    if (await this.getFlag(name)) return;
    const res = await this.call(
      'POST',
      `/admin/projects/${encodeURIComponent(this.opts.project)}/features`,
      { name, type: 'release', description: 'chain-canary rollout flag', impressionData: false },
      [409],
    );
    if (res.status === 409) {
      const message = errorMessage(res.body);
      // Another replica creating it at the same moment is fine; an archived flag is not.
      if (/archived/i.test(message)) {
        throw new UnleashAdminError(`Unleash flag "${name}" is archived and cannot be re-created: ${message}`, 'rejected', 409);
      }
    }
  }

  async listStrategies(name: string, environment: string): Promise<AdminStrategy[]> {
    const res = await this.call('GET', `${this.envPath(name, environment)}/strategies`);
    return Array.isArray(res.body) ? (res.body as AdminStrategy[]) : [];
  }

  /**
   * Replaces the environment's strategies so they end exactly as given: updates strategies whose
   * title matches, adds the missing, then deletes the rest (last, so the set is never empty on
   * the way, which would switch the environment off).
   */
  async setStrategies(name: string, environment: string, wanted: AdminStrategyPayload[]): Promise<void> {
    const existing = await this.listStrategies(name, environment);
    const unused = new Set(existing);
    for (const strategy of wanted) {
      const match = existing.find((s) => unused.has(s) && s.title === strategy.title);
      if (match) {
        unused.delete(match);
        const same =
          featureFingerprint({ enabled: true, strategies: [match] }) === featureFingerprint({ enabled: true, strategies: [strategy] }) &&
          match.sortOrder === strategy.sortOrder &&
          match.disabled !== true;
        // PUT replaces the whole strategy, so the payload is complete.
        if (!same) await this.call('PUT', `${this.envPath(name, environment)}/strategies/${match.id}`, strategy);
      } else {
        await this.call('POST', `${this.envPath(name, environment)}/strategies`, strategy);
      }
    }
    for (const stale of unused) {
      await this.call('DELETE', `${this.envPath(name, environment)}/strategies/${stale.id}`, undefined, [404]);
    }
  }

  /** The environment switch; off is the kill switch (the SDK then answers variant "disabled"). */
  async setEnabled(name: string, environment: string, enabled: boolean): Promise<void> {
    await this.call('POST', `${this.envPath(name, environment)}/${enabled ? 'on' : 'off'}`);
  }

  /** Archives the flag; one already archived or never created is fine. */
  async archive(name: string): Promise<void> {
    await this.call('DELETE', this.featurePath(name), undefined, [404]);
  }

  private async call(method: string, path: string, body?: unknown, allow: number[] = []): Promise<Response> {
    let attempt = 0;
    for (;;) {
      let res: Response;
      try {
        res = await this.once(method, path, body);
      } catch (err) {
        // Connection refused or reset, DNS, timeout: the server may come back.
        const failure = new UnleashAdminError(`Unleash ${method} ${path} failed: ${(err as Error).message}`, 'recoverable', undefined, {
          cause: err,
        });
        if (attempt >= this.retries) throw failure;
        await this.backoff(attempt++);
        continue;
      }
      if ((res.status >= 200 && res.status < 300) || allow.includes(res.status)) return res;
      const detail = `Unleash ${method} ${path} answered ${res.status}: ${errorMessage(res.body)}`;
      if (res.status === 401 || res.status === 403) {
        throw new UnleashAdminError(`${detail} (check the admin token and its permissions)`, 'configuration', res.status);
      }
      if (res.status === 404) {
        throw new UnleashAdminError(`${detail} (check the project "${this.opts.project}" and the environment)`, 'configuration', 404);
      }
      if (res.status === 429 || res.status >= 500) {
        if (attempt >= this.retries) throw new UnleashAdminError(detail, 'recoverable', res.status);
        await this.backoff(attempt++);
        continue;
      }
      throw new UnleashAdminError(detail, 'rejected', res.status);
    }
  }

  private async once(method: string, path: string, body?: unknown): Promise<Response> {
    const res = await request(`${this.base}${path}`, {
      method: method as 'GET',
      headers: {
        authorization: this.opts.adminToken,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (a proxy's error page): keep the text for the message.
    }
    return { status: res.statusCode, body: parsed };
  }

  private backoff(attempt: number): Promise<void> {
    const ms = this.backoffMs * 2 ** attempt;
    return this.sleep(ms / 2 + this.random() * (ms / 2));
  }
}

function errorMessage(body: unknown): string {
  if (body && typeof body === 'object' && 'message' in body) return String(body.message);
  if (typeof body === 'string') return body.slice(0, 200);
  return '';
}
