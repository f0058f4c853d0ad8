/** Whole-document tidying and per-operation defaults of the OpenAPI document (pure). */
import { describe, expect, it } from 'vitest';
import { declareTags, tidyComponents } from '../../../src/http/openapi/document.js';
import { deriveOperationId, deriveSummary, describeOperation } from '../../../src/http/openapi/operations.js';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

describe('tidyComponents', () => {
  it('keeps what the paths reach (through other components too), drops the rest, and names input-only schemas without "Input"', () => {
    const doc = {
      paths: {
        '/a': {
          post: {
            requestBody: { content: { 'application/json': { schema: ref('SpecInput') } } },
            responses: { 200: { content: { 'application/json': { schema: ref('Thing') } } } },
          },
        },
      },
      components: {
        schemas: {
          SpecInput: { type: 'object', properties: { stage: ref('StageInput') } },
          StageInput: { type: 'object' },
          Spec: { type: 'object' },
          Stage: { type: 'object' },
          Thing: { type: 'object', properties: { inner: ref('Inner') } },
          ThingInput: { type: 'object' },
          Inner: { type: 'string' },
          Unused: { type: 'string' },
        },
      },
    };
    const out = tidyComponents(doc);
    expect(Object.keys(out.components.schemas)).toEqual(['Inner', 'Spec', 'Stage', 'Thing']);
    expect(out.components.schemas.Spec).toEqual({ type: 'object', properties: { stage: ref('Stage') } });
    expect(out.paths['/a'].post.requestBody.content['application/json'].schema).toEqual(ref('Spec'));
  });

  it('keeps an Input variant under its own name when the plain one is used as well', () => {
    const doc = {
      paths: {
        '/a': {
          put: {
            requestBody: { content: { 'application/json': { schema: ref('XInput') } } },
            responses: { 200: { content: { 'application/json': { schema: ref('X') } } } },
          },
        },
      },
      components: { schemas: { X: { type: 'object' }, XInput: { type: 'object', required: [] } } },
    };
    expect(Object.keys(tidyComponents(doc).components.schemas)).toEqual(['X', 'XInput']);
  });
});

describe('declareTags', () => {
  it('declares a tag an operation uses that the document does not', () => {
    const doc = {
      tags: [{ name: 'chains', description: 'Chains.' }],
      paths: { '/a': { get: { tags: ['chains'] } }, '/b': { post: { tags: ['datasets'] } } },
    };
    expect(declareTags(doc).tags).toEqual([
      { name: 'chains', description: 'Chains.' },
      { name: 'datasets', description: 'Operations on datasets.' },
    ]);
  });
});

describe('operation defaults', () => {
  it('derives an operationId, a summary and a tag for a route without them', () => {
    expect(deriveOperationId('GET', '/v1/rollouts/:id/comparison')).toBe('getV1RolloutsByIdComparison');
    expect(deriveOperationId('POST', '/chains/:chain/stream_log')).toBe('postChainsByChainStreamLog');
    expect(deriveSummary('GET', '/v1/x', 'Lists the things. More words.')).toBe('Lists the things');
    expect(deriveSummary('GET', '/v1/x')).toBe('GET /v1/x');
    const op = describeOperation({ response: { 200: {} } }, { method: 'GET', url: '/v1/datasets/:id', config: {} } as never);
    expect(op).toMatchObject({ operationId: 'getV1DatasetsById', summary: 'GET /v1/datasets/:id', tags: ['datasets'] });
    // A route behind auth that listed no 4XX gets 401 and 403.
    expect(Object.keys(op.response)).toEqual(['200', '401', '403']);
  });

  it("keeps a route's own, and marks public routes as needing no token", () => {
    const op = describeOperation({ operationId: 'getHealth', summary: 'Liveness', tags: ['health'], response: { 200: {} } }, {
      method: 'GET',
      url: '/healthz',
      config: { access: 'public' },
    } as never);
    expect(op).toMatchObject({ operationId: 'getHealth', summary: 'Liveness', tags: ['health'], security: [] });
    expect(Object.keys(op.response)).toEqual(['200']);
  });
});
