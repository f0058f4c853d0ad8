/**
 * The gateway's Prometheus metrics (prom-client), served at GET /metrics. Aggregates only: the
 * labels are chain, version, variant (and a rollout id, an error code, a state), never a tenant,
 * a unit, an input or a key, since /metrics needs no token (README, "The API in short").
 *
 * The request path writes plain numbers into a SeriesTable (see series-table.ts for why not
 * prom-client's label children); the counters and histograms below read that table when scraped,
 * by overriding `get()` of prom-client's own metric classes, so the registry, its text format and
 * the default process metrics stay prom-client's. State that already lives elsewhere (run backlog,
 * circuit breakers, active rollouts) is read at scrape time through `setSources`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RolloutChanged } from '../../domain/model/events.js';
import { ACTIVE_STATUSES } from '../../domain/model/rollout.js';
import type { Run } from '../../domain/model/run.js';
import type { EventBus } from '../event-bus.js';
import type { GatewayEvents } from '../events.js';
import { LATENCY_BUCKETS, OVERHEAD_BUCKETS, SeriesTable, type HistogramData, type Series } from './series-table.js';

export type GuardrailState = 'waiting' | 'holding' | 'breached' | 'unevaluable';
const GUARDRAIL_STATES: readonly GuardrailState[] = ['waiting', 'holding', 'breached', 'unevaluable'];
const BREAKER_STATES = ['closed', 'half_open', 'open'] as const;

/** Where scrape-time gauges read from; wired by the composition root once the parts exist. */
export interface MetricSources {
  backlog?: () => number;
  breakers?: () => Iterable<{ chain: string; version: string; state: string }>;
  activeRollouts?: () => Iterable<{ id: string; chainId: string; status: string; stage: number }>;
}

export type FinishedRun = Pick<
  Run,
  'chainId' | 'version' | 'variant' | 'error' | 'fallback' | 'latencyMs' | 'upstreamMs' | 'promptTokens' | 'completionTokens'
>;

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

const SERIES_LABELS = ['chain', 'version', 'variant'];

/** A prom-client Counter whose samples are computed at scrape time from the series table. */
class TableCounter extends Counter<string> {
  readonly #samples: () => Sample[];
  constructor(registry: Registry, name: string, help: string, labelNames: string[], samples: () => Sample[]) {
    super({ name, help, labelNames, registers: [registry] });
    this.#samples = samples;
  }
  override async get() {
    const base = await super.get();
    return { ...base, values: this.#samples() };
  }
}

type HistogramSnapshot = Awaited<ReturnType<Histogram<string>['get']>>;

/** A prom-client Histogram whose buckets are kept in the series table. */
class TableHistogram extends Histogram<string> {
  readonly #pick: (s: Series) => HistogramData;
  readonly #table: SeriesTable;
  readonly #name: string;
  readonly #help: string;
  constructor(
    registry: Registry,
    name: string,
    help: string,
    buckets: readonly number[],
    table: SeriesTable,
    pick: (s: Series) => HistogramData,
  ) {
    super({ name, help, labelNames: SERIES_LABELS, buckets: [...buckets], registers: [registry] });
    this.#name = name;
    this.#help = help;
    this.#table = table;
    this.#pick = pick;
  }
  override async get(): Promise<HistogramSnapshot> {
    // Built here rather than from super.get(), which calls getForPromString() below.
    const snapshot = { name: this.#name, help: this.#help, type: 'histogram', aggregator: 'sum', values: this.#samples() };
    return snapshot as unknown as HistogramSnapshot;
  }
  /**
   * prom-client's Registry formats a histogram from this method when it exists (it is not in the
   * type declarations), so it must answer from the table too.
   */
  async getForPromString(): Promise<HistogramSnapshot> {
    return this.get();
  }
  #samples(): Sample[] {
    const values: Sample[] = [];
    const bucket = `${this.#name}_bucket`;
    for (const s of this.#table.all()) {
      const h = this.#pick(s);
      if (h.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        acc += h.counts[i]!;
        values.push({ labels: { ...s.labels, le: h.bounds[i]! }, value: acc, metricName: bucket });
      }
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: h.count, metricName: bucket });
      values.push({ labels: { ...s.labels }, value: h.sum, metricName: `${this.#name}_sum` });
      values.push({ labels: { ...s.labels }, value: h.count, metricName: `${this.#name}_count` });
    }
    return values;
  }
}

export interface GatewayMetricsOptions {
  /** prom-client's process and Node.js metrics (default true). */
  defaultMetrics?: boolean;
}

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #table = new SeriesTable();
  #sources: MetricSources = {};
  readonly #guardrail: Gauge<'rollout' | 'metric' | 'state'>;
  /** The guardrail metrics set per rollout, to remove their series when it ends. */
  readonly #guardrailsOf = new Map<string, Set<string>>();
  readonly #rollbacks: Counter<'chain' | 'version' | 'trigger'>;
  readonly #rolloutEvents: Counter<'chain' | 'type'>;
  readonly #shadowCalls: Counter<'chain' | 'version' | 'outcome'>;
  readonly #shadowSkipped: Counter<'chain' | 'version' | 'reason'>;
  readonly #shadowTokens: Counter<'chain' | 'version' | 'type'>;

  constructor(opts: GatewayMetricsOptions = {}) {
    const r = this.registry;
    const t = this.#table;
    const perSeries = (value: (s: Series) => number) => () => [...t.all()].map((s) => ({ labels: { ...s.labels }, value: value(s) }));

    new TableCounter(
      r,
      'chain_canary_calls_total',
      'Chain calls answered by the gateway (replays of an Idempotency-Key excluded).',
      SERIES_LABELS,
      perSeries((s) => s.calls),
    );
    new TableCounter(
      r,
      'chain_canary_errors_total',
      'Chain calls whose upstream failed (code: upstream_failed, upstream_timeout, upstream_unavailable); a candidate error answered by the control counts here too.',
      [...SERIES_LABELS, 'code'],
      () => {
        const out: Sample[] = [];
        for (const s of t.all()) for (const [code, n] of s.errors) out.push({ labels: { ...s.labels, code }, value: n });
        return out;
      },
    );
    new TableCounter(
      r,
      'chain_canary_fallbacks_total',
      'Candidate calls that failed and were answered by the control (fallbackToControl).',
      SERIES_LABELS,
      perSeries((s) => s.fallbacks),
    );
    new TableCounter(
      r,
      'chain_canary_feedback_total',
      'Human feedback received (a re-sent feedback counts again here; the comparison counts it once).',
      SERIES_LABELS,
      perSeries((s) => s.feedback),
    );
    new TableCounter(
      r,
      'chain_canary_overrides_total',
      'Feedback in which the human changed at least one field of the output.',
      SERIES_LABELS,
      perSeries((s) => s.overridden),
    );
    new TableCounter(
      r,
      'chain_canary_tokens_total',
      'Model tokens reported by the upstream (openai versions).',
      [...SERIES_LABELS, 'type'],
      () => {
        const out: Sample[] = [];
        for (const s of t.all()) {
          if (s.promptTokens > 0) out.push({ labels: { ...s.labels, type: 'prompt' }, value: s.promptTokens });
          if (s.completionTokens > 0) out.push({ labels: { ...s.labels, type: 'completion' }, value: s.completionTokens });
        }
        return out;
      },
    );
    new TableHistogram(
      r,
      'chain_canary_call_duration_seconds',
      'Time from the call reaching the gateway to its answer, upstream included.',
      LATENCY_BUCKETS,
      t,
      (s) => s.latency,
    );
    new TableHistogram(
      r,
      'chain_canary_gateway_overhead_seconds',
      'Time the gateway adds to a call (total minus time waiting on the upstream).',
      OVERHEAD_BUCKETS,
      t,
      (s) => s.overhead,
    );

    this.#rollbacks = new Counter({
      name: 'chain_canary_rollbacks_total',
      help: 'Rollouts rolled back, by chain and the candidate version; trigger is manual (an admin) or automatic (a guardrail).',
      labelNames: ['chain', 'version', 'trigger'],
      registers: [r],
    });
    this.#rolloutEvents = new Counter({
      name: 'chain_canary_rollout_events_total',
      help: 'Rollout audit events by type (created, advanced, paused, resumed, guardrail_breached, rolled_back, promoted, webhook_failed).',
      labelNames: ['chain', 'type'],
      registers: [r],
    });
    this.#guardrail = new Gauge({
      name: 'chain_canary_guardrail_state',
      help: 'Each guardrail of a running or paused rollout: 1 for its current state (waiting, holding, breached, unevaluable), 0 for the others.',
      labelNames: ['rollout', 'metric', 'state'],
      registers: [r],
    });

    this.#shadowCalls = new Counter({
      name: 'chain_canary_shadow_calls_total',
      help: 'Shadow calls (the candidate run beside a control-served call, never answered with) by outcome: ok or error.',
      labelNames: ['chain', 'version', 'outcome'],
      registers: [r],
    });
    this.#shadowSkipped = new Counter({
      name: 'chain_canary_shadow_skipped_total',
      help: "Shadow calls skipped by a rollout's limits: reason budget (maxPerMinute) or concurrency (maxConcurrent, SHADOW_MAX_CONCURRENT).",
      labelNames: ['chain', 'version', 'reason'],
      registers: [r],
    });
    this.#shadowTokens = new Counter({
      name: 'chain_canary_shadow_tokens_total',
      help: 'Model tokens reported by the upstream for shadow calls (their cost).',
      labelNames: ['chain', 'version', 'type'],
      registers: [r],
    });

    const sources = () => this.#sources;
    new Gauge({
      name: 'chain_canary_run_backlog',
      help: 'Runs and feedback queued for the database and not yet written.',
      registers: [r],
      collect() {
        const backlog = sources().backlog;
        if (backlog) this.set(backlog());
      },
    });
    new Gauge({
      name: 'chain_canary_circuit_breaker_state',
      help: "Each called chain version's circuit breaker: 1 for its current state (closed, half_open, open), 0 for the others.",
      labelNames: ['chain', 'version', 'state'],
      registers: [r],
      collect() {
        this.reset();
        for (const b of sources().breakers?.() ?? []) {
          for (const state of BREAKER_STATES) this.set({ chain: b.chain, version: b.version, state }, b.state === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'chain_canary_rollout_stage',
      help: 'The current stage (0-based) of each running or paused rollout.',
      labelNames: ['chain', 'rollout'],
      registers: [r],
      collect() {
        this.reset();
        for (const ro of sources().activeRollouts?.() ?? []) this.set({ chain: ro.chainId, rollout: ro.id }, ro.stage);
      },
    });
    new Gauge({
      name: 'chain_canary_rollout_status',
      help: 'Each running or paused rollout: 1 for its current status, 0 for the other.',
      labelNames: ['chain', 'rollout', 'status'],
      registers: [r],
      collect() {
        this.reset();
        for (const ro of sources().activeRollouts?.() ?? []) {
          for (const status of ACTIVE_STATUSES) this.set({ chain: ro.chainId, rollout: ro.id, status }, ro.status === status ? 1 : 0);
        }
      },
    });

    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: r });
  }

  /** Counts what the gateway's parts publish, by event name (src/runtime/events.ts). */
  subscribe(bus: Pick<EventBus<GatewayEvents>, 'on'>): void {
    bus.on('RunFinished', ({ run }) => this.runFinished(run));
    bus.on('FeedbackReceived', ({ run, feedback }) => this.feedbackReceived(run, feedback));
    bus.on('RolloutChanged', (event) => this.rolloutEvent(event));
    bus.on('GuardrailsEvaluated', ({ rollout, guardrails }) => {
      for (const g of guardrails) this.setGuardrailState(rollout.id, g.metric, g.status);
    });
  }

  /** Scrape-time sources (run backlog, circuit breakers, active rollouts). */
  setSources(sources: MetricSources): void {
    this.#sources = { ...this.#sources, ...sources };
  }

  /** RunFinished: every call that ran (not idempotent replays). The hot path. */
  runFinished(run: FinishedRun): void {
    const s = this.#table.get(run.chainId, run.version, run.variant);
    s.calls += 1;
    const error = run.error as { code?: unknown } | null | undefined;
    if (error) {
      const code = typeof error.code === 'string' ? error.code : 'upstream_failed';
      s.errors.set(code, (s.errors.get(code) ?? 0) + 1);
    }
    if (run.fallback) s.fallbacks += 1;
    if (run.promptTokens) s.promptTokens += run.promptTokens;
    if (run.completionTokens) s.completionTokens += run.completionTokens;
    const latencyMs = run.latencyMs;
    s.latency.observe(latencyMs / 1000);
    s.overhead.observe(Math.max(0, latencyMs - (run.upstreamMs ?? 0)) / 1000);
  }

  /** FeedbackReceived. */
  feedbackReceived(run: Pick<Run, 'chainId' | 'version' | 'variant'>, fb: { overridden: boolean }): void {
    const s = this.#table.get(run.chainId, run.version, run.variant);
    s.feedback += 1;
    if (fb.overridden) s.overridden += 1;
  }

  /** RolloutChanged. */
  rolloutEvent(event: Pick<RolloutChanged, 'rollout' | 'type' | 'actor'>): void {
    const { rollout, type } = event;
    this.#rolloutEvents.inc({ chain: rollout.chainId, type });
    if (type === 'created') {
      // Start the rollback series at 0, so increase() sees the first rollback.
      for (const trigger of ['manual', 'automatic'])
        this.#rollbacks.inc({ chain: rollout.chainId, version: rollout.candidate, trigger }, 0);
    }
    if (type === 'rolled_back') {
      // Admin routes act as `admin:<key name>`; the guardrail job acts under its own name.
      const trigger = event.actor.startsWith('admin:') ? 'manual' : 'automatic';
      this.#rollbacks.inc({ chain: rollout.chainId, version: rollout.candidate, trigger });
    }
    if (type === 'rolled_back' || type === 'promoted') this.clearGuardrails(rollout.id);
  }

  /** The shadow dispatcher's: one finished shadow call. */
  shadowCall(
    chain: string,
    version: string,
    outcome: 'ok' | 'error',
    usage?: { promptTokens?: number | null; completionTokens?: number | null },
  ): void {
    this.#shadowCalls.inc({ chain, version, outcome });
    if (usage?.promptTokens) this.#shadowTokens.inc({ chain, version, type: 'prompt' }, usage.promptTokens);
    if (usage?.completionTokens) this.#shadowTokens.inc({ chain, version, type: 'completion' }, usage.completionTokens);
  }

  /** The shadow dispatcher's: a shadow call skipped by a limit. */
  shadowSkipped(chain: string, version: string, reason: 'budget' | 'concurrency'): void {
    this.#shadowSkipped.inc({ chain, version, reason });
  }

  /** GuardrailsEvaluated: the state of one guardrail of a rollout after an evaluation. */
  setGuardrailState(rolloutId: string, metric: string, state: GuardrailState): void {
    for (const s of GUARDRAIL_STATES) this.#guardrail.set({ rollout: rolloutId, metric, state: s }, s === state ? 1 : 0);
    let metrics = this.#guardrailsOf.get(rolloutId);
    if (metrics === undefined) {
      metrics = new Set();
      this.#guardrailsOf.set(rolloutId, metrics);
    }
    metrics.add(metric);
  }

  /** Forgets a finished rollout's guardrail series (the rollbacks counter keeps the outcome). */
  clearGuardrails(rolloutId: string): void {
    for (const metric of this.#guardrailsOf.get(rolloutId) ?? []) {
      for (const state of GUARDRAIL_STATES) this.#guardrail.remove({ rollout: rolloutId, metric, state });
    }
    this.#guardrailsOf.delete(rolloutId);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
