// The comparison of the two arms (GET /v1/rollouts/:id/comparison): verdict, arms side by side,
// the difference, per-field override rates and the per-tenant breakdown. Optional fields may be
// missing; every view says "—" rather than breaking.
import { card, h, num, slug, term } from './dom.js';
import { ARM_COLORS } from './chart.js';
import { count, fixed, ms, pct, pts, ptsBound, pValue } from './format.js';
import { tip } from './glossary.js';

const ARMS = ['control', 'candidate'];

/** Count fields shown above with their rates; every other field in `countFields` gets a row of its own. */
const COUNTS_WITH_RATES = new Set(['runs', 'reviewed', 'overridden', 'errors']);
/** Labels of count fields that say more than their name. */
const COUNT_LABELS = { fallbacks: 'Fallbacks to control' };

/** "promptTimeouts" → "Prompt timeouts". */
function labelOf(field) {
  if (COUNT_LABELS[field]) return COUNT_LABELS[field];
  const words = field.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The plain count fields the comparison lists beyond those shown with their rates. */
function otherCountFields(cmp) {
  return (Array.isArray(cmp.countFields) ? cmp.countFields : []).filter((f) => !COUNTS_WITH_RATES.has(f));
}

/** "timeoutRuns" → "timeout-runs", as in the other testids. */
const kebab = (field) => slug(field.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase());

/** The verdict's level: the rollout's alpha (default 0.05) as a confidence, "95%". */
export function levelOf(rollout) {
  const alpha = typeof rollout?.alpha === 'number' ? rollout.alpha : 0.05;
  return `${Math.round((1 - alpha) * 1000) / 10}%`;
}

/** "The candidate's override rate is 4.2 points higher (95% always-valid interval 1.1 to 7.3)" */
export function differenceSentence(cmp, rollout) {
  const d = cmp?.difference?.overrideRate;
  if (!d || typeof d.estimate !== 'number') return undefined;
  const ci = d.alwaysValidCI ?? d.ci;
  const label = d.alwaysValidCI ? `${levelOf(rollout)} always-valid interval` : '95% interval';
  const size = fixed(Math.abs(d.estimate) * 100, 1);
  const how = size === '0.0' ? "the same as the control's" : `${size} points ${d.estimate > 0 ? 'higher' : 'lower'}`;
  const range = Array.isArray(ci) ? ` (${label} ${ptsBound(ci[0])} to ${ptsBound(ci[1])})` : '';
  return `The candidate's override rate is ${how}${range}`;
}

const HEADLINES = {
  candidate_worse: ['Candidate is worse', 'bad'],
  candidate_better: ['Candidate is better', 'good'],
  no_significant_difference: ['No significant difference', 'neutral'],
  insufficient_data: ['Not enough data yet', 'waiting'],
};

export function verdictText(cmp, rollout) {
  const sentence = differenceSentence(cmp, rollout);
  switch (cmp?.verdict) {
    case 'candidate_worse':
      return `${sentence}: worse. Reviewers correct the candidate more often than the control.`;
    case 'candidate_better':
      return `${sentence}: better. Reviewers correct the candidate less often than the control.`;
    case 'no_significant_difference':
      return `${sentence}: no significant difference. The interval includes zero.`;
    case 'insufficient_data': {
      const r = ARMS.map((a) => cmp.arms?.[a]?.reviewed);
      const known = r.every((x) => typeof x === 'number');
      const need = !known
        ? ' Each arm needs 100 reviewed runs.'
        : r.some((x) => x < 100)
          ? ` Each arm needs 100 reviewed runs (control has ${count(r[0])}, candidate ${count(r[1])}).`
          : '';
      const tenants = hasWarning(cmp, 'too_few_tenants')
        ? ' Whole tenants are compared here, so each arm also needs at least 10 tenants.'
        : '';
      return `Not enough data for a verdict yet.${need}${tenants}${sentence ? ` So far: ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}.` : ''}`;
    }
    default:
      return sentence ? `${sentence}.` : 'No comparison yet.';
  }
}

function hasWarning(cmp, code) {
  return (cmp?.warnings ?? []).some((w) => (typeof w === 'string' ? w : (w?.code ?? '')).includes(code));
}

const SRM_WORDS = 'Traffic was not split as configured (sample ratio mismatch). Fix the assignment before trusting this comparison.';
const BASELINE_WORDS =
  'The control is a baseline, not a randomized arm: the comparison is observational, so it never claims better or worse.';

/** The comparison's warning codes in plain words (a code not listed is shown as it is). */
const WARNING_WORDS = [
  ['shadow_anchoring', "Shadow runs: reviewers saw the control's output, so the candidate's shadow scores lean against it."],
  [
    'too_few_tenants',
    'Too few tenants in an arm (10 for a verdict, 20 for guardrails relative to the control): whole tenants are the unit of analysis, so those wait.',
  ],
  ['srm', SRM_WORDS],
  ['sample_ratio', SRM_WORDS],
  ['baseline_observational', BASELINE_WORDS],
  ['baseline_other_tenants', "The baseline is other tenants' traffic on the control in the same environments at the same time."],
  ['baseline_same_tenants_before', "The baseline is the same tenants' traffic before the candidate reached them."],
  ['baseline_empty', 'There is no baseline traffic to compare with yet.'],
  ['stage_without_randomized_control', 'The current stage sends all its traffic to the candidate, so it has no randomized control.'],
  ['review_rate', "The arms' review rates differ within a stage: skipped reviews may not be random, which can bias the override rates."],
  ['guardrail_unevaluable', 'A guardrail has no control data to compare with: it cannot roll the candidate back.'],
  ['keys_in_both_arms', 'Some assignment keys were served by both arms in one stage: the assignment is not sticky.'],
];

/** The stages of the breakdown that have no randomized control (all their traffic went to the candidate). */
function stagesWithoutControl(cmp) {
  return (Array.isArray(cmp?.byStage) ? cmp.byStage : []).filter((s) => s.controlArm === 'baseline' || s.percent >= 100);
}

/** "Stage 1 (staging, 100%)": a stage of the breakdown, 1-based as on the stages card. */
export function stageShort(s) {
  const envs = Array.isArray(s?.environments) ? s.environments.join(', ') : '';
  const share = typeof s?.percent === 'number' ? (s.percent >= 100 ? '100%' : `${s.percent}% by ${s.splitBy ?? 'tenant'}`) : '';
  return `Stage ${typeof s?.stage === 'number' ? s.stage + 1 : '?'} (${[envs, share].filter(Boolean).join(', ')})`;
}

export function warningText(w, cmp) {
  if (w && typeof w === 'object' && w.message) return String(w.message);
  const code = typeof w === 'string' ? w : String(w?.code ?? '');
  // The warning is about whichever stage sent everything to the candidate, often an earlier one.
  if (code === 'stage_without_randomized_control') {
    const names = stagesWithoutControl(cmp).map(stageShort);
    const which = names.length ? names.join(' and ') : 'An earlier stage';
    return `${which} sent all its traffic to the candidate, so it has no randomized control: its runs count in the candidate's card, not in the difference.`;
  }
  // A sentence from the API is shown as it is; a bare code gets plain words.
  if (/\s/.test(code)) return code;
  return WARNING_WORDS.find(([k]) => code.includes(k))?.[1] ?? code.replaceAll('_', ' ');
}

export function renderVerdict(cmp, rollout) {
  const [headline, tone] = HEADLINES[cmp.verdict] ?? ['Comparison', 'neutral'];
  const warnings = [...(cmp.warnings ?? []).map((w) => warningText(w, cmp))];
  if (cmp.controlArm === 'baseline' && !warnings.includes(BASELINE_WORDS)) warnings.push(BASELINE_WORDS);
  if (cmp.srm?.mismatch && !warnings.includes(SRM_WORDS)) warnings.push(SRM_WORDS);
  return h(
    'section',
    { class: `verdict tone-${tone}`, testid: 'verdict-card', 'data-verdict': cmp.verdict ?? '' },
    h('div', { class: 'verdict-icon', 'aria-hidden': 'true' }, { bad: '▲', good: '▼', neutral: '=', waiting: '…' }[tone]),
    h(
      'div',
      { class: 'verdict-body' },
      h(
        'div',
        { class: 'verdict-kicker' },
        term('Verdict', tip('verdict'), 'verdict'),
        cmp.analysisUnit === 'tenant' ? ' · tenants are the unit of analysis' : '',
      ),
      h('h2', { testid: 'verdict-headline' }, headline),
      h('p', { class: 'verdict-sentence', testid: 'verdict' }, verdictText(cmp, rollout)),
      warnings.length
        ? h(
            'ul',
            { class: 'warnings', testid: 'warnings' },
            warnings.map((w) => h('li', null, w)),
          )
        : null,
    ),
  );
}

/** Control and candidate side by side, then the difference, then both intervals on one scale. */
export function renderArms(cmp, rollout) {
  const tile = (arm) => {
    const a = cmp.arms?.[arm] ?? {};
    const ci = Array.isArray(a.overrideRateCI) ? a.overrideRateCI : [undefined, undefined];
    const version = a.version ?? rollout[arm];
    const row = (label, ...value) => h('div', { class: 'kv' }, h('dt', null, label), h('dd', null, value));
    return h(
      'div',
      { class: `arm arm-${arm}`, testid: `arm-${arm}` },
      h(
        'div',
        { class: 'arm-head' },
        h('span', { class: 'swatch' }),
        term(arm === 'control' ? 'Control' : 'Candidate', tip(arm), arm),
        h('span', { class: 'version', testid: `${arm}-version` }, version ?? ''),
      ),
      h('div', { class: 'arm-big' }, num(`${arm}-override-rate`, pct(a.overrideRate), 'big')),
      h('div', { class: 'arm-big-label' }, term('override rate', tip('override-rate'), 'override-rate')),
      h(
        'div',
        { class: 'arm-ci' },
        term('95% interval', tip('interval'), 'interval'),
        ' ',
        num(`${arm}-override-rate-ci-low`, pct(ci[0])),
        ' – ',
        num(`${arm}-override-rate-ci-high`, pct(ci[1])),
      ),
      h(
        'dl',
        { class: 'kvs' },
        row('Runs', num(`${arm}-runs`, count(a.runs))),
        row(
          term('Reviewed', tip('review-rate'), 'review-rate'),
          num(`${arm}-reviewed`, count(a.reviewed)),
          h('span', { class: 'muted' }, ' (', num(`${arm}-review-rate`, pct(a.reviewRate)), ')'),
        ),
        row('Overridden', num(`${arm}-overridden`, count(a.overridden))),
        row(
          'Error rate',
          num(`${arm}-error-rate`, pct(a.errorRate)),
          h('span', { class: 'muted' }, ' (', num(`${arm}-errors`, count(a.errors)), ' errors)'),
        ),
        // Counts such as fallbacks happen to the candidate: the control shows them only when it has some.
        otherCountFields(cmp).map((f) => (arm === 'candidate' || a[f] ? row(labelOf(f), num(`${arm}-${kebab(f)}`, count(a[f]))) : null)),
        row('Latency p50', num(`${arm}-latency-p50`, ms(a.latencyMs?.p50))),
        row('Latency p95', num(`${arm}-latency-p95`, ms(a.latencyMs?.p95))),
      ),
    );
  };
  const d = cmp.difference?.overrideRate ?? {};
  const e = cmp.difference?.errorRate ?? {};
  const av = Array.isArray(d.alwaysValidCI) ? d.alwaysValidCI : [undefined, undefined];
  const fixedCi = Array.isArray(d.ci) ? d.ci : [undefined, undefined];
  const eci = Array.isArray(e.ci) ? e.ci : [undefined, undefined];
  const diffTone = cmp.verdict === 'candidate_worse' ? 'bad' : cmp.verdict === 'candidate_better' ? 'good' : '';
  const diff = h(
    'div',
    { class: `arm diff ${diffTone}`, testid: 'difference' },
    h('div', { class: 'arm-head' }, 'Difference', h('span', { class: 'version' }, 'candidate − control')),
    h('div', { class: 'arm-big' }, num('difference-estimate', pts(d.estimate), 'big'), h('span', { class: 'unit' }, ' pts')),
    h('div', { class: 'arm-big-label' }, 'in override rate'),
    h(
      'div',
      { class: 'arm-ci' },
      term(`${levelOf(rollout)} always-valid`, tip('always-valid'), 'always-valid'),
      ' ',
      num('difference-ci-low', ptsBound(av[0])),
      ' to ',
      num('difference-ci-high', ptsBound(av[1])),
    ),
    h(
      'dl',
      { class: 'kvs' },
      h(
        'div',
        { class: 'kv' },
        h('dt', null, term('Always-valid p', tip('p-value'), 'p-value')),
        h('dd', null, num('difference-always-valid-p-value', pValue(d.alwaysValidPValue))),
      ),
      h(
        'div',
        { class: 'kv' },
        h('dt', null, '95% interval (one look)'),
        h('dd', null, num('difference-fixed-ci-low', ptsBound(fixedCi[0])), ' to ', num('difference-fixed-ci-high', ptsBound(fixedCi[1]))),
      ),
      h('div', { class: 'kv' }, h('dt', null, 'p-value (one look)'), h('dd', null, num('difference-p-value', pValue(d.pValue)))),
      h(
        'div',
        { class: 'kv' },
        h('dt', null, 'Error rate difference'),
        h(
          'dd',
          null,
          num('error-rate-difference', pts(e.estimate)),
          ' pts ',
          h(
            'span',
            { class: 'muted' },
            '(',
            num('error-rate-difference-ci-low', ptsBound(eci[0])),
            ' to ',
            num('error-rate-difference-ci-high', ptsBound(eci[1])),
            ')',
          ),
        ),
      ),
    ),
  );
  return card(
    'Control vs candidate',
    {
      testid: 'arms-card',
      note: `${armsScope(cmp)} Override rates count reviewed runs only; errors count in the error rate. ${cmp.window?.from ? `Runs from ${new Date(cmp.window.from).toLocaleString('en-GB')} to ${new Date(cmp.window.to).toLocaleString('en-GB')}.` : ''}`,
    },
    h('div', { class: 'arms' }, tile('control'), tile('candidate'), diff),
    renderForest(cmp),
    renderSrm(cmp),
    renderReviewRate(cmp),
  );
}

/** Which runs the arm cards and the difference count, so the figures on the page can be reconciled. */
function armsScope(cmp) {
  const stages = Array.isArray(cmp.byStage) ? cmp.byStage.length : 0;
  if (stages < 2) return 'The arms count every run of the rollout by the arm it was assigned.';
  return `The arms count every run of the rollout by the arm it was assigned, over every stage; the difference is over the stages with a randomized control, stratified by stage (see By stage).`;
}

/** Each stage's own arms and difference (the API's byStage): where the arm cards' figures come from. */
export function renderStageComparison(cmp) {
  const stages = Array.isArray(cmp.byStage) ? cmp.byStage : [];
  if (stages.length < 2) return null;
  const cell = (s, arm) => {
    const a = s.arms?.[arm] ?? {};
    const id = `by-stage-${s.stage}-${arm}`;
    return h(
      'td',
      { class: 'r' },
      h('div', null, num(`${id}-override-rate`, a.reviewed > 0 ? pct(a.overrideRate) : '—')),
      h(
        'div',
        { class: 'muted small' },
        num(`${id}-reviewed`, count(a.reviewed ?? 0)),
        ' reviewed of ',
        num(`${id}-runs`, count(a.runs ?? 0)),
        ' runs',
      ),
    );
  };
  const diff = (s) =>
    s.controlArm !== 'randomized' || !(s.arms?.control?.reviewed > 0)
      ? 'no randomized control'
      : `${pts(s.difference?.overrideRate?.estimate)} pts`;
  return card(
    'By stage',
    {
      testid: 'by-stage-card',
      note: 'Each stage compared on its own. A stage that sends all its traffic to the candidate has no randomized control: its runs are in the candidate card, not in the difference.',
    },
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', null, 'Stage'),
            h('th', { class: 'r' }, 'Control'),
            h('th', { class: 'r' }, 'Candidate'),
            h('th', { class: 'r' }, 'Difference'),
          ),
        ),
        h(
          'tbody',
          null,
          stages.map((s) =>
            h(
              'tr',
              { testid: `by-stage-${s.stage}` },
              h('td', null, stageShort(s)),
              cell(s, 'control'),
              cell(s, 'candidate'),
              h('td', { class: 'r' }, num(`by-stage-${s.stage}-difference`, diff(s))),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Both arms' override rates with their 95% intervals on one axis. */
function renderForest(cmp) {
  const arms = ARMS.map((arm) => ({ arm, a: cmp.arms?.[arm] })).filter(
    ({ a }) => a && typeof a.overrideRate === 'number' && a.reviewed > 0,
  );
  if (!arms.length) return null;
  const top = Math.max(0.05, ...arms.map(({ a }) => a.overrideRateCI?.[1] ?? a.overrideRate));
  const { max, step } = niceScale(top * 1.08);
  const x = (v) => `${Math.max(0, Math.min(100, (v / max) * 100))}%`;
  const ticks = Array.from({ length: Math.round(max / step) + 1 }, (_, i) => i * step);
  const grid = () => ticks.map((t) => h('span', { class: 'grid-line', style: { left: x(t) } }));
  return h(
    'div',
    { class: 'forest', 'aria-label': 'Override rate with 95% intervals' },
    h('div', { class: 'forest-caption' }, 'Override rate per arm: the dot is the rate, the bar its 95% interval.'),
    arms.map(({ arm, a }) => {
      const [lo, hi] = a.overrideRateCI ?? [a.overrideRate, a.overrideRate];
      return h(
        'div',
        { class: 'forest-row' },
        h('span', { class: 'forest-label' }, arm === 'control' ? 'Control' : 'Candidate'),
        h(
          'div',
          { class: 'forest-track' },
          grid(),
          h('span', {
            class: `forest-ci ci-${arm}`,
            style: { left: x(lo), width: `calc(${x(hi)} - ${x(lo)})`, background: `${ARM_COLORS[arm]}33`, borderColor: ARM_COLORS[arm] },
          }),
          h('span', { class: 'forest-dot', style: { left: x(a.overrideRate), background: ARM_COLORS[arm] } }),
        ),
      );
    }),
    h(
      'div',
      { class: 'forest-row axis' },
      h('span', { class: 'forest-label' }),
      h(
        'div',
        { class: 'forest-track axis' },
        ticks.map((t) => h('span', { class: 'tick', style: { left: x(t) } }, `${Math.round(t * 100)}%`)),
      ),
    ),
  );
}

/** An axis from 0 to a round maximum, with 4 to 6 round steps. */
function niceScale(v) {
  for (const [max, step] of [
    [0.05, 0.01],
    [0.1, 0.02],
    [0.2, 0.05],
    [0.3, 0.05],
    [0.4, 0.1],
    [0.5, 0.1],
    [0.6, 0.1],
    [0.8, 0.2],
    [1, 0.2],
  ])
    if (v <= max) return { max, step };
  return { max: 1, step: 0.2 };
}

function renderSrm(cmp) {
  const s = cmp.srm;
  if (!s || typeof s.observedCandidateShare !== 'number') return null;
  return h(
    'p',
    { class: `srm ${s.mismatch ? 'bad' : ''}`, testid: 'srm' },
    s.mismatch ? '⚠ ' : '✓ ',
    term('Traffic split', tip('srm'), 'srm'),
    ': ',
    num('srm-observed', pct(s.observedCandidateShare)),
    ' on the candidate, ',
    num('srm-expected', pct(s.expectedCandidateShare)),
    ' expected · SRM check p = ',
    num('srm-p-value', pValue(s.pValue)),
    s.mismatch ? ' — mismatch: the split is broken, do not trust the comparison.' : ' — as configured.',
  );
}

/** Review-rate imbalance per stage, next to SRM: reviewers choosing what to check biases the override rates. */
function renderReviewRate(cmp) {
  const r = cmp.reviewRateImbalance;
  if (!r || !Array.isArray(r.byStage) || r.byStage.length === 0) return null;
  const worst = Math.min(...r.byStage.map((s) => s.pValue));
  return h(
    'p',
    { class: `srm ${r.imbalance ? 'bad' : ''}`, testid: 'review-rate-imbalance' },
    r.imbalance ? '⚠ ' : '✓ ',
    term('Review rates', tip('review-imbalance'), 'review-imbalance'),
    ': ',
    num('review-rate-control', pct(cmp.arms?.control?.reviewRate ?? 0)),
    ' control, ',
    num('review-rate-candidate', pct(cmp.arms?.candidate?.reviewRate ?? 0)),
    ' candidate · per-stage check p = ',
    num('review-rate-p-value', pValue(worst)),
    r.imbalance ? ' — imbalance: the override rates are not comparable, auto-advance stops.' : ' — balanced.',
  );
}

/** Per-field override rates: which fields reviewers change, per arm. */
export function renderFields(cmp) {
  const c = cmp.arms?.control?.fieldOverrideRates ?? {};
  const k = cmp.arms?.candidate?.fieldOverrideRates ?? {};
  const fields = [...new Set([...Object.keys(c), ...Object.keys(k)])].sort(
    (a, b) => Math.max(k[b] ?? 0, c[b] ?? 0) - Math.max(k[a] ?? 0, c[a] ?? 0) || a.localeCompare(b),
  );
  const top = Math.max(0.01, ...fields.flatMap((f) => [c[f] ?? 0, k[f] ?? 0]));
  const bar = (arm, v) =>
    h('span', { class: 'minibar' }, h('span', { style: { width: `${((v ?? 0) / top) * 100}%`, background: ARM_COLORS[arm] } }));
  return card(
    'Which fields reviewers change',
    { testid: 'fields-card', note: 'Per field: the share of reviewed runs where the human changed that field.' },
    fields.length
      ? h(
          'table',
          { class: 'table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Field'),
              h('th', { class: 'r' }, 'Control'),
              h('th', { class: 'r' }, 'Candidate'),
              h('th', { class: 'r' }, 'Difference'),
            ),
          ),
          h(
            'tbody',
            null,
            fields.map((f) =>
              h(
                'tr',
                { testid: `field-${slug(f)}` },
                h('td', null, h('code', null, f === '$' ? '(whole answer)' : f)),
                h('td', { class: 'r' }, bar('control', c[f]), num(`field-${slug(f)}-control`, pct(c[f]))),
                h('td', { class: 'r' }, bar('candidate', k[f]), num(`field-${slug(f)}-candidate`, pct(k[f]))),
                h(
                  'td',
                  { class: 'r' },
                  num(
                    `field-${slug(f)}-difference`,
                    typeof c[f] === 'number' && typeof k[f] === 'number' ? `${pts(k[f] - c[f])} pts` : '—',
                  ),
                ),
              ),
            ),
          ),
        )
      : h('div', { class: 'empty' }, 'No overridden fields yet.'),
  );
}

/** One row per tenant. The breakdown's shape is read leniently: {tenant, arms|control/candidate, difference}. */
export function tenantRows(byTenant) {
  return (byTenant ?? []).map((item) => {
    const name = item.tenant ?? item.key ?? item.value ?? item.segment ?? item.id ?? '?';
    const arms = item.arms ?? { control: item.control, candidate: item.candidate };
    const diff = item.difference?.overrideRate ?? item.difference;
    return { name: String(name), control: arms.control ?? {}, candidate: arms.candidate ?? {}, diff: diff ?? {}, verdict: item.verdict };
  });
}

export function renderTenants(cmp) {
  const rows = tenantRows(cmp.byTenant);
  const cell = (row, arm) => {
    const a = row[arm];
    const id = `tenant-${slug(row.name)}-${arm}`;
    return h(
      'td',
      { class: 'r' },
      h('div', null, num(`${id}-override-rate`, a.reviewed > 0 ? pct(a.overrideRate) : '—')),
      h('div', { class: 'muted small' }, 'of ', num(`${id}-reviewed`, count(a.reviewed ?? 0)), ' reviewed'),
    );
  };
  const diffText = (row) =>
    typeof row.diff.estimate === 'number' && row.control.reviewed > 0 && row.candidate.reviewed > 0 ? `${pts(row.diff.estimate)} pts` : '—';
  const shown = 15;
  const rowEl = (row) =>
    h(
      'tr',
      { testid: `tenant-${slug(row.name)}` },
      h('td', null, h('strong', null, row.name)),
      cell(row, 'control'),
      cell(row, 'candidate'),
      h(
        'td',
        { class: `r ${row.verdict === 'candidate_worse' ? 'bad-text' : row.verdict === 'candidate_better' ? 'good-text' : ''}` },
        num(`tenant-${slug(row.name)}-difference`, diffText(row)),
      ),
    );
  // Many tenants: the busiest first, the rest behind a button.
  const ordered =
    rows.length > shown
      ? [...rows].sort(
          (a, b) => (b.control.reviewed ?? 0) + (b.candidate.reviewed ?? 0) - (a.control.reviewed ?? 0) - (a.candidate.reviewed ?? 0),
        )
      : rows;
  const tbody = h('tbody', null, ordered.slice(0, shown).map(rowEl));
  const more =
    ordered.length > shown
      ? h(
          'button',
          { class: 'btn small more', onclick: (ev) => (tbody.append(...ordered.slice(shown).map(rowEl)), ev.currentTarget.remove()) },
          `Show all ${count(ordered.length)} tenants`,
        )
      : null;
  return card(
    'By tenant',
    {
      testid: 'tenants-card',
      // The breakdown counts what the arm cards count (every stage), so a tenant in a 100% stage
      // has far more candidate runs than control runs: said here, not left to be puzzled over.
      note: `Override rate per customer and arm, to spot one that drives a difference. ${(cmp.byStage ?? []).length > 1 ? 'Like the arm cards, it counts every stage (see By stage).' : ''}`.trim(),
    },
    rows.length
      ? h(
          'table',
          { class: 'table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', null, 'Tenant'),
              h('th', { class: 'r' }, 'Control'),
              h('th', { class: 'r' }, 'Candidate'),
              h('th', { class: 'r' }, 'Difference'),
            ),
          ),
          tbody,
        )
      : h('div', { class: 'empty' }, 'No per-tenant breakdown yet.'),
    more,
  );
}
