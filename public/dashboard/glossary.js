// Words the dashboard uses, in plain language: shown as tooltips on the terms and in the footer.
import { h } from './dom.js';

export const GLOSSARY = {
  arm: [
    'Arm',
    "One side of the comparison. The control arm runs today's chain version; the candidate arm runs the new one. Each call is assigned to one arm.",
  ],
  control: ['Control', "The chain version that serves traffic today (the chain's current version). The candidate is measured against it."],
  candidate: ['Candidate', 'The new chain version being rolled out. If it holds up, promote it; if not, roll it back.'],
  stage: [
    'Stage',
    'A step of the rollout: which environments and tenants get the candidate, and what share of their traffic. Stages add up: at stage 2, stage 1 stays active.',
  ],
  'override-rate': [
    'Override rate',
    "Of the runs a human reviewed, the share where the reviewer changed at least one field of the AI's answer. Lower is better.",
  ],
  'review-rate': ['Review rate', 'Of the finished runs, the share a human reviewed. Override rates compare only reviewed runs.'],
  interval: [
    '95% interval',
    'The range the true rate lies in with 95% confidence, given how many runs were reviewed (Wilson score interval). Fewer reviews, wider range.',
  ],
  'always-valid': [
    'Always-valid interval',
    'An interval for the difference between the arms that stays trustworthy however often you look at it. Ordinary intervals become too optimistic when checked every hour; this one does not, so you may stop as soon as it excludes zero.',
  ],
  'p-value': [
    'p-value',
    'How surprising the observed difference would be if both versions were equally good. Small (below 0.05) means the difference is unlikely to be chance.',
  ],
  srm: [
    'SRM (sample ratio mismatch)',
    'A check that traffic was split as configured (e.g. 50/50). A mismatch means the assignment is broken, and the comparison cannot be trusted until it is fixed.',
  ],
  'review-imbalance': [
    'Review-rate imbalance',
    "A check, stage by stage, that humans review the two arms' outputs at the same rate. If they review one arm more (or pick which outputs to check), its override rate is not comparable with the other's.",
  ],
  guardrail: [
    'Guardrail',
    'A limit the candidate must stay within (e.g. at most 5 points more overrides than the control). When the evidence says it is crossed, the gateway rolls the candidate back by itself.',
  ],
  bound: [
    'Bound',
    "The guardrail's cautious reading of the evidence: the candidate is at least this far over the control (or this high), with the confidence the rollout asks for, however often it is checked. The guardrail fires only when the bound, not the raw rate, crosses the limit.",
  ],
  shadow: [
    'Shadow run',
    "The candidate run on a call the control answered, whose output nobody receives. When the human reviews the control's output, the candidate's is scored against the same record.",
  ],
  anchoring: [
    'Anchoring',
    "Reviewers lean towards the output they were shown. In shadow runs that is the control's, so a candidate that looks as good in the shadow is at least that good; one that looks slightly worse may not be.",
  ],
  gate: [
    'Gate',
    'Evidence a rollout must show before any customer gets the candidate: replays of a dataset on both versions, or shadow runs on live calls. Until it passes the rollout is gated and moves no traffic; if it shows the candidate worse than allowed, the rollout ends (gate failed). A person may start a gated rollout anyway, with a reason kept in the audit log.',
  ],
  verdict: [
    'Verdict',
    'Better, worse, or no significant difference, read from the always-valid interval of the override-rate difference once each arm has enough reviewed runs.',
  ],
};

/** The tooltip text of a term. */
export function tip(key) {
  return GLOSSARY[key]?.[1] ?? '';
}

export function renderGlossary() {
  return h(
    'footer',
    { class: 'glossary', id: 'glossary', testid: 'glossary' },
    h('h2', null, 'Glossary'),
    h(
      'dl',
      null,
      Object.entries(GLOSSARY).map(([key, [word, text]]) =>
        h('div', { class: 'gloss', id: `glossary-${key}` }, h('dt', null, word), h('dd', null, text)),
      ),
    ),
    h(
      'p',
      { class: 'fine' },
      "chain-canary · statistics: Wilson score intervals, Newcombe hybrid score intervals for differences, and a normal-mixture confidence sequence (as in GrowthBook's sequential engine) for the always-valid interval.",
    ),
  );
}
