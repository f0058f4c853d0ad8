// chain-canary dashboard: sign in with a token, list rollouts, and look into one.
// Plain ES modules, no build step; every figure comes from the gateway's API.
import { ApiError, rolloutsApi, token } from './api.js';
import { renderDataset, renderDatasetList } from './datasets.js';
import { renderDetail } from './detail.js';
import { clear, h } from './dom.js';
import { ago, stageLabel, stageWords, status } from './format.js';
import { renderGlossary } from './glossary.js';
import { renderPlanPanel } from './plan.js';
import { statusOrder } from './statuses.js';

const REFRESH_MS = 30_000;

const root = document.getElementById('app');
let disposeView = () => {};
let refreshTimer;

/** The rollout in the URL (?rollout=<id>), so a link or a reload opens the same view. */
function selected() {
  return new URL(location.href).searchParams.get('rollout');
}

function navigate(id) {
  go(id ? { rollout: id } : {});
}

/** Opens the view the query names: ?rollout=<id>, ?view=datasets or ?dataset=<id>; none: the rollouts. */
function go(params) {
  const url = new URL(location.href);
  for (const key of ['rollout', 'view', 'dataset']) url.searchParams.delete(key);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  url.hash = '';
  history.pushState(null, '', url);
  show();
}

function shell(...content) {
  disposeView();
  disposeView = () => {};
  clear(root);
  const signedIn = !!token.get();
  root.append(
    h(
      'header',
      { class: 'topbar' },
      h(
        'a',
        { class: 'brand', href: '/dashboard', onclick: (ev) => (ev.preventDefault(), navigate(null)) },
        h('span', { class: 'logo', 'aria-hidden': 'true' }),
        'chain-canary',
      ),
      h('span', { class: 'topbar-title' }, 'Rollouts'),
      h('span', { class: 'spacer' }),
      h(
        'a',
        {
          class: 'topbar-link',
          href: '?view=datasets',
          testid: 'nav-datasets',
          onclick: (ev) => (ev.preventDefault(), go({ view: 'datasets' })),
        },
        'Datasets',
      ),
      h('a', { class: 'topbar-link', href: '/docs' }, 'API docs'),
      h('a', { class: 'topbar-link', href: '#glossary' }, 'Glossary'),
      signedIn ? h('button', { class: 'btn ghost small', testid: 'sign-out', onclick: signOut }, 'Sign out') : null,
    ),
    h('main', { class: 'main', id: 'main' }, content),
    renderGlossary(),
  );
}

function signOut() {
  token.clear();
  clearInterval(refreshTimer);
  navigate(null);
}

function renderLogin(message) {
  const input = h('input', {
    type: 'password',
    id: 'token',
    name: 'token',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'admin token',
    testid: 'token-input',
    required: true,
  });
  const error = message ? h('p', { class: 'notice error', role: 'alert', testid: 'login-error' }, message) : null;
  const form = h(
    'form',
    {
      class: 'login card',
      testid: 'login',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const value = input.value.trim();
        if (!value) return;
        token.set(value);
        await show();
      },
    },
    h('h1', null, 'Sign in'),
    h(
      'p',
      null,
      "Paste the gateway's admin token. It is printed when the gateway first starts and saved in ",
      h('code', null, 'DATA_DIR/admin-token'),
      ' (or set as ',
      h('code', null, 'ADMIN_TOKEN'),
      '). This tab keeps it until you close it; it is never stored anywhere else.',
    ),
    error,
    h('label', { class: 'field', for: 'token' }, h('span', null, 'Token'), input),
    h('button', { type: 'submit', class: 'btn primary', testid: 'token-submit' }, 'Open dashboard'),
  );
  shell(form);
  input.focus();
}

/** A failed sign-in in plain words: the API's message, plus what to do. */
function authMessage(err) {
  if (err.status === 403) return `${err.message} Use the admin token or a named admin key.`;
  if (err.status === 401) return `That token was not accepted: ${err.message}`;
  return err.message;
}

async function show() {
  shownSearch = location.search;
  clearInterval(refreshTimer);
  if (!token.get()) return renderLogin();
  const params = new URL(location.href).searchParams;
  if (params.get('view') === 'datasets' || params.get('dataset')) return showDatasets(params.get('dataset'));
  let list;
  try {
    list = await rolloutsApi.list();
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      token.clear();
      return renderLogin(authMessage(err));
    }
    shell(h('p', { class: 'notice error', role: 'alert', testid: 'error' }, err.message));
    return;
  }
  const id = selected();
  const rollouts = list?.items ?? [];
  if (id) {
    const notice = h('div', { class: 'notices', id: 'notices' });
    const host = h(
      'div',
      { class: 'detail', testid: 'rollout-detail', 'data-state': 'loading' },
      h('div', { class: 'loading' }, 'Loading the rollout…'),
    );
    shell(
      h(
        'a',
        { class: 'back', href: '/dashboard', testid: 'back', onclick: (ev) => (ev.preventDefault(), navigate(null)) },
        '← All rollouts',
      ),
      notice,
      host,
    );
    const view = await renderDetail(
      host,
      notice,
      id,
      rollouts.find((r) => r.id === id),
    );
    disposeView = view.dispose;
    refreshTimer = setInterval(() => {
      if (document.visibilityState === 'visible' && !document.querySelector('dialog[open]')) view.refresh();
    }, REFRESH_MS);
    return;
  }
  shell(renderList(rollouts));
}

/** The datasets list, or one dataset with its replays and their paired comparison. */
async function showDatasets(datasetId) {
  const back = (label, params) =>
    h('a', { class: 'back', href: '/dashboard', testid: 'back', onclick: (ev) => (ev.preventDefault(), go(params)) }, label);
  try {
    if (!datasetId) {
      shell(await renderDatasetList((d) => go({ dataset: d })));
      return;
    }
    const host = h('div', { class: 'detail', testid: 'dataset-detail' });
    shell(back('← All datasets', { view: 'datasets' }), host);
    await renderDataset(host, datasetId);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      token.clear();
      return renderLogin(authMessage(err));
    }
    shell(back('← All datasets', { view: 'datasets' }), h('p', { class: 'notice error', role: 'alert', testid: 'error' }, err.message));
  }
}

function renderList(rollouts) {
  // Live rollouts first, then the ended ones (statuses.js), each newest first.
  const sorted = [...rollouts].sort(
    (a, b) => statusOrder(a.status) - statusOrder(b.status) || String(b.createdAt).localeCompare(String(a.createdAt)),
  );
  return h(
    'div',
    { class: 'list-page' },
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'Rollouts'),
      h(
        'p',
        { class: 'lead' },
        "Each rollout sends part of the traffic to a new chain version (the candidate) and compares how often humans correct it against today's version (the control). Open one to see the evidence.",
      ),
    ),
    sorted.length
      ? h(
          'section',
          { class: 'card' },
          h(
            'table',
            { class: 'table rollouts', testid: 'rollouts' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                h('th', null, 'Chain'),
                h('th', null, 'Versions'),
                h('th', null, 'Status'),
                h('th', null, 'Stage'),
                h('th', null, 'Started'),
              ),
            ),
            h(
              'tbody',
              null,
              sorted.map((r) =>
                h(
                  'tr',
                  { class: 'clickable', testid: `rollout-row-${r.id}`, onclick: () => navigate(r.id) },
                  h(
                    'td',
                    null,
                    h(
                      'a',
                      {
                        href: `?rollout=${encodeURIComponent(r.id)}`,
                        testid: `rollout-link-${r.id}`,
                        onclick: (ev) => (ev.preventDefault(), ev.stopPropagation(), navigate(r.id)),
                      },
                      r.chain,
                    ),
                  ),
                  h('td', null, h('span', { class: 'versions' }, r.control, h('span', { class: 'arrow' }, ' → '), r.candidate)),
                  h('td', null, h('span', { class: `pill status-${r.status}`, testid: `rollout-status-${r.id}` }, status(r.status))),
                  h('td', null, h('div', null, stageLabel(r)), h('div', { class: 'muted small' }, stageWords(r.stages?.[r.stage]))),
                  h('td', { class: 'muted' }, ago(r.createdAt)),
                ),
              ),
            ),
          ),
        )
      : h(
          'section',
          { class: 'card empty-state', testid: 'no-rollouts' },
          h('h2', null, 'No rollouts yet'),
          h(
            'p',
            null,
            'Start one with ',
            h('code', null, 'POST /v1/rollouts'),
            ' or ',
            h('code', null, 'npx chain-canary rollout create'),
            ', or run ',
            h('code', null, 'npm run demo'),
            ' to watch a simulated canary.',
          ),
        ),
    h('div', { class: 'grid' }, renderPlanPanel()),
  );
}

// Back and forward between views re-render; a glossary link (a #hash) only scrolls.
let shownSearch = location.search;
window.addEventListener('popstate', () => {
  if (location.search === shownSearch) return;
  show();
});
show();
