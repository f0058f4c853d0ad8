// One rollout: header with actions, verdict, arms, trend chart, guardrails, fields, tenants,
// stages and the audit log. Each part loads on its own, so one failing endpoint leaves the rest.
import { confirmAction, actionsFor } from './actions.js';
import { ApiError, rolloutsApi } from './api.js';
import { bucketFor, renderChart } from './chart.js';
import { renderArms, renderFields, renderStageComparison, renderTenants, renderVerdict } from './comparison.js';
import { card, clear, h, term } from './dom.js';
import { renderEvents } from './events.js';
import { ago, dateTime, stageLabel, stageWords, status } from './format.js';
import { tip } from './glossary.js';
import { renderGuardrails } from './guardrails.js';
import { renderShadow } from './shadow.js';

const ENDED = new Set(['rolled_back', 'promoted']);
const PAST = { running: 'is running', paused: 'is paused', rolled_back: 'was rolled back', promoted: 'was promoted' };
const DONE = {
  advance: 'Advanced to the next stage.',
  pause: 'Paused: every call goes to the control.',
  resume: 'Resumed.',
  promote: 'Promoted: the candidate is now the current version.',
  rollback: 'Rolled back: every call goes to the control.',
};

export async function renderDetail(host, notices, id) {
  let disposeChart = () => {};
  let busy = false;

  const notify = (kind, text) => {
    clear(notices);
    if (text)
      notices.append(
        h(
          'p',
          { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', testid: kind === 'error' ? 'error' : 'notice' },
          text,
        ),
      );
  };

  async function act(rollout, action, label) {
    const body = await confirmAction(rollout, action, label);
    if (!body) return;
    busy = true;
    host.querySelectorAll('.actions button').forEach((b) => (b.disabled = true));
    try {
      await rolloutsApi.act(rollout.id, action, body);
      notify('success', DONE[action] ?? 'Done.');
    } catch (err) {
      notify('error', `${label} failed: ${err.message}`);
    } finally {
      busy = false;
      await refresh();
    }
  }

  async function refresh() {
    host.dataset.state = 'loading';
    let rollout;
    try {
      rollout = await rolloutsApi.get(id);
    } catch (err) {
      clear(host);
      host.append(
        h(
          'p',
          { class: 'notice error', role: 'alert', testid: 'error' },
          err instanceof ApiError && err.status === 404
            ? 'There is no rollout with this id. It may have been deleted, or the link is wrong.'
            : err.message,
        ),
      );
      host.dataset.state = 'error';
      return;
    }
    const bucket = bucketFor(rollout.createdAt);
    const [cmp, series, events] = await Promise.allSettled([
      rolloutsApi.comparison(id),
      rolloutsApi.timeseries(id, bucket),
      rolloutsApi.events(id),
    ]);
    disposeChart();
    disposeChart = () => {};
    clear(host);
    host.append(renderHead(rollout, busy, act, cmp.status === 'fulfilled' ? cmp.value : undefined));
    const outcome = renderOutcome(rollout, events.status === 'fulfilled' ? events.value?.events : undefined);
    if (outcome) host.append(outcome);
    const failed = (what, r) =>
      h(
        'div',
        { class: 'notice error', role: 'alert', testid: `error-${what}` },
        `The ${what} could not be loaded: ${r.reason?.message ?? r.reason}`,
      );

    if (cmp.status === 'fulfilled') {
      // A rollout that moves no traffic has only its shadow runs to show: they come first.
      const shadowFirst = cmp.value.shadow && Array.isArray(rollout.stages) && rollout.stages.length === 0;
      host.append(renderVerdict(cmp.value, rollout));
      if (shadowFirst) host.append(renderShadow(cmp.value.shadow, rollout));
      host.append(renderArms(cmp.value, rollout));
      const byStage = renderStageComparison(cmp.value);
      if (byStage) host.append(byStage);
      if (cmp.value.shadow && !shadowFirst) host.append(renderShadow(cmp.value.shadow, rollout));
    } else {
      host.append(failed('comparison', cmp));
    }
    const chartHost = h('div', { class: 'chart', testid: 'chart' });
    const chartCard = card(
      'Override rate over time',
      { testid: 'chart-card', note: `Per ${bucket}, for each arm: overridden ÷ reviewed. Hover for how many reviews a point rests on.` },
      series.status === 'fulfilled' ? chartHost : failed('timeseries', series),
    );
    host.append(
      h(
        'div',
        { class: 'grid two-one' },
        chartCard,
        cmp.status === 'fulfilled'
          ? renderGuardrails(cmp.value, rollout)
          : card('Guardrails', {}, h('div', { class: 'empty' }, 'Needs the comparison.')),
      ),
    );
    if (cmp.status === 'fulfilled') host.append(h('div', { class: 'grid halves' }, renderFields(cmp.value), renderTenants(cmp.value)));
    host.append(
      h(
        'div',
        { class: 'grid one-two' },
        renderStages(rollout),
        events.status === 'fulfilled' ? renderEvents(events.value?.events) : failed('audit log', events),
      ),
    );
    if (series.status === 'fulfilled') disposeChart = renderChart(chartHost, series.value?.points, series.value?.bucket ?? bucket);
    host.dataset.state = 'ready';
    host.dataset.status = rollout.status;
  }

  await refresh();
  return { refresh: () => (busy ? undefined : refresh()), dispose: () => disposeChart() };
}

function renderHead(r, busy, act, cmp) {
  const stage = r.stages?.[r.stage];
  return h(
    'div',
    { class: 'detail-head' },
    h(
      'div',
      { class: 'detail-title' },
      h(
        'h1',
        null,
        h('span', { testid: 'rollout-chain' }, r.chain),
        h('span', { class: 'versions' }, r.control, h('span', { class: 'arrow' }, ' → '), r.candidate),
      ),
      h(
        'p',
        { class: 'meta' },
        h('span', { class: `pill status-${r.status}`, testid: 'rollout-status', 'data-status': r.status }, status(r.status)),
        h('span', { testid: 'rollout-stage' }, stageLabel(r)),
        stage ? h('span', { class: 'muted' }, stageWords(stage)) : null,
      ),
      h(
        'p',
        { class: 'meta muted small' },
        `Started ${ago(r.createdAt)} (${dateTime(r.createdAt)}) · this stage since ${dateTime(r.stageStartedAt)} · flag `,
        h('code', null, r.flag),
      ),
      h('p', { class: 'sr-only' }, `This rollout ${PAST[r.status] ?? r.status}.`),
    ),
    // An ended rollout has nothing left to do: the outcome banner says what happened.
    ENDED.has(r.status) ? null : renderActions(r, busy, act, cmp),
  );
}

function renderActions(r, busy, act, cmp) {
  return h(
    'div',
    { class: 'actions' },
    actionsFor(r, cmp).map((a) =>
      h(
        'button',
        {
          class: `btn ${a.tone ?? ''}`,
          disabled: busy || a.disabled,
          title: a.why,
          testid: `action-${a.action}`,
          onclick: () => act(r, a.action, a.label),
        },
        a.label,
      ),
    ),
  );
}

const OUTCOME = {
  rolled_back: [
    'rolled_back',
    'Rolled back',
    'bad',
    (r) =>
      `Every call goes to the control (${r.control}). The figures below are what led here; late feedback still counts in its run's arm.`,
  ],
  promoted: ['promoted', 'Promoted', 'good', (r) => `${r.candidate} is now the current version of ${r.chain} for all traffic.`],
  paused: ['paused', 'Paused', 'warn', (r) => `Every call goes to the control (${r.control}) until someone resumes the rollout.`],
};

/** For a rollout that stopped, paused or ended: who did it, when and why, at the top. */
function renderOutcome(r, events) {
  const o = OUTCOME[r.status];
  if (!o) return null;
  const [type, word, tone, what] = o;
  const last = [...(events ?? [])].reverse().find((e) => e.type === type);
  const who = last ? ` ${ago(last.at)} by ${last.actor}` : '';
  return h(
    'section',
    { class: `outcome tone-${tone}`, testid: 'outcome' },
    h('strong', null, `${word}${who}.`),
    ' ',
    what(r),
    last?.reason ? h('div', { class: 'outcome-reason' }, 'Reason: ', h('q', null, last.reason)) : null,
  );
}

function renderStages(r) {
  const stages = Array.isArray(r.stages) ? r.stages : [];
  const ended = r.status === 'rolled_back' || r.status === 'promoted';
  return card(
    'Stages',
    {
      testid: 'stages-card',
      note: h('span', null, term('Stages', tip('stage'), 'stage'), ' add up: every stage up to the current one is active.'),
    },
    h(
      'ol',
      { class: 'stages' },
      stages.map((s, i) => {
        const state = i < r.stage ? 'done' : i === r.stage ? (ended || r.status === 'paused' ? 'held' : 'current') : 'next';
        return h(
          'li',
          { class: `stage ${state}`, testid: `stage-${i}` },
          h('span', { class: 'stage-num' }, String(i + 1)),
          h(
            'div',
            null,
            h('div', { class: 'stage-words' }, stageWords(s)),
            h(
              'div',
              { class: 'muted small' },
              {
                done: 'active',
                current: 'active · current stage',
                held: `current stage · ${status(r.status).toLowerCase()}`,
                next: 'not yet',
              }[state],
            ),
          ),
        );
      }),
    ),
  );
}
