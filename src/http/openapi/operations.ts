/**
 * Per-operation documentation, applied to every route as @fastify/swagger builds the document:
 * a route's own `schema.operationId`, `schema.summary` and `tags` when it has them, and otherwise
 * ones derived from its method and path, so that a route added without them still gets a unique
 * operationId, a summary and a tag; and a 401/403 for routes that need a token and list no 4xx.
 */
import type { RouteOptions } from 'fastify';

type FreeformSchema = Record<string, any>;

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** `/v1/rollouts/:id/comparison` → ['v1', 'rollouts', 'by', 'id', 'comparison']. */
function words(url: string): string[] {
  return url
    .split('/')
    .filter(Boolean)
    .map((s) => (s.startsWith(':') ? `by ${s.slice(1)}` : s))
    .flatMap((s) => s.split(/[^A-Za-z0-9]+/))
    .filter(Boolean);
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** GET /v1/rollouts/:id/comparison → getV1RolloutsByIdComparison. */
export function deriveOperationId(method: string, url: string): string {
  return [method.toLowerCase(), ...words(url).map(capitalize)].join('');
}

/** The first sentence of a description, or the method and path in words. */
export function deriveSummary(method: string, url: string, description?: string): string {
  const first = description
    ?.split(/(?<=[.!?])\s/)[0]
    ?.replace(/[.:]$/, '')
    .trim();
  if (first && first.length <= 80) return first;
  return `${method.toUpperCase()} ${url}`;
}

/** The first path segment after the version: /v1/tenants/... → tenants. */
function deriveTag(url: string): string {
  return words(url).filter((w) => !/^v\d+$/.test(w))[0] ?? 'gateway';
}

export function describeOperation(schema: FreeformSchema, route: RouteOptions): FreeformSchema {
  const method = Array.isArray(route.method) ? route.method[0]! : route.method;
  const out: FreeformSchema = { ...schema };
  out.operationId ??= deriveOperationId(method, route.url);
  out.summary ??= deriveSummary(method, route.url, schema.description);
  out.tags ??= [deriveTag(route.url)];
  const isPublic = route.config?.access === 'public';
  if (isPublic) out.security = [];
  const responses = { ...(out.response ?? {}) };
  // Every route behind auth can answer 401 (no or unknown token) and 403 (a tenant key on an admin route).
  if (!isPublic && !Object.keys(responses).some((code) => code.startsWith('4'))) {
    responses['401'] = { description: 'No token, or an unknown one.', ...ERROR_REF };
    responses['403'] = { description: 'This token may not do this.', ...ERROR_REF };
  }
  if (Object.keys(responses).length) out.response = responses;
  return out;
}
