// The banner at the top of a rollout that is not simply running: who paused or ended it, when and
// why; for a gated one, what it is waiting for; for one whose gate failed, the figures it failed on.
import { h } from './dom.js';
import { ago } from './format.js';
import { gateFailures, gateProgress } from './gate.js';

/**
 * Per status: the audit event that put the rollout there (its actor, time and reason head the
 * banner), the banner's word and tone, what it means now, and the gate's lines where there is one.
 */
const OUTCOME = {
  rolled_back: {
    event: 'rolled_back',
    word: 'Rolled back',
    tone: 'bad',
    what: (r) =>
      `Every call goes to the control (${r.control}). The figures below are what led here; late feedback still counts in its run's arm.`,
  },
  promoted: {
    event: 'promoted',
    word: 'Promoted',
    tone: 'good',
    what: (r) => `${r.candidate} is now the current version of ${r.chain} for all traffic.`,
  },
  paused: {
    event: 'paused',
    word: 'Paused',
    tone: 'warn',
    what: (r) => `Every call goes to the control (${r.control}) until someone resumes the rollout.`,
  },
  // README "Datasets, replays and the gate": a failed gate is final, and no traffic ever moved.
  gate_failed: {
    event: 'gate_failed',
    word: 'Gate failed',
    tone: 'bad',
    what: (r) =>
      `${r.candidate} did worse than its gate allows, before any customer saw it: no traffic moved, and every call goes to the control (${r.control}). This rollout is over; create another to try again.`,
    gate: (r) => gateFailures(r.gate, 'outcome-gate'),
    noFigures: 'The figures the gate decided on are in the audit log.',
  },
  // Created `gated`: the gate starts stage 0 by itself when it passes; a person may start it with an override.
  gated: {
    event: 'created',
    // The gate, not the person who created it, holds the rollout.
    word: 'Gated: created',
    tone: 'wait',
    what: (r) =>
      `No customer traffic moves until the gate passes; then ${r.stages?.length ? 'stage 1 starts' : 'it runs on, in the shadow only,'} by itself. To start now, use “Start without the gate” (your reason goes into the audit log); or roll it back.`,
    gate: (r) => gateProgress(r.gate, 'outcome-gate'),
  },
};

/** Who did it: a person's name, or the gate itself (the actor `gate` of the gate's own events). */
const byWhom = (actor) => (actor === 'gate' ? 'the gate' : actor);

/** The banner for a rollout that is paused, gated or ended, or null for a running one. */
export function renderOutcome(r, events) {
  const o = OUTCOME[r.status];
  if (!o) return null;
  const last = [...(events ?? [])].reverse().find((e) => e.type === o.event);
  const who = last ? ` ${ago(last.at)} by ${byWhom(last.actor)}` : '';
  // A gated rollout's gate may have said it cannot decide (`gate_inconclusive`): its reason is the gate's.
  const reason = last?.reason ?? (r.status === 'gated' ? r.gate?.reason : undefined);
  const gate = o.gate?.(r) ?? [];
  return h(
    'section',
    { class: `outcome tone-${o.tone}`, testid: 'outcome', 'data-status': r.status },
    h('strong', null, `${o.word}${who}.`),
    ' ',
    o.what(r),
    gate.map(({ kind, parts }) => h('div', { class: 'outcome-gate', testid: `outcome-gate-${kind}` }, parts)),
    o.gate && !gate.length && o.noFigures ? h('div', { class: 'outcome-gate' }, o.noFigures) : null,
    reason ? h('div', { class: 'outcome-reason' }, 'Reason: ', h('q', null, reason)) : null,
  );
}
