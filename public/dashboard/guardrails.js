// Guardrails and how close each is to firing: the always-valid bound against the threshold.
import { card, h, num, term } from './dom.js';
import { count, METRIC_WORDS, ms, pct, pts } from './format.js';
import { tip } from './glossary.js';

const STATUS = {
  waiting: ['Waiting for data', 'waiting'],
  holding: ['Holding', 'good'],
  breached: ['Breached', 'bad'],
  // No control data while the candidate has its samples: the guardrail cannot protect anyone.
  unevaluable: ['Cannot be evaluated', 'bad'],
};

/** The rollout's own definition of a comparison guardrail (for minSamples and the kind of limit). */
function specFor(g, i, rollout) {
  const specs = Array.isArray(rollout.guardrails) ? rollout.guardrails : [];
  const same = specs.filter((s) => s.metric === g.metric);
  if (same.length === 1) return same[0];
  return same.find((s) => s.max === g.threshold || s.maxIncrease === g.threshold) ?? specs[i] ?? {};
}

/**
 * Is this a relative limit (points over the control) or an absolute one? The comparison says
 * (`limit`: "maxIncrease" | "max"); otherwise the rollout's definition tells.
 */
function relative(g, spec) {
  if (g.limit) return g.limit === 'maxIncrease';
  if (g.quantity) return g.quantity === 'rate_difference' || g.quantity === 'quantile_difference_ms';
  if (g.metric === 'override_rate') return true;
  if (g.metric === 'latency_p95_ms') return false;
  if (spec.maxIncrease !== undefined && spec.max === undefined) return true;
  if (spec.max !== undefined && spec.maxIncrease === undefined) return false;
  return spec.maxIncrease === g.threshold && spec.max !== g.threshold;
}

/** The slow-call limit of a latency guardrail in ms (the comparison's maxMs, else the rollout's max). */
function maxMsOf(g, spec) {
  return g.maxMs ?? (g.threshold > 1 ? g.threshold : spec.max);
}

/**
 * How to write a guardrail's bound and threshold. The comparison reports latency as the share of
 * candidate runs slower than max (threshold 5%); an older shape may give milliseconds.
 */
function unitOf(g, isRelative) {
  if (g.quantity === 'quantile_difference_ms') return { fmt: (v) => `${v >= 0 ? '+' : '−'}${ms(Math.abs(v))}` };
  if (g.quantity === 'share_slower_than_max' || (g.metric === 'latency_p95_ms' && g.threshold <= 1)) return { fmt: pct };
  if (g.metric === 'latency_p95_ms') return { fmt: ms };
  if (isRelative) return { fmt: (v) => `${pts(v)} pts` };
  return { fmt: pct };
}

function describe(g, spec, isRelative) {
  const name = METRIC_WORDS[g.metric] ?? g.metric;
  if (g.quantity === 'quantile_difference_ms') return `${name}: candidate's p95 at most ${ms(g.threshold)} above control's`;
  if (g.metric === 'latency_p95_ms') return `${name}: at most 5% of candidate runs slower than ${ms(maxMsOf(g, spec))}`;
  if (isRelative) return `${name}: candidate at most ${pts(g.threshold).replace('+', '')} points above control`;
  return `${name}: candidate at most ${pct(g.threshold)}`;
}

export function renderGuardrails(cmp, rollout) {
  const list = Array.isArray(cmp?.guardrails) ? cmp.guardrails : [];
  return card(
    'Guardrails',
    {
      testid: 'guardrails-card',
      note: 'Each bar is the evidence so far: the one-sided always-valid bound. When it crosses the line, the gateway rolls the candidate back by itself.',
    },
    list.length
      ? h(
          'ul',
          { class: 'guardrails' },
          list.map((g, i) => {
            const spec = specFor(g, i, rollout);
            const isRelative = relative(g, spec);
            const u = unitOf(g, isRelative);
            const [label, tone] = STATUS[g.status] ?? [String(g.status ?? 'unknown'), 'waiting'];
            const hasBound = typeof g.bound === 'number' && Number.isFinite(g.bound);
            const ratio = hasBound && g.threshold > 0 ? g.bound / g.threshold : 0;
            // The bar runs to 125% of the threshold, so the line sits at 80% of its width.
            const fill = Math.max(0, Math.min(1, ratio / 1.25));
            const near = Math.max(0, Math.round(ratio * 100));
            const minSamples = g.minSamples ?? spec.minSamples;
            // "1 sample", "2 samples": the noun follows the figure it is printed after.
            const noun = (n) => (n === 1 ? 'sample' : 'samples');
            const samplesText =
              g.status === 'waiting' && minSamples
                ? ` of ${count(minSamples)} ${noun(minSamples)} needed`
                : minSamples
                  ? ` ${noun(g.samples)} (needs ${count(minSamples)})`
                  : ` ${noun(g.samples)}`;
            return h(
              'li',
              { class: `guardrail tone-${tone}`, testid: `guardrail-${i}`, 'data-metric': g.metric },
              h(
                'div',
                { class: 'guardrail-head' },
                h('span', { class: 'guardrail-name' }, describe(g, spec, isRelative)),
                h('span', { class: `pill ${tone}`, testid: `guardrail-${i}-status` }, label),
              ),
              h(
                'div',
                {
                  class: 'gbar',
                  role: 'meter',
                  'aria-valuemin': '0',
                  'aria-valuemax': '125',
                  'aria-valuenow': String(Math.min(125, near)),
                  'aria-label': `${near}% of the way to firing`,
                },
                h('span', { class: 'gbar-fill', style: { width: `${fill * 100}%` } }),
                h('span', { class: 'gbar-line', title: 'threshold' }),
              ),
              h(
                'div',
                { class: 'guardrail-figures' },
                h('span', null, term('Bound', tip('bound'), 'bound'), ' ', num(`guardrail-${i}-bound`, hasBound ? u.fmt(g.bound) : '—')),
                h('span', null, 'limit ', num(`guardrail-${i}-threshold`, u.fmt(g.threshold))),
                typeof g.estimate === 'number'
                  ? h('span', { class: 'muted' }, 'now ', num(`guardrail-${i}-estimate`, u.fmt(g.estimate)))
                  : null,
              ),
              h(
                'div',
                { class: 'guardrail-figures muted' },
                h('span', null, hasBound ? `${near}% of the way to firing` : 'no bound yet'),
                h('span', null, num(`guardrail-${i}-samples`, count(g.samples)), samplesText),
              ),
              g.status === 'unevaluable'
                ? h(
                    'p',
                    { class: 'guardrail-unevaluable', testid: `guardrail-${i}-unevaluable` },
                    '⚠ No control data to compare with: this guardrail cannot fire. Send control traffic (or a baseline) or pause the rollout.',
                  )
                : null,
            );
          }),
        )
      : h(
          'div',
          { class: 'empty' },
          rollout.guardrails?.length
            ? 'Guardrail figures appear with the comparison.'
            : 'This rollout has no guardrails: nothing rolls it back automatically.',
        ),
  );
}
