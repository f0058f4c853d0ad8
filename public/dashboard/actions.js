// Lifecycle buttons (advance, pause, resume, promote, roll back), each behind a confirmation.
import { h } from './dom.js';
import { stageWords } from './format.js';

/**
 * Which buttons a live rollout shows, and whether each makes sense now (an ended one shows none).
 * The prominent button is the step the evidence supports: promoting only at the last stage with
 * a candidate shown better (or no worse, once there is a verdict); before that, advancing; none
 * while the candidate is worse or a guardrail has breached, where rolling back is the step.
 */
export function actionsFor(r, cmp) {
  const last = Array.isArray(r.stages) ? r.stage >= r.stages.length - 1 : false;
  const paused = r.status === 'paused';
  const verdict = cmp?.verdict;
  const breached = (cmp?.guardrails ?? []).some((g) => g?.status === 'breached');
  const worse = verdict === 'candidate_worse' || breached;
  const promoteReady = last && !worse && (verdict === 'candidate_better' || verdict === 'no_significant_difference');
  return [
    {
      action: 'advance',
      label: 'Advance',
      tone: !last && !paused && !worse ? 'primary' : undefined,
      disabled: last || paused,
      why: last ? 'Already at the last stage: promote when ready.' : paused ? 'Resume the rollout before advancing it.' : undefined,
    },
    paused ? { action: 'resume', label: 'Resume' } : { action: 'pause', label: 'Pause' },
    {
      action: 'promote',
      label: 'Promote',
      tone: promoteReady ? 'primary' : undefined,
      why: promoteReady ? undefined : last ? 'The comparison does not support the candidate yet.' : 'Later stages have not run yet.',
    },
    { action: 'rollback', label: 'Roll back', tone: 'danger' },
  ];
}

/** What each action does, in words, for its confirmation. */
function explain(r, action) {
  const next = r.stages?.[r.stage + 1];
  switch (action) {
    case 'advance':
      return [
        `Advance to stage ${r.stage + 2}?`,
        `The candidate (${r.candidate}) will also serve: ${stageWords(next)}. Earlier stages stay active.`,
      ];
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
      return [`${action}?`, ''];
  }
}

/**
 * Asks for confirmation in a modal dialog. Resolves to the request body ({} or {reason}) when
 * confirmed, or null when cancelled.
 */
export function confirmAction(r, action, label) {
  const [title, text] = explain(r, action);
  const needsReason = action === 'rollback';
  return new Promise((resolve) => {
    const reason = needsReason
      ? h('textarea', {
          name: 'reason',
          rows: '3',
          required: true,
          maxlength: '2000',
          placeholder: 'e.g. reviewers report wrong totals on credit notes',
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
          { type: 'submit', class: `btn ${action === 'rollback' ? 'danger' : 'primary'}`, value: 'ok', testid: 'confirm-ok' },
          label,
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
      result = needsReason ? { reason: reason.value.trim() } : {};
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
