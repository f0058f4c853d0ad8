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

/**
 * Where a rollout stands: "stage 1/2", or for a rollout with `"stages": []`, which moves no traffic
 * and only measures in the shadow (README "Shadow runs"), what the dashboard says of it
 * (stageLabel in public/dashboard/format.js) rather than "stage 1/0".
 */
function rolloutStage(r: any): string {
  const stages = Array.isArray(r.stages) ? r.stages.length : undefined;
  if (stages === 0) return 'shadow only: no traffic moves';
  return `stage ${r.stage + 1}${stages === undefined ? '' : `/${stages}`}`;
}

export function formatRollout(r: any): string {
  return `${r.id}  ${r.chain}  ${r.control} → ${r.candidate}  ${r.status.toUpperCase()}  ${rolloutStage(r)}`;
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

/** A difference in points, signed, one decimal: "+17.6", "−2.0" (what the dashboard prints as "pts"). */
const signedPoints = (x: unknown) => (typeof x === 'number' ? `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}` : '–');
const pointsInterval = (ci: unknown) =>
  Array.isArray(ci) && ci.length === 2 ? `[${signedPoints(ci[0])}, ${signedPoints(ci[1])}] points` : '';

/** "stage 2 (prod, all tenants, 50% by unit)": a stage as the CLI and the demo name it (1-based, as the dashboard). */
export function stageName(s: any): string {
  const envs = Array.isArray(s?.environments) ? s.environments.join(', ') : '?';
  const tenants = Array.isArray(s?.tenants) && s.tenants.length ? s.tenants.join(', ') : 'all tenants';
  const share = typeof s?.percent === 'number' ? (s.percent >= 100 ? '100%' : `${s.percent}% by ${s.splitBy ?? 'tenant'}`) : '?';
  return `stage ${typeof s?.stage === 'number' ? s.stage + 1 : '?'} (${envs}, ${tenants}, ${share})`;
}

/** Stages of the breakdown without a randomized control: their candidate runs count in the arms, not in the difference. */
function stagesWithoutControl(c: any): any[] {
  return (Array.isArray(c.byStage) ? c.byStage : []).filter((s: any) => s.controlArm === 'baseline' || s.percent >= 100);
}

/**
 * The comparison's warning codes in plain words, as the dashboard shows them (public/dashboard/comparison.js):
 * a terminal user should not have to look a code up. A code not listed prints as it is.
 */
export function warningSentence(w: unknown, c: any = {}): string {
  if (w && typeof w === 'object' && typeof (w as any).message === 'string') return (w as any).message;
  const code = typeof w === 'string' ? w : String((w as any)?.code ?? '');
  switch (code) {
    case 'stage_without_randomized_control': {
      const names = stagesWithoutControl(c).map(stageName);
      const which = names.length ? names.join(' and ') : 'an earlier stage';
      return `${which} sent all its traffic to the candidate, so it has no randomized control: its runs count in the candidate arm, not in the difference.`;
    }
    case 'baseline_observational':
      return 'The control is a baseline, not a randomized arm: the comparison is observational, so it never claims better or worse.';
    case 'baseline_other_tenants':
      return "The baseline is other tenants' traffic on the control in the same environments at the same time.";
    case 'baseline_same_tenants_before':
      return "The baseline is the same tenants' traffic before the candidate reached them.";
    case 'baseline_empty':
      return 'There is no baseline traffic to compare with yet.';
    case 'too_few_tenants':
      return 'Fewer than 10 tenants in an arm: whole tenants are the unit of analysis, so no significance is claimed yet.';
    case 'srm_mismatch':
      return 'Traffic was not split as configured (sample ratio mismatch). Fix the assignment before trusting this comparison.';
    case 'review_rate_imbalance':
      return "The arms' review rates differ: skipped reviews may not be random, which can bias the override rates.";
    default:
      return code;
  }
}

/**
 * The comparison for a terminal. Every figure says which runs it counts, so the lines agree
 * with one another and with the dashboard: the arms are every run of the rollout by the arm it
 * was assigned, over all stages; each stage then has its own arms and difference; the headline
 * difference is over the stages with a randomized control (stratified by stage), which is why
 * it can differ from the arms' rates subtracted when a stage sent all its traffic to the candidate.
 */
export function formatComparison(c: any): string {
  const a = c.arms ?? {};
  const rows = [
    ['', `control (${a.control?.version ?? '?'})`, `candidate (${a.candidate?.version ?? '?'})`],
    ['runs', num(a.control?.runs), num(a.candidate?.runs)],
    ['reviewed', num(a.control?.reviewed), num(a.candidate?.reviewed)],
    ['override rate', pct(a.control?.overrideRate), pct(a.candidate?.overrideRate)],
    ['  95% interval', interval(a.control?.overrideRateCI), interval(a.candidate?.overrideRateCI)],
    ['error rate', pct(a.control?.errorRate), pct(a.candidate?.errorRate)],
    ['fallbacks', num(a.control?.fallbacks), num(a.candidate?.fallbacks)],
    ['latency p95 (ms)', num(a.control?.latencyMs?.p95), num(a.candidate?.latencyMs?.p95)],
  ];
  const stages: any[] = Array.isArray(c.byStage) ? c.byStage : [];
  const lines = [
    `arms: every run of the rollout by its assigned arm${stages.length > 1 ? `, all ${stages.length} stages` : ''}`,
    table(rows),
    '',
  ];
  if (stages.length > 1) {
    const arm = (s: any, k: string) => {
      const x = s.arms?.[k];
      return x && x.runs > 0 ? `${num(x.runs)} runs, ${num(x.reviewed)} reviewed, ${pct(x.overrideRate)}` : '–';
    };
    const diff = (s: any) => {
      if (s.controlArm !== 'randomized' || !(s.arms?.control?.reviewed > 0)) return 'no randomized control';
      return `${signedPoints(s.difference?.overrideRate?.estimate)} points`;
    };
    lines.push(
      'by stage',
      table([
        ['', 'control', 'candidate', 'difference'],
        ...stages.map((s) => [stageName(s), arm(s, 'control'), arm(s, 'candidate'), diff(s)]),
      ]),
      '',
    );
  }
  const d = c.difference?.overrideRate;
  if (d) {
    const over = stages.length > 1 ? ' (over the stages with a randomized control, stratified by stage)' : '';
    lines.push(
      `difference in override rate (candidate − control)${over}: ${signedPoints(d.estimate)} points, always-valid 95% interval ${pointsInterval(d.alwaysValidCI)}, p = ${typeof d.alwaysValidPValue === 'number' ? d.alwaysValidPValue.toPrecision(2) : '–'}`,
    );
  }
  lines.push(
    `verdict: ${String(c.verdict ?? 'unknown').replace(/_/g, ' ')}   (${c.controlArm ?? 'randomized'} control, unit of analysis: ${c.analysisUnit ?? 'run'})`,
  );
  // Each metric prints its limit and bound in its own units (a latency limit in ms, its bound as a share).
  for (const g of c.guardrails ?? []) lines.push(formatGuardrail(g));
  for (const w of c.warnings ?? []) lines.push(`warning: ${warningSentence(w, c)}`);
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
  const warnings = Array.isArray(v.warnings) ? v.warnings.map((w: unknown) => `\nwarning: ${String(w)}`).join('') : '';
  return `version ${v.version} of ${v.chain}: ${adapterSummary(v.adapter)}${warnings}`;
}
