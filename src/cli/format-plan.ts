/** The planner's answer for the terminal (the JSON as the gateway answered it, read loosely). */
type Json = Record<string, any>;

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(1)}%` : '–');
const days = (x: unknown) => (typeof x === 'number' ? `${x < 1 ? x.toFixed(2) : x.toFixed(1)} days` : '–');

export function formatPlan(plan: Json): string {
  const f = plan.fireProbability ?? {};
  const ci = Array.isArray(f.ci) ? ` (95% CI ${pct(f.ci[0])}–${pct(f.ci[1])})` : '';
  const lines = [`plan: ${plan.simulations} simulated rollouts`, `  rolled back: ${pct(f.estimate)}${ci}`];
  for (const g of (plan.byGuardrail ?? []) as Json[]) lines.push(`    ${g.metric} (${g.limit}): ${pct(g.fireProbability)}`);
  const t = plan.timeToFire as Json | null;
  lines.push(
    t
      ? `  time to rollback: median ${days(t.medianDays)} (${t.medianCandidateReviewed} candidate reviews), p90 ${days(t.p90Days)} (${t.p90CandidateReviewed})`
      : '  time to rollback: never rolled back',
  );
  const v = (plan.verdict ?? {}) as Json;
  lines.push(
    `  verdict: candidate_worse ${pct(v.probabilityWorse)}, candidate_better ${pct(v.probabilityBetter)}, median time to it ${v.medianDaysToVerdict === null ? 'none (most never reach one)' : days(v.medianDaysToVerdict)}`,
    `  method: ${plan.method}`,
  );
  return lines.join('\n');
}
