/**
 * Compiled response serialization for the hot routes (README "Performance"): a response schema
 * marked with `compiledSerialization()` is turned into JSON Schema by zod (`z.toJSONSchema`) and
 * compiled by fast-json-stringify once, at route registration, so its replies are written by
 * generated code instead of a zod encode (a validating walk that copies the object) followed by
 * JSON.stringify. The zod schema stays the one definition: route types and the OpenAPI document
 * still come from it. Every other response schema keeps the zod serializer.
 *
 * What compiling changes, and why it is safe on the routes that use it:
 * - Fields the schema does not name are left out (as the zod encode already did for z.object).
 * - Values the schema leaves open (`z.unknown()`: chain outputs, error details) are written by
 *   JSON.stringify, so an output of any JSON shape comes out as it went in. zod's JSON Schema
 *   lists them as required, but an output may be absent: an object with an open property gets
 *   no required list (fast-json-stringify would also move required properties first), and an
 *   absent property is left out, as JSON.stringify does. Fields come out in the schema's order.
 * - An array of open values is written whole by JSON.stringify: fast-json-stringify would write
 *   an `undefined` element as the bare word `undefined` (not JSON), JSON.stringify writes null.
 * - The reply is no longer checked against the schema: the handlers build these objects field by
 *   field from typed values (TypeScript checks them); in an object without open properties a
 *   missing field still throws (a 500, as before).
 */
import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { z } from 'zod';

const marked = new WeakSet<z.ZodType>();

/** Marks a response schema for compiled serialization; returns it unchanged (types and OpenAPI as before). */
export function compiledSerialization<T extends z.ZodType>(schema: T): T {
  marked.add(schema);
  return schema;
}

type JsonSchema = { [key: string]: unknown };

/** A schema that accepts anything: {} give or take a description. */
function isOpen(s: unknown): boolean {
  if (s === null || typeof s !== 'object') return false;
  return Object.keys(s).every((k) => k === 'description' || k === 'title');
}

/** zod's JSON Schema, adjusted for fast-json-stringify as the header says. */
export function serializationSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return adjust(json);
}

function adjust(s: JsonSchema): JsonSchema {
  if (s.type === 'array' && isOpen(s.items)) return s.description === undefined ? {} : { description: s.description };
  if (s.items && typeof s.items === 'object') s.items = adjust(s.items as JsonSchema);
  const props = s.properties as Record<string, JsonSchema> | undefined;
  if (props) {
    for (const k of Object.keys(props)) props[k] = adjust(props[k]!);
    // An open property may be absent. fast-json-stringify writes required properties before the
    // others, so rather than reorder the answer such an object checks none of its properties.
    if (Object.values(props).some(isOpen)) delete s.required;
  }
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) if (Array.isArray(s[key])) s[key] = (s[key] as JsonSchema[]).map(adjust);
  return s;
}

/** Compiled serializers for marked schemas, `fallback` (the zod serializer) for the rest. */
export function withCompiledSerialization(fallback: FastifySerializerCompiler<z.ZodType>): FastifySerializerCompiler<z.ZodType> {
  return (route) => {
    const schema = route.schema;
    if (schema instanceof z.ZodType && marked.has(schema))
      return fastJson(serializationSchema(schema) as never) as (data: unknown) => string;
    return fallback(route);
  };
}
