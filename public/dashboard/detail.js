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
import { renderOutcome } from './outcome.js';
import { renderShadow } from './shadow.js';
import { isEnded, statusSentence } from './statuses.js';

/** What the page says once an action went through, by its key in actionsFor (an override says its own). */
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

  async function act(rollout, a) {
    const body = await confirmAction(rollout, a);
    if (!body) return;
    busy = true;
    host.querySelectorAll('.actions button').forEach((b) => (b.disabled = true));
    try {
      await rolloutsApi.act(rollout.id, a.action, body);
      notify('success', a.done ?? DONE[a.key] ?? 'Done.');
    } catch (err) {
      notify('error', `${a.label} failed: ${err.message}`);
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
        `Started ${ago(r.createdAt)} (${dateTime(r.createdAt)}) · `,
        // Before the gate lets it start (or after it failed) no stage has begun.
        r.status === 'gated' || r.status === 'gate_failed' ? null : `this stage since ${dateTime(r.stageStartedAt)} · `,
        'flag ',
        h('code', null, r.flag),
      ),
      h('p', { class: 'sr-only' }, `This rollout ${statusSentence(r.status)}.`),
    ),
    // An ended rollout has nothing left to do: the outcome banner says what happened.
    isEnded(r.status) ? null : renderActions(r, busy, act, cmp),
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
          testid: `action-${a.key}`,
          onclick: () => act(r, a),
        },
        a.label,
      ),
    ),
  );
}

/**
 * A stage's place: done, current, held (the rollout paused or ended there), next; or, before any
 * stage has started, waiting (a gated rollout: its gate starts stage 1) or never (its gate failed).
 */
function stageState(r, i) {
  if (r.status === 'gated') return 'waiting';
  if (r.status === 'gate_failed') return 'never';
  if (i < r.stage) return 'done';
  if (i > r.stage) return 'next';
  return isEnded(r.status) || r.status === 'paused' ? 'held' : 'current';
}

function renderStages(r) {
  const stages = Array.isArray(r.stages) ? r.stages : [];
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
        const state = stageState(r, i);
        return h(
          'li',
          // A stage that has not started looks like one not reached yet.
          { class: `stage ${state === 'waiting' || state === 'never' ? 'next' : state}`, testid: `stage-${i}`, 'data-state': state },
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
                waiting: i === 0 ? 'not yet · starts when the gate passes' : 'not yet',
                never: 'never started: the gate failed',
              }[state],
            ),
          ),
        );
      }),
    ),
  );
}
