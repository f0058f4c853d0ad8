/**
 * Open-loop load at a fixed, evenly paced rate: request i is due at t0 + i * period and its
 * latency is measured from that scheduled time (performance.now(), sub-microsecond), so a slow
 * answer that delays later sends shows up in their latency instead of being hidden (coordinated
 * omission). autocannon's rate mode sends per-second bursts and reports whole milliseconds, which
 * measures queueing rather than the gateway.
 *
 * The loop sleeps on timers (no busy-waiting: three processes share two cores), so a send can leave
 * up to about a millisecond after its scheduled time; that lag is the same machinery for every
 * target, is reported (`sendLag`), and cancels out in the added latencies, which compare targets
 * measured the same way, interleaved.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { summarize, type Summary } from './stats.js';

export interface Target {
  name: string;
  origin: string;
  path: string;
  headers: string[];
}

export interface PacedOptions {
  rate: number;
  durationMs: number;
  /** Hard bound on requests, whatever the duration. */
  maxRequests?: number;
  /** The body of request i. */
  body: (i: number) => string;
  /** Called with each successful reply (status 200), e.g. to send feedback. */
  onReply?: (i: number, text: string, headers: Record<string, string | string[] | undefined>) => void;
  /** Give up waiting for stragglers after this long past the last send. */
  drainMs?: number;
}

export interface PacedResult {
  target: string;
  sent: number;
  ok: number;
  errors: number;
  /** Status codes other than 200, and transport errors, by kind. */
  errorKinds: Record<string, number>;
  latencyMs: Summary;
  sendLagMs: Summary;
  /** `gateway;dur` of Server-Timing, when the target sends it. */
  serverTimingGatewayMs?: Summary;
  achievedRate: number;
  /** Raw samples, for pooling across rounds (not written to results). */
  raw: { latencyMs: Float64Array; gatewayMs: number[] };
}

const pools = new Map<string, Pool>();

/** One keep-alive pool per origin, kept across rounds so connections stay warm. */
export function poolFor(origin: string): Pool {
  let pool = pools.get(origin);
  if (!pool) {
    pool = new Pool(origin, { connections: 128, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 120_000 });
    pools.set(origin, pool);
  }
  return pool;
}

export async function closePools(): Promise<void> {
  await Promise.all([...pools.values()].map((p) => p.close().catch(() => {})));
  pools.clear();
}

const GATEWAY_DUR = /gateway;dur=([0-9.]+)/;

export async function paced(target: Target, opts: PacedOptions): Promise<PacedResult> {
  const pool = poolFor(target.origin);
  const period = 1000 / opts.rate;
  const n = Math.max(1, Math.min(opts.maxRequests ?? Infinity, Math.floor(opts.durationMs / period)));
  const latency = new Float64Array(n).fill(NaN);
  const lag = new Float64Array(n);
  const gatewayDur: number[] = [];
  const errorKinds: Record<string, number> = {};
  let sent = 0;
  let done = 0;
  let ok = 0;
  let finish!: () => void;
  const finished = new Promise<void>((res) => (finish = res));
  const fail = (kind: string) => {
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
  };

  const fire = (i: number, due: number) => {
    lag[i] = performance.now() - due;
    pool
      .request({ path: target.path, method: 'POST', headers: target.headers, body: opts.body(i) })
      .then(async (res) => {
        const text = await res.body.text();
        latency[i] = performance.now() - due;
        if (res.statusCode === 200) {
          ok++;
          const st = res.headers['server-timing'];
          const m = typeof st === 'string' ? GATEWAY_DUR.exec(st) : null;
          if (m) gatewayDur.push(Number(m[1]));
          opts.onReply?.(i, text, res.headers);
        } else fail(`http_${res.statusCode}`);
      })
      .catch((err: Error) => fail((err as { code?: string }).code ?? err.name))
      .finally(() => {
        if (++done === n) finish();
      });
  };

  const t0 = performance.now() + 2;
  const startedAt = t0;
  while (sent < n) {
    const now = performance.now();
    while (sent < n && t0 + sent * period <= now) {
      fire(sent, t0 + sent * period);
      sent++;
    }
    if (sent < n) await sleep(Math.max(0, t0 + sent * period - performance.now()));
  }
  const lastSend = performance.now();
  await Promise.race([finished, sleep(opts.drainMs ?? 10_000)]);
  const elapsed = (lastSend - startedAt) / 1000;
  const errors = n - ok;
  if (done < n) fail('unanswered');
  return {
    target: target.name,
    sent: n,
    ok,
    errors,
    errorKinds,
    latencyMs: summarize(latency),
    sendLagMs: summarize(lag),
    serverTimingGatewayMs: gatewayDur.length ? summarize(gatewayDur) : undefined,
    achievedRate: elapsed > 0 ? n / elapsed : NaN,
    raw: { latencyMs: latency, gatewayMs: gatewayDur },
  };
}
