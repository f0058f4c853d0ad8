// The rollout planner on the list page: before creating a rollout, how likely its guardrail is to
// roll back an identical candidate, how fast it catches a given regression, and how long until a
// verdict. The form is POST /v1/rollouts/plan's body (README "Planning a rollout"); the gateway
// validates it and runs the simulations (up to 30 s).
import { ApiError, planApi } from './api.js';
import { card, clear, h, num } from './dom.js';
import { count, pct } from './format.js';

/** The form's fields: [name, label, default, hint]; rates in percent, as people say them. */
const FIELDS = [
  ['overrideRate', "Control's override rate (%)", '10', 'overridden / reviewed today'],
  ['candidateOverrideRate', "Candidate's override rate (%)", '', 'empty: identical to the control'],
  ['reviewRate', 'Review rate (%)', '80', 'reviewed / answered runs'],
  ['errorRate', 'Error rate (%)', '1', ''],
  ['runsPerDay', 'Runs per day', '2000', 'through the stage, both arms'],
  ['share', 'Candidate share (%)', '10', ''],
  ['days', 'Days', '14', ''],
  ['maxIncrease', 'Guardrail: max increase (points)', '3', 'override_rate, over the control'],
  ['minSamples', 'Guardrail: min samples', '100', 'reviewed runs per arm'],
  ['checkEveryMinutes', 'Check every (minutes)', '10', ''],
  ['simulations', 'Simulations', '1000', 'capped by the 30 s a plan may take'],
];

const days = (x) => (typeof x === 'number' ? `${x < 1 ? x.toFixed(2) : x.toFixed(1)} days` : '—');

/** The request body from the form's values (empty candidate: an identical one). */
export function planBody(v) {
  const n = (k) => Number(v[k]);
  const rate = (k) => n(k) / 100;
  return {
    guardrails: [{ metric: 'override_rate', maxIncrease: rate('maxIncrease'), minSamples: n('minSamples') }],
    control: { overrideRate: rate('overrideRate'), errorRate: rate('errorRate'), reviewRate: rate('reviewRate') },
    ...(String(v.candidateOverrideRate ?? '').trim() !== '' ? { candidate: { overrideRate: rate('candidateOverrideRate') } } : {}),
    traffic: { runsPerDay: n('runsPerDay'), candidateShare: rate('share'), days: n('days') },
    checkEveryMinutes: n('checkEveryMinutes'),
    simulations: n('simulations'),
    seed: 1,
  };
}

function row(label, ...value) {
  return h('div', { class: 'kv' }, h('dt', null, label), h('dd', null, value));
}

function renderAnswer(plan, identical) {
  const f = plan.fireProbability ?? {};
  const t = plan.timeToFire;
  const v = plan.verdict ?? {};
  return h(
    'dl',
    { class: 'kvs', testid: 'plan-result' },
    row(
      identical ? 'False rollbacks' : 'Rolled back',
      num('plan-fire', pct(f.estimate)),
      h(
        'span',
        { class: 'muted' },
        ' (95% CI ',
        num('plan-fire-ci-low', pct(f.ci?.[0])),
        ' – ',
        num('plan-fire-ci-high', pct(f.ci?.[1])),
        ')',
      ),
    ),
    t
      ? row(
          'Time to rollback (median)',
          num('plan-fire-days', days(t.medianDays)),
          h('span', { class: 'muted' }, ' · ', num('plan-fire-reviewed', count(t.medianCandidateReviewed)), ' candidate reviews'),
        )
      : row('Time to rollback', num('plan-fire-days', 'never rolled back')),
    t
      ? row(
          'Time to rollback (p90)',
          num('plan-fire-days-p90', days(t.p90Days)),
          h('span', { class: 'muted' }, ` · ${count(t.p90CandidateReviewed)} reviews`),
        )
      : null,
    row('Verdict: candidate worse', num('plan-verdict-worse', pct(v.probabilityWorse))),
    row('Verdict: candidate better', num('plan-verdict-better', pct(v.probabilityBetter))),
    row(
      'Median time to a verdict',
      num('plan-verdict-days', v.medianDaysToVerdict === null ? 'most never reach one' : days(v.medianDaysToVerdict)),
    ),
    row('Simulated rollouts', num('plan-simulations', count(plan.simulations))),
    h('p', { class: 'note', testid: 'plan-method' }, plan.method),
  );
}

export function renderPlanPanel() {
  const inputs = Object.fromEntries(
    FIELDS.map(([name, , value]) => [
      name,
      h('input', { id: `plan-${name}`, name, value, inputmode: 'decimal', autocomplete: 'off', testid: `plan-input-${name}` }),
    ]),
  );
  const out = h('div', { 'aria-live': 'polite', testid: 'plan-output' });
  const button = h('button', { type: 'submit', class: 'btn primary', testid: 'plan-submit' }, 'Plan');
  const form = h(
    'form',
    {
      class: 'plan-form',
      testid: 'plan-form',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const values = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value]));
        button.disabled = true;
        clear(out).append(h('div', { class: 'loading' }, 'Simulating…'));
        try {
          const plan = await planApi.plan(planBody(values));
          clear(out).append(renderAnswer(plan, String(values.candidateOverrideRate).trim() === ''));
        } catch (err) {
          const where = err instanceof ApiError && err.details ? ` ${JSON.stringify(err.details)}` : '';
          clear(out).append(h('p', { class: 'notice error', role: 'alert', testid: 'plan-error' }, `${err.message}${where}`));
        } finally {
          button.disabled = false;
        }
      },
    },
    h(
      'div',
      { class: 'plan-fields' },
      FIELDS.map(([name, label, , hint]) =>
        h(
          'label',
          { class: 'field', for: `plan-${name}` },
          h('span', null, label),
          inputs[name],
          hint ? h('span', { class: 'note' }, hint) : null,
        ),
      ),
    ),
    button,
  );
  return card(
    'Plan a rollout',
    {
      testid: 'plan',
      cls: 'plan',
      note: 'Before you start one: simulated with the same guardrail and verdict code a rollout runs (one stage, one override-rate guardrail; the API and chain-canary plan take more).',
    },
    form,
    out,
  );
}
