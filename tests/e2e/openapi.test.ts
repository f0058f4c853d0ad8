/**
 * The OpenAPI document: Redocly's recommended rules clean (through `npm run lint:openapi`, as CI
 * runs it), an operationId, summary and tag on every operation, shared schemas as components,
 * examples that the schemas accept and that a real gateway accepts, and Swagger UI rendering it
 * in headless Chromium without a CSP error.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleUpstream, type RunningExampleUpstream } from '../../src/cli/example-upstream.js';
import { buildOpenApiDocument } from '../../src/http/openapi/build-document.js';
import { OPERATION_EXAMPLES } from '../../src/http/openapi/examples.js';
import { browserSkipReason, launchBrowser } from '../support/browser.js';
import { noPostgres, startTestGateway, type TestGateway } from '../support/gateway.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

interface Operation {
  method: string;
  path: string;
  op: any;
}

function operations(doc: any): Operation[] {
  return Object.entries<any>(doc.paths).flatMap(([path, item]) =>
    Object.entries<any>(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ method, path, op })),
  );
}

describe('the OpenAPI document', () => {
  let doc: any;
  beforeAll(async () => {
    doc = await buildOpenApiDocument();
  });

  it("passes Redocly's recommended rules with no error and no warning (npm run lint:openapi)", () => {
    const run = spawnSync('npm', ['run', '--silent', 'lint:openapi', '--', '--format=json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(
      report.totals,
      JSON.stringify(
        report.problems?.map((p: any) => `${p.ruleId}: ${p.message} ${p.location?.[0]?.pointer}`),
        null,
        1,
      ),
    ).toMatchObject({ errors: 0, warnings: 0 });
    // Only the health probes' missing 4XX is ignored (see .redocly.lint-ignore.yaml).
    expect(report.totals.ignored).toBe(3);
    expect(run.status).toBe(0);
  }, 300_000);

  it('gives every operation a unique operationId, a summary and a declared tag; lists servers', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(30);
    const ids = ops.map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = new Set(doc.tags.map((t: { name: string }) => t.name));
    for (const { method, path, op } of ops) {
      expect(op.summary, `${method} ${path}`).toMatch(/^\S.{2,79}$/);
      expect(op.tags?.length, `${method} ${path}`).toBeGreaterThan(0);
      for (const tag of op.tags) expect(tags.has(tag), `${method} ${path}: tag ${tag}`).toBe(true);
    }
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
    expect(doc.openapi).toBe('3.1.0');
    // OpenAPI 3.1 says null with types; `nullable` is 3.0's and must not appear.
    expect(JSON.stringify(doc)).not.toContain('"nullable"');
  });

  it('keeps shared schemas once, as components, referenced by the operations', () => {
    const schemas = Object.keys(doc.components.schemas);
    expect(schemas).toEqual(
      expect.arrayContaining([
        'Error',
        'Tenant',
        'Chain',
        'ChainVersion',
        'Adapter',
        'Rollout',
        'RolloutSpec',
        'Comparison',
        'InvokeRequest',
        'InvokeResponse',
        'Run',
      ]),
    );
    expect(schemas.filter((s) => s.endsWith('Input'))).toEqual([]);
    const text = JSON.stringify(doc.paths);
    const invoke = doc.paths['/v1/chains/{chain}/invoke'].post;
    expect(invoke.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/InvokeRequest' });
    expect(invoke.responses['200'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/InvokeResponse' });
    expect(doc.paths['/v1/rollouts'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/RolloutSpec',
    });
    // Each component is used somewhere.
    for (const name of schemas) expect(JSON.stringify(doc).includes(`"#/components/schemas/${name}"`), name).toBe(true);
    expect(text.split('"#/components/schemas/Error"').length - 1).toBeGreaterThan(50);
  });

  it('every example is accepted by its schema', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');
    const refs = (schema: unknown) => JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
    let checked = 0;
    for (const { method, path, op } of operations(doc)) {
      const media = [
        ...(op.requestBody ? [['request', op.requestBody.content?.['application/json']]] : []),
        ...Object.entries<any>(op.responses).map(([code, r]) => [code, r.content?.['application/json']]),
      ] as [string, any][];
      for (const [where, m] of media) {
        if (!m || m.example === undefined) continue;
        const validate = ajv.compile(refs(m.schema));
        expect(validate(m.example), `${method} ${path} ${where}: ${ajv.errorsText(validate.errors)}`).toBe(true);
        checked++;
      }
    }
    // The examples of examples.ts all made it into the document.
    const expected = Object.values(OPERATION_EXAMPLES).reduce((n, e) => n + (e.request ? 1 : 0) + (e.response ? 1 : 0), 0);
    expect(checked).toBe(expected);
  });
});

describe.skipIf(noPostgres)('the request examples against a real gateway', () => {
  let gw: TestGateway;
  let upstream: RunningExampleUpstream;
  beforeAll(async () => {
    [gw, upstream] = await Promise.all([startTestGateway({ listen: true }), startExampleUpstream({ port: 0, host: '127.0.0.1' })]);
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('tenant, chain, versions, invoke, feedback, rollout and rollback, as the examples say', async () => {
    const ex = (id: string) => OPERATION_EXAMPLES[id]!.request as any;
    expect((await gw.request('PUT', '/v1/tenants/acme', ex('putTenant'))).status).toBe(201);
    expect((await gw.request('POST', '/v1/tenants/acme/keys', ex('createTenantKey'))).status).toBe(201);
    expect((await gw.request('PUT', '/v1/chains/invoice-extraction', ex('putChain'))).status).toBe(201);
    // The example's upstream address, moved to where the example upstream listens here.
    const v1 = { ...ex('createChainVersion'), adapter: { ...ex('createChainVersion').adapter, url: `${upstream.url}/invoke` } };
    expect((await gw.request('POST', '/v1/chains/invoice-extraction/versions', v1)).status).toBe(201);
    expect(
      (
        await gw.request('POST', '/v1/chains/invoice-extraction/versions', {
          version: 'v2',
          adapter: { type: 'http', url: `${upstream.url}/v2/invoke` },
        })
      ).status,
    ).toBe(201);

    const invoked = await gw.request('POST', '/v1/chains/invoice-extraction/invoke', ex('invokeChain'));
    expect(invoked.status).toBe(200);
    const [, expectedInvoke] = OPERATION_EXAMPLES.invokeChain!.response!;
    expect(invoked.body.output).toEqual((expectedInvoke as any).output);
    const feedback = await gw.request('POST', `/v1/runs/${invoked.body.runId}/feedback`, ex('sendRunFeedback'));
    expect(feedback.status).toBe(200);
    expect(feedback.body).toEqual({ ...(OPERATION_EXAMPLES.sendRunFeedback!.response![1] as object), runId: invoked.body.runId });
    await gw.services().writer.flush();
    expect((await gw.request('POST', '/v1/feedback', ex('sendFeedbackByExternalId'))).status).toBe(200);

    const rollout = await gw.request('POST', '/v1/rollouts', ex('createRollout'));
    expect(rollout.status).toBe(201);
    expect((await gw.request('POST', `/v1/rollouts/${rollout.body.id}/rollback`, ex('rollbackRollout'))).body.status).toBe('rolled_back');
  });
});

describe.skipIf(!!browserSkipReason || noPostgres)('Swagger UI in headless Chromium', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ listen: true });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('renders every operation without a console error (no CSP violation)', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(`${gw.url}/docs/`);
      await page.waitForSelector('.opblock-summary-operation-id, .opblock', { timeout: 30_000 });
      const doc = (await gw.request('GET', '/openapi.json', undefined, null)).body;
      expect(await page.locator('.opblock').count()).toBe(operations(doc).length);
      expect(await page.locator('.opblock-summary-description').first().textContent()).toBe('Liveness: the process runs');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
