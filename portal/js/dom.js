// Builds DOM nodes. Text always goes in through textContent, never as HTML, so that a resource
// name or a server message cannot inject markup.

// Returns a new `tag` element. `attributes` sets properties (className, type, value, ...), and
// keys starting with "on" add event listeners. Children are nodes or strings.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (key.startsWith('on')) {
      node.addEventListener(key.slice(2), value);
    } else if (key === 'dataset') {
      Object.assign(node.dataset, value);
    } else if (key in node) {
      node[key] = value;
    } else {
      node.setAttribute(key, value);
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
}

// Replaces the content of the page's main element.
export function render(...children) {
  const main = document.getElementById('main');
  main.replaceChildren();
  append(main, children);
}

// Returns a paragraph for an error, or a notice when `isError` is false.
export function message(text, isError = true) {
  return el('p', { className: isError ? 'error' : 'notice', role: 'status' }, text);
}

// Returns a labelled input. `hint` is shown after the label.
export function field(labelText, input, hint) {
  return el('label', {}, labelText, hint ? el('span', { className: 'hint' }, ` (${hint})`) : null,
            input);
}

// Returns a table with `headings` and one row per entry of `rows` (arrays of cells).
export function table(headings, rows) {
  return el('table', {},
    el('thead', {}, el('tr', {}, headings.map((heading) => el('th', {}, heading)))),
    el('tbody', {}, rows.map((cells) => el('tr', {}, cells.map((cell) => el('td', {}, cell))))));
}

// Reports an error from `action` in `slot`, an element whose content it replaces.
export async function guarded(slot, action) {
  slot.replaceChildren();
  try {
    await action();
  } catch (error) {
    slot.replaceChildren(message(error.message));
  }
}
