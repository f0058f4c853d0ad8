/**
 * Webhooks subscribe to RolloutChanged and report WebhookFailed; the failure lands in the
 * rollout's audit log. Receivers are real loopback HTTP servers.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rolloutSpecSchema } from '../../../src/domain/model/rollout-spec.js';
import { auditWebhookFailures, signWebhook, WebhookNotifier } from '../../../src/runtime/webhook-notifier.js';
import { CHAIN, world } from '../../support/in-memory/world.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function receiver(status: number): Promise<{ url: string; got: { headers: IncomingMessage['headers']; body: string }[] }> {
  const got: { headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.statusCode = status;
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got };
}

async function setup(url: string) {
  const w = await world();
  const notifier = new WebhookNotifier({
    globalUrl: url,
    secret: 'whsec-test',
    log: w.log,
    now: w.now,
    bus: w.bus,
    attempts: 2,
    baseDelayMs: 1,
  });
  const audit = auditWebhookFailures(w.bus, w.rollouts, w.log);
  const rollout = await w.rollouts.create(
    rolloutSpecSchema.parse({ chain: CHAIN, control: 'v1', candidate: 'v2', stages: [{ environments: ['prod'], percent: 10 }] }),
    'admin:test',
  );
  await notifier.close();
  await audit.close();
  return { w, rollout };
}

describe('WebhookNotifier', () => {
  it('posts a signed event for every notified rollout event', async () => {
    const hook = await receiver(204);
    const { w, rollout } = await setup(hook.url);
    expect(hook.got).toHaveLength(1);
    const [{ headers, body }] = hook.got as [{ headers: IncomingMessage['headers']; body: string }];
    expect(JSON.parse(body)).toMatchObject({
      type: 'created',
      actor: 'admin:test',
      rollout: { id: rollout.id, chain: CHAIN, status: 'running' },
    });
    expect(headers['x-chain-canary-signature']).toBe(signWebhook('whsec-test', Math.floor(w.now().getTime() / 1000), body));
    expect((await w.rollouts.events(rollout.id)).map((e) => e.type)).toEqual(['created']);
  });

  it('records a webhook that never landed as webhook_failed in the audit log, after its retries', async () => {
    const hook = await receiver(503);
    const { w, rollout } = await setup(hook.url);
    expect(hook.got).toHaveLength(2);
    const events = await w.rollouts.events(rollout.id);
    expect(events.map((e) => e.type)).toEqual(['created', 'webhook_failed']);
    expect(events[1]).toMatchObject({ actor: 'webhook', reason: 'HTTP 503', data: { url: hook.url, event: 'created' } });
    // webhook_failed is told like any audit event, but never itself sent.
    expect(w.told.rollout.map((e) => e.type)).toEqual(['created', 'webhook_failed']);
    expect(hook.got).toHaveLength(2);
  });
});
