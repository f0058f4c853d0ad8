/** Plain-text rendering of rollouts and comparisons for the terminal. */
import { describeCheck } from '../domain/guardrails/guardrail-metrics.js';

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '–');
const num = (x: unknown) => (typeof x === 'number' ? String(Math.round(x * 10) / 10) : '–');
const interval = (ci: unknown) => (Array.isArray(ci) && ci.length === 2 ? `[${pct(ci[0])}, ${pct(ci[1])}]` : '');

export function formatRollout(r: any): string {
  return `${r.id}  ${r.chain}  ${r.control} → ${r.candidate}  ${r.status.toUpperCase()}  stage ${r.stage + 1}/${r.stages.length}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ')).join('\n');
}

export function formatComparison(c: any): string {
  const a = c.arms ?? {};
  const rows = [
    ['', `control (${a.control?.version ?? '?'})`, `candidate (${a.candidate?.version ?? '?'})`],
    ['runs', num(a.control?.runs), num(a.candidate?.runs)],
    ['reviewed', num(a.control?.reviewed), num(a.candidate?.reviewed)],
    ['override rate', pct(a.control?.overrideRate), pct(a.candidate?.overrideRate)],
    ['  95% interval', interval(a.control?.overrideRateCI), interval(a.candidate?.overrideRateCI)],
    ['error rate', pct(a.control?.errorRate), pct(a.candidate?.errorRate)],
    ['latency p95 (ms)', num(a.control?.latencyMs?.p95), num(a.candidate?.latencyMs?.p95)],
  ];
  const d = c.difference?.overrideRate;
  const lines = [table(rows), ''];
  if (d) {
    lines.push(
      `difference (candidate − control): ${d.estimate >= 0 ? '+' : ''}${(d.estimate * 100).toFixed(1)} points, always-valid 95% interval ${interval(d.alwaysValidCI)}, p = ${typeof d.alwaysValidPValue === 'number' ? d.alwaysValidPValue.toPrecision(2) : '–'}`,
    );
  }
  lines.push(`verdict: ${String(c.verdict ?? 'unknown').replace(/_/g, ' ')}   (${c.controlArm ?? 'randomized'} control, unit of analysis: ${c.analysisUnit ?? 'run'})`);
  // Each metric prints its limit and bound in its own units (a latency limit in ms, its bound as a share).
  for (const g of c.guardrails ?? []) lines.push(`guardrail ${describeCheck(g)}`);
  for (const w of c.warnings ?? []) lines.push(`warning: ${typeof w === 'string' ? w : (w.message ?? w.code)}`);
  return lines.join('\n');
}
