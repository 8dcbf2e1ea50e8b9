// The policy XML editor: a textarea with line numbers. Saving compiles the policy on the server;
// a compile error names a line and column, which the editor marks and selects.

import { ApiError, call } from './api.js';
import { el, message, render } from './dom.js';

const kEmptyPolicy = `<policies>
  <inbound>
    <base />
  </inbound>
  <backend>
    <base />
  </backend>
  <outbound>
    <base />
  </outbound>
  <on-error>
    <base />
  </on-error>
</policies>
`;

// Returns {line, column} from a message such as "line 3, column 7: ...", or null.
export function errorPosition(text) {
  const match = /line (\d+), column (\d+)/.exec(text);
  return match ? { line: Number(match[1]), column: Number(match[2]) } : null;
}

// `scopePath` is the management path below which /policies/policy lies ("" for the global
// policy), and `title` names the scope.
export async function showPolicyEditor(scopePath, title, back) {
  const path = `${scopePath}/policies/policy`;
  let text = kEmptyPolicy;
  let exists = true;
  try {
    text = (await call('GET', path)).properties.value;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
    exists = false;
  }

  const gutter = el('pre', { className: 'gutter', ariaHidden: 'true' });
  const textarea = el('textarea', { className: 'code', name: 'policy', spellcheck: false, value: text });
  const status = el('div', { id: 'policy-status' });
  let badLine = 0;

  function renderGutter() {
    const lines = textarea.value.split('\n').length;
    const numbers = [];
    for (let i = 1; i <= lines; i += 1) {
      numbers.push(el('span', { className: i === badLine ? 'bad' : '' }, String(i)));
    }
    gutter.replaceChildren(...numbers);
    gutter.scrollTop = textarea.scrollTop;
  }

  // Selects the character at `line` and `column` (both 1-based) and scrolls it into view.
  function select(line, column) {
    const lines = textarea.value.split('\n');
    let offset = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i += 1) offset += lines[i].length + 1;
    offset += Math.max(0, column - 1);
    textarea.focus();
    textarea.setSelectionRange(offset, offset + 1);
    textarea.scrollTop = Math.max(0, (line - 5) * 18);
  }

  async function save() {
    status.replaceChildren();
    try {
      await call('PUT', path, { properties: { format: 'rawxml', value: textarea.value } });
      badLine = 0;
      status.replaceChildren(message('Saved: the policy compiled and is running.', false));
    } catch (error) {
      const position = errorPosition(error.message);
      badLine = position?.line ?? 0;
      status.replaceChildren(el('p', { className: 'error', id: 'policy-error', role: 'alert' },
                                error.message));
      if (position) select(position.line, position.column);
    }
    renderGutter();
  }

  textarea.addEventListener('input', () => {
    badLine = 0;
    renderGutter();
  });
  textarea.addEventListener('scroll', () => {
    gutter.scrollTop = textarea.scrollTop;
  });

  render(
    el('p', {}, el('a', { href: back.href }, `← ${back.text}`)),
    el('h1', {}, `Policy: ${title}`),
    exists ? null : el('p', { className: 'muted' }, 'No policy is stored at this scope yet.'),
    el('div', { className: 'editor' }, gutter, textarea),
    el('button', { type: 'button', id: 'save-policy', onclick: save }, 'Save policy'),
    status,
  );
  renderGutter();
}
