/** Datasets (admin): build from reviewed runs, upload (JSON or JSON Lines), read, export, delete. */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError } from '../../domain/model/errors.js';
import type { DatasetService } from '../../domain/services/dataset-service.js';
import { registerJsonLinesParser } from '../plugins/json-lines-body.js';
import { errorResponses, idSchema } from '../schemas/common.js';
import {
  caseListResponse,
  createDatasetBody,
  datasetParams,
  datasetSchema,
  decodePosition,
  encodePosition,
  pageQuery,
  toCaseOut,
  toDatasetOut,
  uploadCasesBody,
} from '../schemas/datasets.js';

export const datasetRoutes: FastifyPluginAsyncZod<{ services: { datasets: DatasetService } }> = async (app, { services }) => {
  const { datasets } = services;
  const tags = ['datasets'];
  registerJsonLinesParser(app);

  app.post(
    '/v1/datasets',
    {
      schema: {
        tags,
        operationId: 'createDataset',
        summary: 'Create a dataset',
        description:
          "Creates a dataset. With `from`, its cases are reviewed runs of the chain with an output: the input as stored (PII redaction applied), and `expected`, the record the human accepted (the output with their changes); its `tenants` must exist and its `environments` be the chain's (400 `unknown_tenant`, `unknown_environment`). Without `from` it starts empty.",
        body: createDatasetBody,
        response: { 201: datasetSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(toDatasetOut(await datasets.create(req.body))),
  );

  app.get(
    '/v1/datasets',
    {
      schema: {
        tags,
        operationId: 'listDatasets',
        summary: 'List datasets',
        querystring: z.strictObject({ chain: idSchema.optional() }),
        response: { 200: z.object({ items: z.array(datasetSchema) }), ...errorResponses },
      },
    },
    async (req) => ({ items: (await datasets.list(req.query.chain)).map(toDatasetOut) }),
  );

  app.get(
    '/v1/datasets/:id',
    {
      schema: {
        tags,
        operationId: 'getDataset',
        summary: 'Get a dataset',
        params: datasetParams,
        response: { 200: datasetSchema, ...errorResponses },
      },
    },
    async (req) => toDatasetOut(await datasets.get(req.params.id)),
  );

  app.post(
    '/v1/datasets/:id/cases',
    {
      schema: {
        tags,
        operationId: 'addDatasetCases',
        summary: 'Add cases to a dataset',
        description:
          'Adds cases `{"input", "expected", "trackedFields"?}` while the dataset has no replay (409 after). A JSON array or JSON Lines.',
        params: datasetParams,
        body: uploadCasesBody,
        response: { 201: datasetSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(toDatasetOut(await datasets.append(req.params.id, req.body))),
  );

  app.get(
    '/v1/datasets/:id/cases',
    {
      schema: {
        tags,
        operationId: 'listDatasetCases',
        summary: "A dataset's cases",
        params: datasetParams,
        querystring: pageQuery,
        response: { 200: caseListResponse, ...errorResponses },
      },
    },
    async (req) => {
      const after = afterSeq(req.query.cursor);
      const page = await datasets.cases(req.params.id, after, req.query.limit + 1);
      const items = page.slice(0, req.query.limit);
      const last = items[items.length - 1];
      return { items: items.map(toCaseOut), ...(page.length > req.query.limit && last ? { nextCursor: encodePosition(last.seq) } : {}) };
    },
  );

  app.get(
    '/v1/datasets/:id/export',
    {
      schema: {
        tags,
        operationId: 'exportDataset',
        summary: 'Export a dataset as JSON Lines',
        description: 'Every case as JSON Lines (`application/x-ndjson`); uploads take the lines back as they are.',
        params: datasetParams,
        produces: ['application/x-ndjson'],
        response: {
          200: z.string().describe('One case per line: {"caseId", "input", "expected", "trackedFields"?, "source"?}'),
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      const cases = datasets.allCases(req.params.id);
      // The first page is read before answering, so an unknown dataset is a 404, not a broken stream.
      const first = await cases.next();
      async function* lines() {
        if (first.done) return;
        yield `${JSON.stringify(toCaseOut(first.value))}\n`;
        for await (const c of cases) yield `${JSON.stringify(toCaseOut(c))}\n`;
      }
      // Streamed: Fastify sends a stream as it is (no serializer); the schema documents the text it makes.
      const body = Readable.from(lines()) as unknown as string;
      return reply.type('application/x-ndjson; charset=utf-8').send(body);
    },
  );

  app.delete(
    '/v1/datasets/:id',
    {
      schema: {
        tags,
        operationId: 'deleteDataset',
        summary: 'Delete a dataset',
        description:
          'Deletes the dataset with its cases and replays. 409 `dataset_in_use` while a gated rollout waits on it, or a replay of it is queued or running (cancel it first); `details` name the rollout or the replay.',
        params: datasetParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (req, reply) => {
      await datasets.delete(req.params.id);
      return reply.status(204).send(null);
    },
  );
};

function afterSeq(cursor: string | undefined): number {
  if (cursor === undefined) return -1;
  const position = decodePosition(cursor);
  if (!position) throw new BadRequestError('query.cursor: is not a cursor this API returned', { field: 'query.cursor' });
  return position.seq;
}
