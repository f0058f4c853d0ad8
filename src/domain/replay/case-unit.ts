/**
 * The case is the unit of a replay's intervals (README "Datasets, replays and the gate",
 * `repeats`). Repeats of one case share its input and its expected record, so they are not
 * independent: a version that gets a case wrong tends to get every repeat of it wrong. An
 * interval that counted each result as an observation would narrow with every repeat, without a
 * new case to justify it (50 cases × 2 repeats are not 100 cases).
 *
 * With k_i results of case i, the effective number of observations is taken as Kish's effective
 * cluster count (Σ k_i)² / Σ k_i²: the number of cases when every case has the same number of
 * results, fewer when they differ. It is the worst case: even if the repeats of a case always
 * agreed (intra-case correlation 1), the pooled rate's variance is p(1 − p) · Σ k_i² / (Σ k_i)²,
 * the variance of that many independent observations; any disagreement only lowers it.
 *
 * Intervals over results are then computed as for that many observations. Wilson's bounds depend
 * on n only through p̂ and z²/n, so Wilson on the results at multiplier z·√(results / effective)
 * is exactly Wilson on `effective` observations at z; Newcombe's paired interval is built from
 * such bounds. One result per case changes nothing (the multiplier is z). The seeded coverage
 * simulations are in tests/unit/replay/repeats-coverage.test.ts.
 */

export interface CaseUnits {
  /** Results (or pairs) counted. */
  results: number;
  /** Distinct cases among them. */
  cases: number;
  /** (Σ k_i)² / Σ k_i²: at most `cases`, equal when every case has as many results. */
  effective: number;
}

/** The case units of a list of results, by their case ids (one entry per result). */
export function caseUnits(caseIds: Iterable<string>): CaseUnits {
  const perCase = new Map<string, number>();
  let results = 0;
  for (const id of caseIds) {
    perCase.set(id, (perCase.get(id) ?? 0) + 1);
    results++;
  }
  let squares = 0;
  for (const k of perCase.values()) squares += k * k;
  return { results, cases: perCase.size, effective: squares === 0 ? 0 : (results * results) / squares };
}

/** The multiplier that makes an interval over `units.results` one over `units.effective` observations. */
export function caseLevelZ(z: number, units: CaseUnits): number {
  return units.effective > 0 && units.results > units.effective ? z * Math.sqrt(units.results / units.effective) : z;
}
