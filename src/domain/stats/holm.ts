/**
 * Holm's step-down procedure (Holm 1979, "A simple sequentially rejective multiple test
 * procedure", Scand. J. Statist. 6:65): the p-values sorted ascending, p₍ⱼ₎ is rejected at level
 * α/(m − j + 1) as long as every smaller one was. Same family-wise guarantee as Bonferroni
 * (α/m each), uniformly more powerful. With always-valid p-values it stays valid under continual
 * monitoring: a false rejection at any time needs some true null's p-value at or below α/|H₀|,
 * which happens with probability at most α/|H₀| per true null however often one looks.
 */

export interface HolmResult {
  readonly rejected: readonly boolean[];
  /**
   * The level each hypothesis was tested at: α/(m − j + 1) for those reached (j its rank), and
   * the level of the step that stopped for the rest (their p-value was above it too).
   */
  readonly levels: readonly number[];
}

export function holm(pValues: readonly number[], alpha: number): HolmResult {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  for (const p of pValues) if (!(p >= 0 && p <= 1)) throw new RangeError(`p-values must be in [0, 1], got ${p}`);
  const m = pValues.length;
  // Stable order: ties keep their input order, so equal p-values get the same treatment.
  const order = pValues.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const rejected = new Array<boolean>(m).fill(false);
  const levels = new Array<number>(m).fill(alpha / Math.max(m, 1));
  let j = 0;
  for (; j < m; j++) {
    const [p, i] = order[j] as readonly [number, number];
    const level = alpha / (m - j);
    levels[i] = level;
    if (p > level) break;
    rejected[i] = true;
  }
  const stop = alpha / Math.max(m - j, 1);
  for (let k = j + 1; k < m; k++) levels[(order[k] as readonly [number, number])[1]] = stop;
  return { rejected, levels };
}
