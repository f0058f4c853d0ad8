/**
 * The hot routes' compiled serializers (src/http/compiled-serializer.ts): what fast-json-stringify
 * writes for the invoke, LangServe and feedback answers is what JSON.stringify writes for them,
 * whatever shape a chain's output has, and fields the schema does not name are left out.
 */
import { describe, expect, it } from 'vitest';
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { withCompiledSerialization } from '../../../src/http/compiled-serializer.js';
import { langserveBatchResponse, langserveInvokeResponse } from '../../../src/http/schemas/langserve.js';
import { feedbackResponse, invokeErrorResponse, invokeResponse, runSchema } from '../../../src/http/schemas/runs.js';

const compile = withCompiledSerialization(serializerCompiler);
const serializer = (schema: z.ZodType) => compile({ schema, method: 'POST', url: '/x', httpStatus: '200' });

const outputs: unknown[] = [
  { total: 12.5, items: [{ sku: 'a', qty: 1 }], note: null },
  [1, 'two', null, { three: [3] }],
  [undefined, 1, { a: undefined, b: 2 }],
  'plain text with "quotes", \\ and \n and \u2028 and a lone \ud800 surrogate',
  42,
  0,
  false,
  null,
  {},
  { 'weird key "\n': { deep: { deeper: [[[{}]]] } }, ['ünï']: 'cödé' },
];

const metadata = { run_id: 'r1', feedback_tokens: [], chain: 'c', version: 'v1', variant: 'control' as const };

describe('compiled serialization of the hot routes', () => {
  it('writes every output shape of an invoke answer as JSON.stringify does, absent output included', () => {
    const write = serializer(invokeResponse);
    for (const output of [...outputs, undefined]) {
      const answer = { runId: 'r1', chain: 'c', version: 'v1', variant: 'candidate' as const, output, latencyMs: 1.234 };
      const text = write(answer);
      expect(text).toBe(JSON.stringify(answer));
      expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(answer)));
    }
  });

  it('writes LangServe invoke and batch answers as JSON.stringify does (undefined batch elements as null)', () => {
    const invoke = serializer(langserveInvokeResponse);
    for (const output of outputs) expect(invoke({ output, metadata })).toBe(JSON.stringify({ output, metadata }));
    const batch = serializer(langserveBatchResponse);
    const answer = { output: [...outputs, undefined], metadata: { run_ids: ['r1', 'r2'], responses: [metadata, metadata] } };
    const text = batch(answer);
    expect(text).toBe(JSON.stringify(answer));
    expect(JSON.parse(text).output.at(-1)).toBeNull();
  });

  it('writes feedback and invoke error answers, leaving out fields the schema does not name', () => {
    expect(serializer(feedbackResponse)({ runId: 'r1', overridden: true, fields: ['total'], secret: 'x' })).toBe(
      '{"runId":"r1","overridden":true,"fields":["total"]}',
    );
    const error = { runId: 'r1', error: { code: 'upstream_failed', message: 'm', details: { status: 500, body: [1, { a: 'b' }] } } };
    expect(serializer(invokeErrorResponse)(error)).toBe(JSON.stringify(error));
    expect(
      serializer(invokeResponse)({ runId: 'r', chain: 'c', version: 'v', variant: 'default', latencyMs: 1, tenant: 'other' }),
    ).not.toContain('other');
  });

  it('refuses an answer missing a required field where the schema has no open one (a 500, not a reply without it)', () => {
    expect(() => serializer(feedbackResponse)({ overridden: false, fields: [] })).toThrow(/runId/);
  });

  it('leaves schemas that are not marked to the zod serializer', () => {
    // The zod serializer validates: a run missing its fields is refused with zod's error.
    expect(() => serializer(runSchema)({ id: 'x' })).toThrow(/Response doesn't match the schema|serializ/i);
  });
});
