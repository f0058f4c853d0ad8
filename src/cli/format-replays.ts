/** Plain-text rendering of datasets, replays and their paired comparison (README "Datasets, replays and the gate"). */
import type { z } from 'zod';
import type { compareResponse, datasetSchema, replaySchema } from '../http/schemas/datasets.js';
import { table } from './format.js';

type DatasetOut = z.infer<typeof datasetSchema>;
type ReplayOut = z.infer<typeof replaySchema>;
type CompareOut = z.infer<typeof compareResponse>;

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '–');
const points = (x: unknown) => (typeof x === 'number' ? `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}` : '–');
const interval = (ci: unknown) => (Array.isArray(ci) && ci.length === 2 ? `[${pct(ci[0])}, ${pct(ci[1])}]` : '');
const pointsInterval = (ci: unknown) => (Array.isArray(ci) && ci.length === 2 ? `[${points(ci[0])}, ${points(ci[1])}]` : '');
const ms = (x: unknown) => (typeof x === 'number' ? String(Math.round(x)) : '–');
const p = (x: unknown) => (typeof x === 'number' ? x.toPrecision(2) : '–');
const date = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 19).replace('T', ' ') : '');

export function formatDataset(d: DatasetOut): string {
  const redacted = d.redactedInputs ? `, ${d.redactedInputs} with redacted input` : '';
  return `dataset ${d.id}  ${d.name}  (chain ${d.chain}): ${d.cases} cases${redacted}; fields ${(d.fields ?? []).join(', ') || '–'}`;
}

export function formatDatasets(items: DatasetOut[]): string {
  if (!items.length) return 'no datasets';
  return table(
    [
      ['DATASET', 'NAME', 'CHAIN', 'CASES', 'REDACTED', 'CREATED'],
      ...items.map((d) => [d.id, d.name, d.chain, String(d.cases), String(d.redactedInputs), date(d.createdAt)]),
    ],
    'text',
  );
}

/** A replay's status line and, once it has one, its result table. */
export function formatReplay(r: ReplayOut): string {
  const head = `replay ${r.id}  dataset ${r.dataset}  ${r.chain} ${r.version}  ${String(r.status).toUpperCase()}  ${r.progress?.done ?? 0}/${r.progress?.total ?? 0}`;
  const res = r.result;
  if (!res) return r.error ? `${head}\n${r.error}` : head;
  const rows = [
    ['', r.version],
    ['cases', String(res.cases)],
    ['errors', `${res.errors} (${pct(res.errorRate)})`],
    ['would be overridden', `${res.overridden} (${pct(res.overrideRate)})`],
    ['  95% interval', interval(res.overrideRateCI)],
    ...Object.entries(res.fieldOverrideRates ?? {}).map(([f, v]) => [`  field ${f}`, pct(v)]),
    ['latency p50 / p95 (ms)', `${ms(res.latencyMs?.p50)} / ${ms(res.latencyMs?.p95)}`],
  ];
  if (res.usage) rows.push(['tokens (prompt / completion)', `${res.usage.promptTokens} / ${res.usage.completionTokens}`]);
  if (res.repeatDisagreement)
    rows.push([
      'repeats disagreeing',
      `${res.repeatDisagreement.disagreeing} of ${res.repeatDisagreement.cases} cases (${pct(res.repeatDisagreement.rate)})`,
    ]);
  const pass = res.cases - res.errors - res.overridden;
  return `${head}\n\n${table(rows)}\n\n${pass} of ${res.cases} cases pass (no field a human would change).`;
}

/** The paired comparison of two replays (b − a). */
export function formatReplayComparison(c: CompareOut, a: ReplayOut, b: ReplayOut): string {
  const rows = [
    ['', `a: ${a.version}`, `b: ${b.version}`],
    ['would be overridden', pct(c.aOverrideRate), pct(c.bOverrideRate)],
    ...Object.entries(c.byField).map(([f, v]) => [`  field ${f}`, pct(v.aOverrideRate), pct(v.bOverrideRate)]),
  ];
  const lines = [
    table(rows),
    '',
    `pairs ${c.pairs}: both ok ${c.bothOk}, only a overridden ${c.onlyAOverridden}, only b overridden ${c.onlyBOverridden}, both ${c.bothOverridden}`,
    `difference (b − a): ${points(c.difference?.estimate)} points, 95% interval ${pointsInterval(c.difference?.ci)}, McNemar exact p = ${p(c.mcnemarPValue)}`,
  ];
  if (c.errors && c.errors.a + c.errors.b + c.errors.both > 0)
    lines.push(`left out (a call failed): ${c.errors.a} in a, ${c.errors.b} in b, ${c.errors.both} in both`);
  for (const w of c.warnings ?? []) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
