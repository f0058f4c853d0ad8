// A rollout's gate in words (README "Datasets, replays and the gate" and "Shadow runs"): what it
// decided on, from `gate` in GET /v1/rollouts/{id} and from the gate's audit events. A gate passes
// when the one-sided upper bound of (candidate − control) is at most maxIncrease, and fails when
// the lower bound is above it (src/domain/services/gate-service.ts).
import { num } from './dom.js';
import { count, pct, pts } from './format.js';

const WHAT = { replay: 'Replay gate', shadow: 'Shadow gate' };
const UNIT = { replay: ['case', 'cases'], shadow: ['pair', 'pairs'] };

/**
 * A figure: its own element with a testid when `prefix` is given (the outcome banner, which the
 * browser test reads), plain text otherwise (the audit log, where the same figures may repeat).
 */
const figure = (prefix, name, text) => (prefix ? num(`${prefix}-${name}`, text) : text);

/** "on 30 pairs: overridden 100.0% of the time against the control's 0.0%; candidate − control +100.0 pts". */
function comparison(kind, f, prefix) {
  const [one, many] = UNIT[kind];
  return [
    'on ',
    figure(prefix, 'pairs', count(f.pairs)),
    ` ${f.pairs === 1 ? one : many}, the candidate would have been overridden `,
    figure(prefix, 'candidate-rate', pct(f.candidateOverrideRate)),
    " of the time against the control's ",
    figure(prefix, 'control-rate', pct(f.controlOverrideRate)),
    ': candidate − control ',
    figure(prefix, 'estimate', `${pts(f.estimate)} pts`),
  ];
}

/**
 * Why one gate failed: its lower bound is above the increase it allows. A gate that failed on
 * another rule (a replay whose calls mostly failed) gets its figures and bounds, without the claim.
 */
function failedLine(kind, f, prefix) {
  const bounds =
    f.lowerBound > f.maxIncrease
      ? ['; even its lower bound, ', figure(prefix, 'lower-bound', `${pts(f.lowerBound)} pts`), ', is above the ']
      : [' (bounds ', figure(prefix, 'lower-bound', `${pts(f.lowerBound)} pts`), ` to ${pts(f.upperBound)} pts) against the `];
  return [
    `${WHAT[kind]} failed `,
    ...comparison(kind, f, prefix),
    ...bounds,
    figure(prefix, 'max-increase', `${pts(f.maxIncrease)} pts`),
    ' allowed.',
  ];
}

/** Where a gate that has not decided stands: the figures so far, and what it takes to pass. */
function waitingLine(kind, f, prefix, need) {
  return [
    `${WHAT[kind]}: `,
    need,
    ...(f.pairs > 0 ? ['; so far ', ...comparison(kind, f, prefix), ` (bounds ${pts(f.lowerBound)} to ${pts(f.upperBound)} pts)`] : []),
    `. It passes when the upper bound is at most ${pts(f.maxIncrease)} pts.`,
  ];
}

/**
 * The gate parts that failed, each {kind, parts} with its figures (a gate_failed rollout's banner).
 * The shadow gate says whether it failed; the replay gate failed when the shadow gate did not
 * (with both, either failing fails the rollout), or when its own lower bound shows it.
 */
export function gateFailures(gate, prefix) {
  const lines = [];
  const shadowFailed = gate?.shadow?.state === 'failed' && !!gate.shadow.figures;
  const replay = gate?.figures;
  if (replay && (!shadowFailed || replay.lowerBound > replay.maxIncrease))
    lines.push({ kind: 'replay', parts: failedLine('replay', replay, `${prefix}-replay`) });
  if (shadowFailed) lines.push({ kind: 'shadow', parts: failedLine('shadow', gate.shadow.figures, `${prefix}-shadow`) });
  return lines;
}

/** Where each part of a gated rollout's gate stands, each {kind, parts}. */
export function gateProgress(gate, prefix) {
  const lines = [];
  if (gate?.replay) {
    const r = gate.replays ?? {};
    const status = (arm) => r[arm]?.status ?? 'not started';
    const parts = gate.figures
      ? waitingLine('replay', gate.figures, `${prefix}-replay`, `both replays are done (${count(gate.figures.pairs)} cases paired)`)
      : [`${WHAT.replay}: replaying the dataset (control ${status('control')}, candidate ${status('candidate')}).`];
    lines.push({ kind: 'replay', parts });
  }
  const s = gate?.shadow;
  if (s?.figures) {
    const f = s.figures;
    const need = f.pairs < f.minPairs ? `${count(f.pairs)} of ${count(f.minPairs)} pairs scored` : 'enough pairs scored';
    lines.push({ kind: 'shadow', parts: waitingLine('shadow', f, `${prefix}-shadow`, need) });
  }
  return lines;
}

/** A gate event's figures, a line per gate (the audit log): the replay's at the top of its data, the shadow's under `shadow`. */
export function gateEventLines(e) {
  const d = e.data ?? {};
  const parts = [];
  if (typeof d.pairs === 'number' && typeof d.estimate === 'number') parts.push(['replay', d]);
  if (typeof d.shadow?.pairs === 'number') parts.push(['shadow', d.shadow]);
  return parts.map(
    ([kind, f]) =>
      `${WHAT[kind]} ${comparison(kind, f).join('')} (bounds ${pts(f.lowerBound)} to ${pts(f.upperBound)} pts; ${pts(f.maxIncrease)} pts allowed)`,
  );
}
