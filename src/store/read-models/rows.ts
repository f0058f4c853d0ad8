/** Reading rollup rows: result rows of either driver, counters and histograms as numbers. */
import type { Counts } from '../../domain/comparison/types.js';
import { decodeHistogram } from './histogram-codec.js';

/** node-postgres returns a QueryResult, PGlite a Results object: both have `rows`. */
export function rowsOf<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Columns every counts query selects (the histogram in PostgreSQL's binary numeric form). */
export const COUNT_COLUMNS = `runs, errors, fallbacks, reviewed, overridden, numeric_send(latency_hist) AS hist`;
export const EXTRA_COLUMNS = `prompt_tokens::float8 AS prompt_tokens, completion_tokens::float8 AS completion_tokens, token_runs, field_overrides`;

/**
 * The same summed over the rows of a GROUP BY: histograms add as numerics; field counts come as a
 * list of objects. `extras`: the table has token sums and field counts (the series has not).
 */
export function summedColumns(opts: { alias?: string; extras?: boolean } = {}): string {
  const c = (name: string) => (opts.alias ? `${opts.alias}.${name}` : name);
  const cols = [
    `sum(${c('runs')})::float8 AS runs`,
    `sum(${c('errors')})::float8 AS errors`,
    `sum(${c('fallbacks')})::float8 AS fallbacks`,
    `sum(${c('reviewed')})::float8 AS reviewed`,
    `sum(${c('overridden')})::float8 AS overridden`,
    `numeric_send(sum(${c('latency_hist')})) AS hist`,
  ];
  if (opts.extras ?? true) {
    cols.push(
      `sum(${c('prompt_tokens')})::float8 AS prompt_tokens`,
      `sum(${c('completion_tokens')})::float8 AS completion_tokens`,
      `sum(${c('token_runs')})::float8 AS token_runs`,
      `jsonb_agg(${c('field_overrides')}) FILTER (WHERE ${c('field_overrides')} <> '{}'::jsonb) AS field_list`,
    );
  }
  return cols.join(', ');
}

export interface CountRow {
  runs: number | string;
  errors: number | string;
  fallbacks: number | string;
  reviewed: number | string;
  overridden: number | string;
  hist: string | Uint8Array | null;
  prompt_tokens?: number | string;
  completion_tokens?: number | string;
  token_runs?: number | string;
  field_overrides?: Record<string, number> | string | null;
  field_list?: Record<string, number>[] | string | null;
}

const json = <T>(v: T | string | null | undefined): T | undefined => (typeof v === 'string' ? (JSON.parse(v) as T) : (v ?? undefined));

export function toCounts(r: CountRow): Counts {
  const fields: Record<string, number> = { ...json(r.field_overrides) };
  for (const f of json(r.field_list) ?? []) for (const [k, n] of Object.entries(f)) fields[k] = (fields[k] ?? 0) + Number(n);
  return {
    runs: Number(r.runs),
    errors: Number(r.errors),
    fallbacks: Number(r.fallbacks),
    reviewed: Number(r.reviewed),
    overridden: Number(r.overridden),
    promptTokens: Number(r.prompt_tokens ?? 0),
    completionTokens: Number(r.completion_tokens ?? 0),
    tokenRuns: Number(r.token_runs ?? 0),
    latencyHist: decodeHistogram(r.hist),
    fieldOverrides: fields,
  };
}
