// Shadow runs: the candidate's unseen outputs on calls the control answered, scored against the
// human's record of each reviewed call (README "Shadow runs"). One card: the 2×2 table, both rates
// on the same calls, the difference with its intervals and McNemar's tests, the fields, the costs.
import { card, h, num, slug, term } from './dom.js';
import { count, pct, pts, ptsBound, pValue } from './format.js';
import { tip } from './glossary.js';

const ANCHORING =
  "The reviewers saw the control's output, not the candidate's, and tend to accept what they are shown when it is close enough: these scores lean against the candidate. A real stage removes the bias.";

export function renderShadow(s, rollout) {
  const d = s.difference ?? {};
  const av = Array.isArray(d.alwaysValidCI) ? d.alwaysValidCI : [undefined, undefined];
  const ci = Array.isArray(d.ci) ? d.ci : [undefined, undefined];
  const kv = (label, ...value) => h('div', { class: 'kv' }, h('dt', null, label), h('dd', null, value));
  const cell = (testid, n, what) => h('td', { class: 'r', title: what }, num(testid, count(n)));
  const table = h(
    'table',
    { class: 'table shadow-table', testid: 'shadow-table' },
    h(
      'thead',
      null,
      h('tr', null, h('th', null, ''), h('th', { class: 'r' }, 'Candidate kept'), h('th', { class: 'r' }, 'Candidate overridden')),
    ),
    h(
      'tbody',
      null,
      h(
        'tr',
        null,
        h('th', null, 'Control kept'),
        cell('shadow-both-ok', s.bothOk, 'Both kept'),
        cell('shadow-only-candidate', s.onlyCandidateOverridden, 'Only the candidate would have been overridden'),
      ),
      h(
        'tr',
        null,
        h('th', null, 'Control overridden'),
        cell('shadow-only-control', s.onlyControlOverridden, 'Only the control was overridden'),
        cell('shadow-both-overridden', s.bothOverridden, 'Both overridden'),
      ),
    ),
  );
  const fields = Object.entries(s.byField ?? {});
  const fieldTable = fields.length
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
          fields.map(([f, t]) =>
            h(
              'tr',
              { testid: `shadow-field-${slug(f)}` },
              h('td', null, h('code', null, f === '$' ? '(whole answer)' : f)),
              h('td', { class: 'r' }, num(`shadow-field-${slug(f)}-control`, pct(t.controlOverrideRate))),
              h('td', { class: 'r' }, num(`shadow-field-${slug(f)}-candidate`, pct(t.candidateOverrideRate))),
              h('td', { class: 'r' }, num(`shadow-field-${slug(f)}-difference`, `${pts(t.difference?.estimate)} pts`)),
            ),
          ),
        ),
      )
    : null;
  return card(
    'Shadow runs: the candidate on the same calls',
    {
      testid: 'shadow-card',
      note: h(
        'span',
        null,
        'Each reviewed call the control answered, with the ',
        term('shadow', tip('shadow'), 'shadow'),
        " output of the candidate scored against the human's record. Nobody received the candidate's output.",
      ),
    },
    h('p', { class: 'warnings', testid: 'shadow-anchoring' }, term('Anchoring', tip('anchoring'), 'anchoring'), ': ', ANCHORING),
    h(
      'div',
      { class: 'arms' },
      h(
        'div',
        { class: 'arm arm-control' },
        h('div', { class: 'arm-head' }, 'Control', h('span', { class: 'version' }, rollout.control)),
        h('div', { class: 'arm-big' }, num('shadow-control-rate', pct(s.controlOverrideRate), 'big')),
        h('div', { class: 'arm-big-label' }, 'overridden, on the pairs'),
      ),
      h(
        'div',
        { class: 'arm arm-candidate' },
        h('div', { class: 'arm-head' }, 'Candidate', h('span', { class: 'version' }, rollout.candidate)),
        h('div', { class: 'arm-big' }, num('shadow-candidate-rate', pct(s.candidateOverrideRate), 'big')),
        h('div', { class: 'arm-big-label' }, 'would have been overridden'),
      ),
      h(
        'div',
        { class: 'arm diff' },
        h('div', { class: 'arm-head' }, 'Difference', h('span', { class: 'version' }, 'candidate − control')),
        h('div', { class: 'arm-big' }, num('shadow-difference', pts(d.estimate), 'big'), h('span', { class: 'unit' }, ' pts')),
        h(
          'div',
          { class: 'arm-ci' },
          term('always-valid', tip('always-valid'), 'always-valid'),
          ' ',
          num('shadow-ci-low', ptsBound(av[0])),
          ' to ',
          num('shadow-ci-high', ptsBound(av[1])),
        ),
        h(
          'dl',
          { class: 'kvs' },
          kv("McNemar's p (one look)", num('shadow-mcnemar-p', pValue(s.mcnemarPValue))),
          kv('Always-valid p', num('shadow-always-valid-p', pValue(d.alwaysValidPValue))),
          kv('Interval (one look)', num('shadow-fixed-ci-low', ptsBound(ci[0])), ' to ', num('shadow-fixed-ci-high', ptsBound(ci[1]))),
        ),
      ),
    ),
    h('div', { class: 'grid halves' }, table, fieldTable ?? h('div', { class: 'empty' }, 'No pairs scored yet.')),
    h(
      'dl',
      { class: 'kvs' },
      kv('Pairs', num('shadow-pairs', count(s.pairs))),
      kv(
        'Shadow runs',
        num('shadow-runs', count(s.shadowRuns)),
        h('span', { class: 'muted' }, ' (', num('shadow-errors', count(s.candidateErrors)), ' failed)'),
      ),
      kv(
        'Skipped',
        num('shadow-skipped-budget', count(s.skipped?.budget)),
        ' over budget, ',
        num('shadow-skipped-concurrency', count(s.skipped?.concurrency)),
        ' over concurrency',
      ),
      kv('Tokens', num('shadow-tokens', count((s.cost?.promptTokens ?? 0) + (s.cost?.completionTokens ?? 0)))),
    ),
  );
}
