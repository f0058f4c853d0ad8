// Lifecycle buttons (advance, pause, resume, promote, roll back, and advancing past a gate with an
// override), each behind a confirmation.
import { h } from './dom.js';
import { stageWords } from './format.js';

/**
 * Which buttons a rollout shows: exactly the actions the API accepts in its status
 * (RolloutService.nextState in src/domain/services/rollout-service.ts), so none answers 409. A
 * rolled back, promoted or gate_failed rollout has ended: every action is a 409 there, and it
 * shows none. An unknown status shows none either, rather than buttons that may not work.
 *
 * Each entry: `key` (its testid, `action-<key>`), `action` (the POST path), `override` (sends
 * {"override": true, "reason"}), how it looks (`label`, `tone`, `disabled` with `why`) and, for an
 * override, the notice once it went through (`done`).
 */
export function actionsFor(r, cmp) {
  switch (r.status) {
    case 'running':
      return runningActions(r, cmp);
    case 'paused':
      return pausedActions(r, cmp);
    case 'gated':
      return gatedActions();
    default:
      return [];
  }
}

/** Whether the rollout is at its last stage (a shadow-only rollout, `"stages": []`, has no next one). */
const atLastStage = (r) => (Array.isArray(r.stages) ? r.stage >= r.stages.length - 1 : false);

/**
 * With `gate.shadow.everyStage`, a running rollout leaves its stage only once the stage's shadow
 * gate has passed; before that, advance is 409 `shadow_gate_pending` unless overridden with a
 * reason (README "Shadow runs", Every stage). GET /v1/rollouts/{id} shows it as `gate.shadowStage`.
 */
const stageGateHolds = (r) => !!r.gate?.shadowStage && r.gate.shadowStage.state !== 'passed';

/**
 * The prominent button is the step the evidence supports: promoting only at the last stage with
 * a candidate shown better (or no worse, once there is a verdict); before that, advancing; none
 * while the candidate is worse or a guardrail has breached, where rolling back is the step.
 */
function evidence(r, cmp) {
  const last = atLastStage(r);
  const verdict = cmp?.verdict;
  const breached = (cmp?.guardrails ?? []).some((g) => g?.status === 'breached');
  const worse = verdict === 'candidate_worse' || breached;
  const promoteReady = last && !worse && (verdict === 'candidate_better' || verdict === 'no_significant_difference');
  return { last, worse, promoteReady };
}

function promoteAction(last, promoteReady) {
  return {
    key: 'promote',
    action: 'promote',
    label: 'Promote',
    tone: promoteReady ? 'primary' : undefined,
    why: promoteReady ? undefined : last ? 'The comparison does not support the candidate yet.' : 'Later stages have not run yet.',
  };
}

const rollbackAction = { key: 'rollback', action: 'rollback', label: 'Roll back', tone: 'danger' };

function runningActions(r, cmp) {
  const { last, worse, promoteReady } = evidence(r, cmp);
  const shadowOnly = Array.isArray(r.stages) && r.stages.length === 0;
  const advance =
    !last && stageGateHolds(r)
      ? {
          key: 'override',
          action: 'advance',
          override: true,
          label: 'Advance without the gate',
          done: 'Advanced without the gate: the override and your reason are in the audit log.',
          why: `The shadow gate of stage ${r.stage + 1} has not passed: the rollout advances by itself when it does. Advancing now overrides it, with a reason.`,
        }
      : {
          key: 'advance',
          action: 'advance',
          label: 'Advance',
          tone: !last && !worse ? 'primary' : undefined,
          disabled: last,
          why: shadowOnly
            ? 'A shadow-only rollout has no stage to advance to: promote or roll back.'
            : last
              ? 'Already at the last stage: promote when ready.'
              : undefined,
        };
  return [advance, { key: 'pause', action: 'pause', label: 'Pause' }, promoteAction(last, promoteReady), rollbackAction];
}

function pausedActions(r, cmp) {
  const { last, promoteReady } = evidence(r, cmp);
  return [
    // Shown but disabled (a paused rollout cannot advance: 409), to say what to do first.
    { key: 'advance', action: 'advance', label: 'Advance', disabled: true, why: 'Resume the rollout before advancing it.' },
    { key: 'resume', action: 'resume', label: 'Resume' },
    promoteAction(last, promoteReady),
    rollbackAction,
  ];
}

/**
 * A gated rollout has moved no traffic: its gate starts it, or a person does with an override and
 * a reason (README "Datasets, replays and the gate"), or abandons it. Pause, promote and a plain
 * advance are all 409 `gated`.
 */
function gatedActions() {
  return [
    {
      key: 'override',
      action: 'advance',
      override: true,
      label: 'Start without the gate',
      done: 'Started without the gate: the override and your reason are in the audit log.',
      why: 'Starts the rollout now, without waiting for the gate. The override and your reason go into the audit log.',
    },
    rollbackAction,
  ];
}

/** What each action does, in words, for its confirmation: [title, text]. */
function explain(r, a) {
  const next = r.stages?.[r.stage + 1];
  switch (a.key) {
    case 'advance':
      return [
        `Advance to stage ${r.stage + 2}?`,
        `The candidate (${r.candidate}) will also serve: ${stageWords(next)}. Earlier stages stay active.`,
      ];
    case 'override':
      return r.status === 'gated' ? explainGateOverride(r) : explainStageGateOverride(r, next);
    case 'pause':
      return ['Pause this rollout?', `Every call goes to the control (${r.control}) until you resume. The data collected so far is kept.`];
    case 'resume':
      return [`Resume at stage ${r.stage + 1}?`, `Calls that match the active stages go to the candidate (${r.candidate}) again.`];
    case 'promote':
      return [
        `Promote ${r.candidate}?`,
        `${r.candidate} becomes the current version of ${r.chain} for all traffic, and this rollout ends.`,
      ];
    case 'rollback':
      return [
        `Roll back ${r.candidate}?`,
        `Every call goes to ${r.control} for good. This ends the rollout and cannot be undone. The reason goes into the audit log.`,
      ];
    default:
      return [`${a.label}?`, ''];
  }
}

/** Starting a gated rollout by hand: POST …/advance {"override": true, "reason"} starts stage 0. */
function explainGateOverride(r) {
  const first = r.stages?.[0];
  const serves = first
    ? `The candidate (${r.candidate}) will serve: ${stageWords(first)}.`
    : 'It has no stages (shadow only), so no traffic moves: it keeps measuring in the shadow, no longer held by the gate.';
  return [
    'Start without the gate?',
    `The gate has not passed, and will no longer decide: the rollout starts stage 1 now. ${serves} The override and your reason go into the audit log.`,
  ];
}

/** Leaving a stage whose shadow gate has not passed (`everyStage`): the same override, audited. */
function explainStageGateOverride(r, next) {
  return [
    `Advance to stage ${r.stage + 2} without its gate?`,
    `The shadow gate of stage ${r.stage + 1} has not passed. The candidate (${r.candidate}) will also serve: ${stageWords(next)}. The override and your reason go into the audit log.`,
  ];
}

/** The reason each kind of action asks for: a rollback's and an override's are required (the API refuses an override without one). */
const REASON_PLACEHOLDER = {
  rollback: 'e.g. reviewers report wrong totals on credit notes',
  override: 'e.g. the owner signed off: the replay set is too small to decide',
};

/**
 * Asks for confirmation in a modal dialog. Resolves to the request body when confirmed ({},
 * {reason} for a rollback, {override: true, reason} for an override), or null when cancelled.
 */
export function confirmAction(r, a) {
  const [title, text] = explain(r, a);
  const placeholder = REASON_PLACEHOLDER[a.key];
  const needsReason = placeholder !== undefined;
  return new Promise((resolve) => {
    const reason = needsReason
      ? h('textarea', {
          name: 'reason',
          rows: '3',
          required: true,
          maxlength: '2000',
          placeholder,
          testid: 'confirm-reason',
        })
      : null;
    const form = h(
      'form',
      { method: 'dialog', class: 'dialog-form' },
      h('h2', null, title),
      h('p', null, text),
      needsReason ? h('label', { class: 'field' }, h('span', null, 'Reason (required)'), reason) : null,
      h(
        'div',
        { class: 'dialog-buttons' },
        h('button', { type: 'button', class: 'btn', value: 'cancel', testid: 'confirm-cancel' }, 'Cancel'),
        h(
          'button',
          { type: 'submit', class: `btn ${a.key === 'rollback' ? 'danger' : 'primary'}`, value: 'ok', testid: 'confirm-ok' },
          a.label,
        ),
      ),
    );
    const dialog = h('dialog', { class: 'dialog', testid: 'confirm-dialog', 'aria-label': title }, form);
    let result = null;
    form.querySelector('[value=cancel]').addEventListener('click', () => dialog.close());
    form.addEventListener('submit', (ev) => {
      if (needsReason && !reason.value.trim()) {
        ev.preventDefault();
        reason.focus();
        return;
      }
      const why = needsReason ? { reason: reason.value.trim() } : {};
      result = a.override ? { override: true, ...why } : why;
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    (reason ?? form.querySelector('[value=ok]')).focus();
  });
}
