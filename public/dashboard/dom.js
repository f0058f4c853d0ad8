// A tiny DOM builder. Everything from the API goes in as text, never as HTML.

/**
 * h('div', { class: 'card', testid: 'x', onclick: fn }, child, 'text', [more]) → element.
 * `testid` becomes data-testid; `tip` a glossary tooltip (data-tip); false/null props are skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'testid') el.dataset.testid = value;
    else if (key === 'tip') el.dataset.tip = value;
    else if (key === 'style' && typeof value === 'object') Object.assign(el.style, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A number in the page: its own element with a data-testid, so tests can read it. */
export function num(testid, text, cls) {
  return h('span', { class: cls ? `num ${cls}` : 'num', testid }, text);
}

/** A term with a glossary tooltip, linking to its entry in the footer. */
export function term(label, tip, anchor) {
  return h('a', { class: 'term', href: `#glossary-${anchor}`, tip, 'aria-label': `${label}: ${tip}` }, label);
}

/** A card section with a title and an optional note under it. */
export function card(title, { note, testid, cls, actions } = {}, ...body) {
  return h(
    'section',
    { class: cls ? `card ${cls}` : 'card', testid },
    h(
      'header',
      { class: 'card-head' },
      h('div', null, h('h2', null, title), note ? h('p', { class: 'note' }, note) : null),
      actions ?? null,
    ),
    body,
  );
}

/** A safe id fragment for a data-testid from an API value (field or tenant names). */
export function slug(s) {
  return String(s).replace(/[^A-Za-z0-9._-]/g, '_');
}
