/**
 * Tells the team about rollout events (breach, rollback, advance, promote) by POSTing JSON to the
 * rollout's webhookUrl or the global WEBHOOK_URL, signed with HMAC-SHA-256 over
 * `<timestamp>.<body>` (header `X-Chain-Canary-Signature: t=<unix s>,v1=<hex>`, the scheme Stripe
 * uses, so receivers can reject replays). Retried with exponential backoff; a webhook that never
 * lands is recorded in the audit log as `webhook_failed`.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { request } from 'undici';
import type { RolloutChanged } from '../domain/model/events.js';
import type { RolloutService } from '../domain/services/rollout-service.js';
import type { EventBus } from './event-bus.js';
import type { GatewayEvents } from './events.js';

export const NOTIFIED_EVENTS = new Set([
  'guardrail_breached',
  'guardrail_unevaluable',
  'rolled_back',
  'advanced',
  'promoted',
  'paused',
  'resumed',
  'created',
  'gate_passed',
  'gate_failed',
  'gate_inconclusive',
]);

export interface WebhookNotifierOptions {
  globalUrl?: string;
  secret?: string;
  log: Logger;
  /** Where the notifier listens for RolloutChanged and says WebhookFailed. */
  bus: EventBus<GatewayEvents>;
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
  now?: () => Date;
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class WebhookNotifier {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly opts: WebhookNotifierOptions) {
    opts.bus.on('RolloutChanged', (event) => this.notify(event));
  }

  /** Fire and forget; the promise is kept so close() can wait for deliveries under way. */
  notify(event: RolloutChanged): void {
    if (!NOTIFIED_EVENTS.has(event.type) || event.type === 'webhook_failed') return;
    const url = event.rollout.spec.webhookUrl ?? this.opts.globalUrl;
    if (!url) return;
    const p = this.deliver(url, event).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(url: string, event: RolloutChanged): Promise<void> {
    const body = JSON.stringify({
      type: event.type,
      at: event.at.toISOString(),
      actor: event.actor,
      ...(event.reason ? { reason: event.reason } : {}),
      rollout: {
        id: event.rollout.id,
        chain: event.rollout.chainId,
        control: event.rollout.control,
        candidate: event.rollout.candidate,
        status: event.rollout.status,
        stage: event.rollout.stage,
      },
      ...(event.data ? { data: event.data } : {}),
    });
    const attempts = this.opts.attempts ?? 5;
    const base = this.opts.baseDelayMs ?? 500;
    let lastError = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'chain-canary-webhook' };
        if (this.opts.secret)
          headers['x-chain-canary-signature'] = signWebhook(
            this.opts.secret,
            Math.floor((this.opts.now?.() ?? new Date()).getTime() / 1000),
            body,
          );
        const res = await request(url, {
          method: 'POST',
          body,
          headers,
          headersTimeout: this.opts.timeoutMs ?? 5000,
          bodyTimeout: this.opts.timeoutMs ?? 5000,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return;
        lastError = `HTTP ${res.statusCode}`;
        // A 4xx other than 408/429 will not get better by retrying.
        if (res.statusCode < 500 && res.statusCode !== 408 && res.statusCode !== 429) break;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (attempt < attempts) await new Promise((r) => setTimeout(r, base * 2 ** (attempt - 1)));
    }
    this.opts.log.warn({ rolloutId: event.rollout.id, type: event.type, error: lastError }, 'webhook not delivered');
    this.opts.bus.publish('WebhookFailed', { event, url, error: lastError });
  }
}

/**
 * A webhook that never landed is written to its rollout's audit log as `webhook_failed`.
 * close() waits for the writes under way (call it after the notifier's close, before the database's).
 */
export function auditWebhookFailures(
  bus: EventBus<GatewayEvents>,
  rollouts: Pick<RolloutService, 'record'>,
  log: Logger,
): { close(): Promise<void> } {
  const writing = new Set<Promise<void>>();
  bus.on('WebhookFailed', ({ event, url, error }) => {
    const p = rollouts
      .record(event.rollout, 'webhook_failed', 'webhook', error, { url, event: event.type })
      .catch((err: unknown) => log.error({ err }, 'could not record webhook_failed'))
      .finally(() => writing.delete(p));
    writing.add(p);
  });
  return {
    async close() {
      await Promise.allSettled([...writing]);
    },
  };
}
