/**
 * Whole-document touches after @fastify/swagger has built it: only the component schemas that
 * some operation reaches are kept (fastify-type-provider-zod emits an input and an output variant
 * of each), and a component used only as input loses its `Input` suffix, so a request body reads
 * `RolloutSpec`, not `RolloutSpecInput`; and the examples of examples.ts go on their operations'
 * JSON media (next to a `$ref`, where a schema-level example would be dropped); a tag an operation
 * uses but docs.ts does not declare is declared, so a new route group is listed all the same; the
 * LangServe streaming operations answer `text/event-stream`.
 */
import { EVENT_STREAM_OPERATIONS } from '../schemas/langserve.js';
import { OPERATION_EXAMPLES } from './examples.js';

type Json = any;

const PREFIX = '#/components/schemas/';

function collectRefs(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collectRefs(item, into);
  } else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(PREFIX)) into.add(value.slice(PREFIX.length));
      else collectRefs(value, into);
    }
  }
}

function rewriteRefs(node: Json, rename: Map<string, string>): Json {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, rename));
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] =
      key === '$ref' && typeof value === 'string' && value.startsWith(PREFIX) && rename.has(value.slice(PREFIX.length))
        ? PREFIX + rename.get(value.slice(PREFIX.length))
        : rewriteRefs(value, rename);
  }
  return out;
}

export function tidyComponents<T extends { paths?: Json; components?: { schemas?: Record<string, Json> } }>(doc: T): T {
  const schemas = doc.components?.schemas ?? {};
  // Reachable: referenced from the paths, then from what those reference, and so on.
  const reachable = new Set<string>();
  collectRefs(doc.paths, reachable);
  for (let grew = true; grew;) {
    grew = false;
    for (const name of [...reachable]) {
      const before = reachable.size;
      collectRefs(schemas[name], reachable);
      grew ||= reachable.size > before;
    }
  }
  const kept: Record<string, Json> = {};
  for (const name of Object.keys(schemas).sort()) if (reachable.has(name)) kept[name] = schemas[name];

  const rename = new Map<string, string>();
  for (const name of Object.keys(kept)) {
    const plain = name.endsWith('Input') ? name.slice(0, -'Input'.length) : undefined;
    if (plain && !(plain in kept)) rename.set(name, plain);
  }
  const renamed: Record<string, Json> = {};
  for (const [name, schema] of Object.entries(kept)) renamed[rename.get(name) ?? name] = rewriteRefs(schema, rename);
  return {
    ...doc,
    paths: rewriteRefs(doc.paths, rename),
    components: { ...doc.components, schemas: Object.fromEntries(Object.entries(renamed).sort(([a], [b]) => a.localeCompare(b))) },
  };
}

export function addExamples<T extends { paths?: Json }>(doc: T): T {
  for (const item of Object.values<Json>(doc.paths ?? {})) {
    for (const op of Object.values<Json>(item)) {
      const example = OPERATION_EXAMPLES[op?.operationId];
      if (!example) continue;
      const request = op.requestBody?.content?.['application/json'];
      if (example.request !== undefined && request) request.example = example.request;
      const [code, value] = example.response ?? [];
      const response = code ? op.responses?.[code]?.content?.['application/json'] : undefined;
      if (response) response.example = value;
    }
  }
  return doc;
}

/** The streaming operations' 200 is `text/event-stream`, not the JSON the type provider writes. */
export function eventStreams<T extends { paths?: Json }>(doc: T): T {
  for (const item of Object.values<Json>(doc.paths ?? {})) {
    for (const op of Object.values<Json>(item)) {
      const content = op?.responses?.['200']?.content;
      if (!EVENT_STREAM_OPERATIONS.has(op?.operationId) || !content?.['application/json']) continue;
      op.responses['200'].content = { 'text/event-stream': content['application/json'] };
    }
  }
  return doc;
}

export function declareTags<T extends { paths?: Json; tags?: { name: string; description?: string }[] }>(doc: T): T {
  const tags = [...(doc.tags ?? [])];
  const known = new Set(tags.map((t) => t.name));
  for (const item of Object.values<Json>(doc.paths ?? {})) {
    for (const op of Object.values<Json>(item)) {
      for (const name of op?.tags ?? []) {
        if (known.has(name)) continue;
        known.add(name);
        tags.push({ name, description: `Operations on ${name}.` });
      }
    }
  }
  return { ...doc, tags };
}
