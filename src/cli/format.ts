/** Plain-text rendering of the gateway's answers for the terminal (`--json` prints them as they are). */
import { describeCheck } from '../domain/guardrails/guardrail-metrics.js';

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '–');
const num = (x: unknown) => (typeof x === 'number' ? String(Math.round(x * 10) / 10) : '–');
const interval = (ci: unknown) => (Array.isArray(ci) && ci.length === 2 ? `[${pct(ci[0])}, ${pct(ci[1])}]` : '');

/** Left-aligned first column, right-aligned figures. */
export function table(rows: string[][], align: 'figures' | 'text' = 'figures'): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === 0 || align === 'text' ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n');
}

export function formatRollout(r: any): string {
  return `${r.id}  ${r.chain}  ${r.control} → ${r.candidate}  ${r.status.toUpperCase()}  stage ${r.stage + 1}/${r.stages.length}`;
}

export function formatRollouts(items: any[]): string {
  return items.length ? items.map(formatRollout).join('\n') : 'no rollouts';
}

/**
 * One guardrail check, described by the metric table (as the guardrail job's rollback reason is):
 * a latency `max` reads "limit 2000 ms", a relative limit "+5 points over control", an absolute
 * rate "2%"; a check still waiting says how many samples it needs.
 */
export function formatGuardrail(g: any): string {
  const waiting = g.status === 'waiting' && typeof g.minSamples === 'number' ? ` (of ${g.minSamples} needed)` : '';
  return `guardrail ${describeCheck(g)}${waiting}`;
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
  lines.push(
    `verdict: ${String(c.verdict ?? 'unknown').replace(/_/g, ' ')}   (${c.controlArm ?? 'randomized'} control, unit of analysis: ${c.analysisUnit ?? 'run'})`,
  );
  // Each metric prints its limit and bound in its own units (a latency limit in ms, its bound as a share).
  for (const g of c.guardrails ?? []) lines.push(formatGuardrail(g));
  for (const w of c.warnings ?? []) lines.push(`warning: ${typeof w === 'string' ? w : (w.message ?? w.code)}`);
  return lines.join('\n');
}

export function formatEvents(events: any[]): string {
  if (!events.length) return 'no events';
  return events.map((e) => `${e.at}  ${e.type.padEnd(20)} ${e.actor ?? ''}${e.reason ? `  "${e.reason}"` : ''}`.trimEnd()).join('\n');
}

const date = (iso: unknown) => (typeof iso === 'string' ? iso.slice(0, 19).replace('T', ' ') : '');

export function formatTenants(items: any[]): string {
  if (!items.length) return 'no tenants';
  return table([['TENANT', 'NAME', 'CREATED'], ...items.map((t) => [t.id, t.name ?? '', date(t.createdAt)])], 'text');
}

export function formatTenant(t: any): string {
  return `tenant ${t.id}${t.name ? ` (${t.name})` : ''}`;
}

export function formatCreatedKey(k: any): string {
  return [`key ${k.id} (${k.name}) for tenant ${k.tenantId}:`, `  ${k.key}`, 'Shown only now: the gateway keeps a keyed hash of it.'].join(
    '\n',
  );
}

/** What a version calls, in a few words. */
export function adapterSummary(adapter: any): string {
  if (adapter?.type === 'http') return `http ${adapter.url}`;
  if (adapter?.type === 'openai') return `openai ${adapter.provider ?? 'openai'} ${adapter.deployment ?? adapter.model ?? ''}`.trimEnd();
  return String(adapter?.type ?? '?');
}

export function formatChains(items: any[]): string {
  if (!items.length) return 'no chains';
  return table([['CHAIN', 'CURRENT', 'DESCRIPTION'], ...items.map((c) => [c.id, c.current ?? '–', c.description ?? ''])], 'text');
}

export function formatChain(c: any): string {
  const lines = [`chain ${c.id}${c.description ? `: ${c.description}` : ''}`, `current version: ${c.current ?? '– (none registered yet)'}`];
  if (Array.isArray(c.environments)) lines.push(`environments: ${c.environments.join(', ')}`);
  if (Array.isArray(c.versions)) {
    lines.push('');
    lines.push(c.versions.length ? formatVersions(c.versions) : 'no versions');
  }
  return lines.join('\n');
}

export function formatVersions(items: any[]): string {
  if (!items.length) return 'no versions';
  return table([['VERSION', 'CALLS', 'CREATED'], ...items.map((v) => [v.version, adapterSummary(v.adapter), date(v.createdAt)])], 'text');
}

export function formatVersion(v: any): string {
  return `version ${v.version} of ${v.chain}: ${adapterSummary(v.adapter)}`;
}
