/**
 * Per (chain, version, variant) accumulators for the request path. One record per series is built
 * the first time the series is seen and kept; after that a call costs two Map lookups, a few
 * additions and two bucket searches, with no allocation and no label string built (prom-client's
 * own label children hash the label set and allocate on every observation). The records are
 * turned into Prometheus samples only when /metrics is scraped (see gateway-metrics.ts).
 */

/** Total call latency, seconds: LLM chains take from tens of milliseconds to minutes. */
export const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120] as const;
/** What the gateway adds on top of the upstream, seconds. */
export const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] as const;

export class HistogramData {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]! += 1;
    this.sum += v;
    this.count += 1;
  }
}

export interface SeriesLabels {
  chain: string;
  version: string;
  variant: string;
}

export class Series {
  calls = 0;
  fallbacks = 0;
  feedback = 0;
  overridden = 0;
  promptTokens = 0;
  completionTokens = 0;
  /** Errors by code (upstream_failed, upstream_timeout, upstream_unavailable): a handful at most. */
  readonly errors = new Map<string, number>();
  readonly latency = new HistogramData(LATENCY_BUCKETS);
  readonly overhead = new HistogramData(OVERHEAD_BUCKETS);

  constructor(readonly labels: Readonly<SeriesLabels>) {}
}

export class SeriesTable {
  // Nested maps rather than a joined key: no string is built per call.
  readonly #byChain = new Map<string, Map<string, Map<string, Series>>>();

  get(chain: string, version: string, variant: string): Series {
    let versions = this.#byChain.get(chain);
    if (versions === undefined) {
      versions = new Map();
      this.#byChain.set(chain, versions);
    }
    let variants = versions.get(version);
    if (variants === undefined) {
      variants = new Map();
      versions.set(version, variants);
    }
    let series = variants.get(variant);
    if (series === undefined) {
      series = new Series(Object.freeze({ chain, version, variant }));
      variants.set(variant, series);
    }
    return series;
  }

  *all(): Generator<Series> {
    for (const versions of this.#byChain.values()) for (const variants of versions.values()) yield* variants.values();
  }
}
