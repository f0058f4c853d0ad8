// Datasets and replays: a chain's reviewed cases, each replay's would-be override rate, two
// replays compared on the same cases, and the cases that changed between them side by side
// (README: Datasets, replays and the gate).
import { api } from './api.js';
import { card, h, num, slug } from './dom.js';
import { ago, count, ms, pct, pts, ptsBound, pValue } from './format.js';

const id = encodeURIComponent;

export const datasetsApi = {
  list: () => api('GET', '/v1/datasets'),
  get: (d) => api('GET', `/v1/datasets/${id(d)}`),
  replays: (d) => api('GET', `/v1/datasets/${id(d)}/replays`),
  compare: (a, b) => api('GET', `/v1/replays/${id(a)}/compare/${id(b)}`),
  cases: (r, cursor) => api('GET', `/v1/replays/${id(r)}/cases?limit=500${cursor ? `&cursor=${id(cursor)}` : ''}`),
};

/** Most cases the page reads of one replay to show the changed ones (a dataset holds at most this many pages of 500). */
const MAX_CASE_PAGES = 20;

const interval = (ci) => (Array.isArray(ci) ? `${ptsBound(ci[0])} to ${ptsBound(ci[1])}` : '—');
const rateInterval = (ci) => (Array.isArray(ci) ? `${pct(ci[0])} – ${pct(ci[1])}` : '—');

/** The list of datasets: name, chain, cases, how many inputs were redacted. */
export async function renderDatasetList(open) {
  const list = (await datasetsApi.list())?.items ?? [];
  return h(
    'div',
    { class: 'list-page', testid: 'datasets-page' },
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Datasets'),
      h(
        'p',
        { class: 'lead' },
        'Cases people reviewed, kept as they were: a replay runs a chain version over every case and scores its output against what the human accepted, before any customer sees that version.',
      ),
    ),
    list.length
      ? h(
          'section',
          { class: 'card table-card' },
          h(
            'table',
            { class: 'table', testid: 'datasets' },
            h(
              'thead',
              null,
              h('tr', null, h('th', null, 'Name'), h('th', null, 'Chain'), h('th', null, 'Cases'), h('th', null, 'Created')),
            ),
            h(
              'tbody',
              null,
              list.map((d) =>
                h(
                  'tr',
                  { class: 'clickable', testid: `dataset-row-${d.id}`, onclick: () => open(d.id) },
                  h(
                    'td',
                    null,
                    h(
                      'a',
                      { href: `?dataset=${id(d.id)}`, onclick: (ev) => (ev.preventDefault(), ev.stopPropagation(), open(d.id)) },
                      d.name,
                    ),
                  ),
                  h('td', null, d.chain),
                  h('td', null, num(`dataset-cases-${d.id}`, count(d.cases))),
                  h('td', { class: 'muted' }, ago(d.createdAt)),
                ),
              ),
            ),
          ),
        )
      : h(
          'section',
          { class: 'card empty-state', testid: 'no-datasets' },
          h('h2', null, 'No datasets yet'),
          h(
            'p',
            null,
            'Build one from reviewed runs with ',
            h('code', null, 'npx chain-canary dataset create'),
            ' or ',
            h('code', null, 'POST /v1/datasets'),
            '.',
          ),
        ),
  );
}

/** One dataset: its replays, and the paired comparison of two of them. */
export async function renderDataset(host, datasetId) {
  const [dataset, replays] = await Promise.all([datasetsApi.get(datasetId), datasetsApi.replays(datasetId)]);
  const items = replays?.items ?? [];
  const done = items.filter((r) => r.status === 'done');
  const compareHost = h('div', { testid: 'replay-compare-host' });
  const picker = done.length >= 2 ? comparePicker(done, compareHost) : undefined;
  host.append(
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, dataset.name),
      h('p', { class: 'lead' }, `${count(dataset.cases)} cases of chain ${dataset.chain}`),
    ),
    dataset.redactedInputs > 0
      ? h(
          'p',
          { class: 'notice' },
          `${count(dataset.redactedInputs)} inputs hold a redaction placeholder: replays see what was stored, not what the customer sent.`,
        )
      : null,
    replayTable(items),
    picker?.element ?? h('p', { class: 'muted' }, 'Two finished replays on this dataset can be compared case by case.'),
    compareHost,
  );
  await picker?.shown;
  host.dataset.state = 'ready';
}

function replayTable(items) {
  if (!items.length) {
    return card(
      'Replays',
      { testid: 'replays' },
      h('p', { class: 'muted' }, 'None yet: ', h('code', null, 'npx chain-canary replay --dataset … --version …')),
    );
  }
  return card(
    'Replays',
    { testid: 'replays', note: 'Would-be override rate: the share of cases whose output the human’s accepted record would have changed.' },
    h(
      'table',
      { class: 'table' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ['Version', 'Status', 'Cases', 'Would-be override rate', '95% interval', 'Errors', 'Latency p50 / p95', 'Started'].map((t) =>
            h('th', null, t),
          ),
        ),
      ),
      h(
        'tbody',
        null,
        items.map((r) =>
          h(
            'tr',
            { testid: `replay-row-${r.id}` },
            h('td', null, r.version),
            h('td', null, h('span', { class: `pill status-${r.status}` }, r.status)),
            h('td', null, `${count(r.progress.done)} / ${count(r.progress.total)}`),
            h('td', null, num(`replay-rate-${r.id}`, pct(r.result?.overrideRate))),
            h('td', { class: 'muted' }, rateInterval(r.result?.overrideRateCI)),
            h('td', null, num(`replay-errors-${r.id}`, count(r.result?.errors))),
            h('td', null, `${ms(r.result?.latencyMs?.p50)} / ${ms(r.result?.latencyMs?.p95)}`),
            h('td', { class: 'muted' }, ago(r.createdAt)),
          ),
        ),
      ),
    ),
  );
}

function comparePicker(done, compareHost) {
  const label = (r) => `${r.version} (${ago(r.createdAt)})`;
  const option = (r, selected) => h('option', { value: r.id, selected }, label(r));
  // Default: the latest replay against the latest one of another version.
  const b = done[0];
  const a = done.find((r) => r.version !== b.version) ?? done[1];
  const selA = h(
    'select',
    { testid: 'compare-a' },
    done.map((r) => option(r, r.id === a.id)),
  );
  const selB = h(
    'select',
    { testid: 'compare-b' },
    done.map((r) => option(r, r.id === b.id)),
  );
  const run = () =>
    showComparison(compareHost, selA.value, selB.value).catch((err) =>
      compareHost.replaceChildren(h('p', { class: 'notice error', role: 'alert' }, err.message)),
    );
  selA.addEventListener('change', () => void run());
  selB.addEventListener('change', () => void run());
  return {
    element: h('div', { class: 'compare-picker' }, h('label', null, 'Compare ', selA), h('label', null, ' with ', selB)),
    shown: run(),
  };
}

async function showComparison(host, a, b) {
  host.replaceChildren(h('div', { class: 'loading' }, 'Comparing…'));
  if (a === b) {
    host.replaceChildren(h('p', { class: 'muted' }, 'Pick two different replays.'));
    return;
  }
  const c = await datasetsApi.compare(a, b);
  const fields = Object.entries(c.byField ?? {});
  host.replaceChildren(
    card(
      'Paired comparison (B − A, the same cases)',
      {
        testid: 'replay-compare',
        note: 'McNemar’s exact test looks only at the cases where one version would be overridden and the other not.',
      },
      h(
        'dl',
        { class: 'figures' },
        h('dt', null, 'Pairs'),
        h('dd', null, num('cmp-pairs', count(c.pairs))),
        h('dt', null, 'Only A overridden'),
        h('dd', null, num('cmp-only-a', count(c.onlyAOverridden))),
        h('dt', null, 'Only B overridden'),
        h('dd', null, num('cmp-only-b', count(c.onlyBOverridden))),
        h('dt', null, 'Both overridden'),
        h('dd', null, num('cmp-both', count(c.bothOverridden))),
        h('dt', null, 'Difference'),
        h(
          'dd',
          null,
          num('cmp-diff', `${pts(c.difference.estimate)} pts`),
          h('span', { class: 'muted' }, ` (95%: ${interval(c.difference.ci)})`),
        ),
        h('dt', null, 'McNemar p'),
        h('dd', null, num('cmp-p', pValue(c.mcnemarPValue))),
      ),
      fields.length
        ? h(
            'table',
            { class: 'table', testid: 'cmp-fields' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['Field', 'A', 'B', 'B − A'].map((t) => h('th', null, t)),
              ),
            ),
            h(
              'tbody',
              null,
              fields.map(([f, cell]) =>
                h(
                  'tr',
                  { testid: `cmp-field-${slug(f)}` },
                  h('td', null, h('code', null, f)),
                  h('td', null, pct(cell.aOverrideRate)),
                  h('td', null, pct(cell.bOverrideRate)),
                  h('td', null, pts(cell.difference.estimate)),
                ),
              ),
            ),
          )
        : null,
    ),
    await changedCases(c),
  );
}

async function allCases(replayId) {
  const byKey = new Map();
  let cursor;
  for (let page = 0; page < MAX_CASE_PAGES; page++) {
    const res = await datasetsApi.cases(replayId, cursor);
    for (const item of res.items ?? []) byKey.set(`${item.caseId}/${item.repeat}`, item);
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  return byKey;
}

/** The discordant cases: input, the human's record, both outputs, the fields each would have had changed. */
async function changedCases(c) {
  if (!c.discordant?.length)
    return card(
      'Cases that changed between versions',
      { testid: 'changed-cases' },
      h('p', { class: 'muted' }, 'None: both versions would be overridden on the same cases.'),
    );
  const [casesA, casesB] = await Promise.all([allCases(c.a), allCases(c.b)]);
  return card(
    'Cases that changed between versions',
    {
      testid: 'changed-cases',
      note: `${count(c.discordant.length)} cases where exactly one version would be overridden; highlighted fields are the ones the human's record changes.`,
    },
    c.discordant.map((d) => {
      const key = `${d.caseId}/${d.repeat}`;
      const ra = casesA.get(key);
      const rb = casesB.get(key);
      return h(
        'details',
        { class: 'case-diff', testid: `changed-case-${slug(d.caseId)}` },
        h('summary', null, h('code', null, d.caseId), ' — A: ', fieldsText(d.aFields), ' · B: ', fieldsText(d.bFields)),
        h(
          'div',
          { class: 'case-columns' },
          column('Input', ra?.input ?? rb?.input, []),
          column('Human’s record', ra?.expected ?? rb?.expected, []),
          column('A output', ra?.output ?? ra?.error, d.aFields),
          column('B output', rb?.output ?? rb?.error, d.bFields),
        ),
      );
    }),
  );
}

const fieldsText = (fields) => (fields.length ? fields.join(', ') : 'unchanged');

/** A JSON value, its top-level fields in `marked` highlighted. */
function column(title, value, marked) {
  const body =
    value && typeof value === 'object' && !Array.isArray(value)
      ? h(
          'dl',
          { class: 'json-fields' },
          Object.entries(value).map(([k, v]) => [
            h('dt', { class: marked.includes(k) ? 'changed' : null }, k),
            h('dd', { class: marked.includes(k) ? 'changed' : null }, JSON.stringify(v)),
          ]),
        )
      : h('pre', null, JSON.stringify(value, null, 2) ?? '—');
  return h('div', { class: 'case-column' }, h('h3', null, title), body);
}
