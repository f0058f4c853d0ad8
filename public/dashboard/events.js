// The audit log (GET /v1/rollouts/:id/events), newest first; rollbacks and breaches stand out.
import { card, h } from './dom.js';
import { ago, count, dateTime, pct, plural, pts } from './format.js';
import { gateEventLines } from './gate.js';

const TYPES = {
  created: ['Created', 'info'],
  advanced: ['Advanced', 'info'],
  paused: ['Paused', 'warn'],
  resumed: ['Resumed', 'info'],
  guardrail_breached: ['Guardrail breached', 'alert'],
  guardrail_unevaluable: ['Guardrail cannot be evaluated', 'warn'],
  rolled_back: ['Rolled back', 'alert'],
  promoted: ['Promoted', 'good'],
  webhook_failed: ['Webhook failed', 'warn'],
  // The gate's own events (README "Datasets, replays and the gate", "Shadow runs").
  gate_passed: ['Gate passed', 'good'],
  gate_failed: ['Gate failed', 'alert'],
  gate_inconclusive: ['Gate cannot decide', 'warn'],
};

const GATE_EVENTS = new Set(['gate_passed', 'gate_failed', 'gate_inconclusive']);

const METRIC = { override_rate: 'override rate', error_rate: 'error rate', latency_p95_ms: 'slow calls' };

/** A breached guardrail's figures: "override rate: bound +6.1 pts over the +5.0 pts limit (975 samples)". */
function breachLine(g) {
  const asPts = g.quantity === 'rate_difference' || g.limit === 'maxIncrease';
  const f = (v) => (typeof v !== 'number' ? '—' : asPts ? `${pts(v)} pts` : pct(v));
  const what =
    g.quantity === 'share_slower_than_max' && g.maxMs ? `share of calls slower than ${count(g.maxMs)} ms` : (METRIC[g.metric] ?? g.metric);
  return `${what}: bound ${f(g.bound)} over the ${f(g.threshold)} limit (${plural(g.samples, 'sample')})`;
}

/** What an event's data says, in a line or two; lifecycle bookkeeping (before/after) is left out. */
function details(e) {
  const d = e.data;
  if (d === null || d === undefined) return [];
  if (typeof d !== 'object') return [String(d)];
  const lines = [];
  if (Array.isArray(d.guardrails) && (e.type === 'guardrail_breached' || e.type === 'rolled_back'))
    lines.push(...d.guardrails.filter((g) => g?.status === 'breached' || e.type === 'guardrail_breached').map(breachLine));
  // A gate event's data is its figures: in words, not as JSON.
  if (GATE_EVENTS.has(e.type)) return gateEventLines(e);
  if (e.type === 'created') {
    const parts = [];
    if (typeof d.stages === 'number') parts.push(`${d.stages} stage${d.stages === 1 ? '' : 's'}`);
    if (d.flag) parts.push(`flag ${d.flag}`);
    if (parts.length) lines.push(parts.join(' · '));
    return lines;
  }
  const skip = new Set(['before', 'after', 'guardrails', 'samples', 'at', 'stage', 'flag', 'stages', 'override']);
  const rest = Object.entries(d).filter(([k, v]) => !skip.has(k) && v !== null && v !== undefined);
  if (rest.length) {
    lines.push(
      rest
        .map(([k, v]) => {
          const text = typeof v === 'object' ? JSON.stringify(v) : String(v);
          return `${k}: ${text.length > 140 ? `${text.slice(0, 137)}…` : text}`;
        })
        .join(' · '),
    );
  }
  return lines;
}

function summary(e) {
  const d = e.data ?? {};
  const stage = d.after?.stage ?? d.stage;
  // An advance with {"override": true} set a gate aside: the gate before stage 1, or the current stage's.
  const override = e.type === 'advanced' && d.override === true ? ', overriding the gate' : '';
  if (e.type === 'advanced' && typeof stage === 'number') return `to stage ${stage + 1}${override}`;
  if (GATE_EVENTS.has(e.type) && typeof d.stage === 'number') return `for stage ${d.stage + 1}`;
  if (e.type === 'created') return d.status !== 'gated' ? 'at stage 1' : d.stages === 0 ? 'gated' : 'gated: stage 1 waits for the gate';
  return '';
}

export function renderEvents(events) {
  const list = [...(events ?? [])].reverse();
  return card(
    'Audit log',
    { testid: 'events-card', note: 'Every change to this rollout, by whom and why; newest first.' },
    list.length
      ? h(
          'ol',
          { class: 'events' },
          list.map((e, i) => {
            const [label, tone] = TYPES[e.type] ?? [String(e.type).replaceAll('_', ' '), 'info'];
            return h(
              'li',
              { class: `event tone-${tone}`, testid: `event-${i}`, 'data-type': e.type },
              h('span', { class: 'event-dot', 'aria-hidden': 'true' }),
              h(
                'div',
                { class: 'event-body' },
                h(
                  'div',
                  { class: 'event-head' },
                  h('strong', { testid: `event-${i}-type` }, label),
                  summary(e) ? h('span', null, ` ${summary(e)}`) : null,
                  h('span', { class: 'muted' }, ` by ${e.actor ?? 'unknown'}`),
                ),
                e.reason ? h('div', { class: 'event-reason' }, `“${e.reason}”`) : null,
                details(e).map((line) => h('div', { class: 'event-data' }, line)),
              ),
              h('time', { datetime: e.at, title: dateTime(e.at) }, ago(e.at), h('br'), h('span', { class: 'muted' }, dateTime(e.at))),
            );
          }),
        )
      : h('div', { class: 'empty' }, 'No events yet.'),
  );
}
