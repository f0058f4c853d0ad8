// Every status a rollout can have, as the API names them (rolloutStatusSchema in
// src/domain/model/rollout.ts), in words. A status missing here would show as its raw word, sort
// last and offer the wrong buttons, so the browser test checks this list against the API's.

/**
 * In the order the rollouts list shows them: live ones first (moving traffic, then holding their
 * chain without moving any), then the ended ones. `ended`: no action can change it any more (the
 * API answers 409 to all of them), so the page shows an outcome instead of buttons.
 */
const STATUSES = [
  { status: 'running', word: 'Running', sentence: 'is running', ended: false },
  { status: 'paused', word: 'Paused', sentence: 'is paused', ended: false },
  // README "Datasets, replays and the gate": created `gated`, no customer traffic moves until the gate passes.
  { status: 'gated', word: 'Gated', sentence: 'is waiting for its gate', ended: false },
  { status: 'rolled_back', word: 'Rolled back', sentence: 'was rolled back', ended: true },
  // The gate said no: final, nothing can be done with it but create another rollout.
  { status: 'gate_failed', word: 'Gate failed', sentence: 'ended when its gate failed', ended: true },
  { status: 'promoted', word: 'Promoted', sentence: 'was promoted', ended: true },
];

const BY_STATUS = new Map(STATUSES.map((s, order) => [s.status, { ...s, order }]));

/** The statuses the dashboard knows, as the API spells them. */
export const KNOWN_STATUSES = STATUSES.map((s) => s.status);

/** "Gate failed"; an unknown status as it came. */
export function statusWord(status) {
  return BY_STATUS.get(status)?.word ?? String(status ?? 'unknown');
}

/** Where the status sorts in the rollouts list; an unknown one last. */
export function statusOrder(status) {
  return BY_STATUS.get(status)?.order ?? STATUSES.length;
}

/** Whether the rollout is over: no button can change it. */
export function isEnded(status) {
  return BY_STATUS.get(status)?.ended ?? false;
}

/** "This rollout <sentence>." for screen readers. */
export function statusSentence(status) {
  return BY_STATUS.get(status)?.sentence ?? `is ${String(status)}`;
}
