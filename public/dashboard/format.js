// How the dashboard writes numbers. The browser test applies the same rules to the API's JSON
// and compares, so change both together (tests/e2e/dashboard.test.ts).
import { statusWord } from './statuses.js';

const MINUS = '\u2212';

const finite = (x) => typeof x === 'number' && Number.isFinite(x);

/** A count: 1,234. */
export function count(n) {
  return finite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** A rate in [0, 1] as a percentage with one decimal: 12.3%. */
export function pct(r) {
  return finite(r) ? `${fixed(r * 100, 1)}%` : '—';
}

/** A difference of two rates in percentage points, signed: +4.2 / −1.0 / 0.0. */
export function pts(d) {
  if (!finite(d)) return '—';
  const s = fixed(d * 100, 1);
  return s === '0.0' ? s : d > 0 ? `+${s}` : s;
}

/** A bound of an interval in points, unsigned unless negative: 1.1, −2.0. */
export function ptsBound(d) {
  return finite(d) ? fixed(d * 100, 1) : '—';
}

/** Milliseconds: 1,234 ms. */
export function ms(x) {
  return finite(x) ? `${Math.round(x).toLocaleString('en-US')} ms` : '—';
}

/** A p-value: 0.042, or < 0.001. */
export function pValue(p) {
  if (!finite(p)) return '—';
  return p < 0.001 ? '< 0.001' : p.toFixed(3);
}

/** toFixed with a real minus sign and no negative zero. */
export function fixed(x, digits) {
  const s = x.toFixed(digits);
  if (/^-0\.?0*$/.test(s)) return s.slice(1);
  return s.startsWith('-') ? MINUS + s.slice(1) : s;
}

export function dateTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString('en-GB', {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** "3 minutes ago", "2 days ago". */
export function ago(iso, now = Date.now()) {
  const t = new Date(iso).getTime();
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  const units = [
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, name] of units) {
    if (s >= size) {
      const n = Math.floor(s / size);
      return `${n} ${name}${n === 1 ? '' : 's'} ago`;
    }
  }
  return 'just now';
}

export function plural(n, one, many = `${one}s`) {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** A rollout's status in words (statuses.js). */
export function status(s) {
  return statusWord(s);
}

/**
 * Stage k of n (1-based for people). A gated rollout has not started its first stage (its flag is
 * off until the gate passes), and one whose gate failed never did.
 */
export function stageLabel(rollout) {
  const n = Array.isArray(rollout.stages) ? rollout.stages.length : undefined;
  if (n === 0) return 'Shadow only: no traffic moves';
  const of = n ? ` of ${n}` : '';
  if (rollout.status === 'gated') return `Stage ${rollout.stage + 1}${of} starts when the gate passes`;
  if (rollout.status === 'gate_failed') return `Stage ${rollout.stage + 1}${of} never started`;
  return `Stage ${rollout.stage + 1}${of}`;
}

/** One stage in words: "prod · acme, globex · 50% of documents (split by unit)". */
export function stageWords(stage) {
  if (!stage || typeof stage !== 'object') return '';
  const envs = (stage.environments ?? []).join(', ');
  const tenants = stage.tenants?.length ? listShort(stage.tenants) : 'all tenants';
  const excl = stage.excludeTenants?.length ? ` except ${listShort(stage.excludeTenants)}` : '';
  const by = stage.splitBy === 'unit' ? 'of units (documents, cases, users)' : 'of tenants';
  const share = stage.percent >= 100 ? 'all traffic' : `${stage.percent}% ${by}`;
  return `${envs} · ${tenants}${excl} · ${share}`;
}

function listShort(items, max = 4) {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

export const METRIC_WORDS = {
  override_rate: 'Override rate',
  error_rate: 'Error rate',
  latency_p95_ms: 'Slow calls (p95 latency)',
};
