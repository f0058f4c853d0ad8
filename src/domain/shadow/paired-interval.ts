/**
 * Fixed-horizon interval for the difference of two paired proportions: Newcombe's square-and-add
 * interval for paired data (Newcombe 1998, "Improved confidence intervals for the difference
 * between binomial proportions based on paired data", Stat Med 17:2635, method 10): the Wilson
 * intervals of the two marginal proportions combined as in the unpaired hybrid score interval,
 * with a correction φ for the correlation of the paired margins,
 *   L = Δ̂ − √((p₁ − l₁)² − 2φ(p₁ − l₁)(u₂ − p₂) + (u₂ − p₂)²)
 *   U = Δ̂ + √((p₂ − l₂)² − 2φ(p₂ − l₂)(u₁ − p₁) + (u₁ − p₁)²)
 * where φ = (ad − bc − n/2)/√((a+b)(c+d)(a+c)(b+d)) when ad − bc > n/2, 0 when 0 ≤ ad − bc ≤ n/2,
 * (ad − bc)/√(…) when negative, and 0 when a margin is empty (Fagerland, Lydersen & Laake 2017,
 * "Statistical Analysis of Contingency Tables", §8.5).
 */
import { twoSidedCriticalValue } from '../stats/normal.js';
import { wilsonScoreBounds } from '../stats/proportions.js';
import type { Interval } from '../stats/types.js';

/** A paired 2×2 table of override outcomes (control overridden × candidate would-be overridden). */
export interface PairedCounts {
  bothOk: number;
  onlyControlOverridden: number;
  onlyCandidateOverridden: number;
  bothOverridden: number;
}

export function pairCount(t: PairedCounts): number {
  return t.bothOk + t.onlyControlOverridden + t.onlyCandidateOverridden + t.bothOverridden;
}

/** Newcombe's paired interval for candidate − control at `confidence`; [−1, 1] without pairs. */
export function newcombePairedDifference(t: PairedCounts, confidence = 0.95): { estimate: number; ci: Interval } {
  const n = pairCount(t);
  if (n === 0) return { estimate: 0, ci: [-1, 1] };
  const z = twoSidedCriticalValue(confidence);
  // Newcombe's cells with the candidate as the first classification.
  const a = t.bothOverridden;
  const b = t.onlyCandidateOverridden;
  const c = t.onlyControlOverridden;
  const d = t.bothOk;
  const x1 = a + b;
  const x2 = a + c;
  const p1 = x1 / n;
  const p2 = x2 / n;
  const [l1, u1] = wilsonScoreBounds(x1, n, z);
  const [l2, u2] = wilsonScoreBounds(x2, n, z);
  let phi = 0;
  const margins = (a + b) * (c + d) * (a + c) * (b + d);
  if (margins > 0) {
    const cross = a * d - b * c;
    if (cross > n / 2) phi = (cross - n / 2) / Math.sqrt(margins);
    else if (cross < 0) phi = cross / Math.sqrt(margins);
  }
  const estimate = (b - c) / n;
  const lower = estimate - Math.sqrt(Math.max(0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2));
  const upper = estimate + Math.sqrt(Math.max(0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2));
  return { estimate, ci: [Math.max(-1, lower), Math.min(1, upper)] };
}
