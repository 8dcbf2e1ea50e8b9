// The test console: sends one request through the gateway as a chosen caller
// (POST /apis/{api}/test) and shows the response and the policy trace. The caller token goes
// only to the server, in the test request's body.

import { call, list, segment } from './api.js';
import { el, field, guarded, render, table } from './dom.js';

// Parses "Name: value" lines into [name, value] pairs, skipping empty lines.
function parseHeaders(text) {
  const headers = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`header line "${line}" has no "Name: value" form`);
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return headers;
}

export async function showConsole() {
  const apis = await list('/apis');
  const apiSelect = el('select', { name: 'api' },
    apis.map((api) => el('option', { value: api.name }, `${api.name} (/${api.properties?.path})`)));
  const operationSelect = el('select', { name: 'operation' });
  const method = el('input', { type: 'text', name: 'method', value: 'GET' });
  const path = el('input', { type: 'text', name: 'path', value: '/' });
  const headers = el('textarea', { className: 'code', name: 'headers', rows: 3,
                                   placeholder: 'Accept: application/json' });
  const token = el('input', { type: 'password', name: 'callerToken', autocomplete: 'off' });
  const body = el('textarea', { className: 'code', name: 'body', rows: 3 });
  const result = el('div', { id: 'console-result' });
  let operations = [];

  async function loadOperations() {
    operations = apiSelect.value ? await list(`/apis/${segment(apiSelect.value)}/operations`) : [];
    operationSelect.replaceChildren(...operations.map((op) =>
      el('option', { value: op.name }, `${op.name}: ${op.properties?.method} ${op.properties?.urlTemplate}`)));
    pickOperation();
  }

  function pickOperation() {
    const operation = operations.find((op) => op.name === operationSelect.value);
    if (!operation) return;
    method.value = operation.properties.method === '*' ? 'GET' : operation.properties.method;
    path.value = operation.properties.urlTemplate;
  }

  apiSelect.addEventListener('change', () => guarded(result, loadOperations));
  operationSelect.addEventListener('change', pickOperation);

  async function send(event) {
    event.preventDefault();
    await guarded(result, async () => {
      const request = { method: method.value, path: path.value, headers: parseHeaders(headers.value) };
      if (token.value !== '') request.callerToken = token.value;
      if (body.value !== '') request.body = body.value;
      const outcome = await call('POST', `/apis/${segment(apiSelect.value)}/test`, request);
      result.replaceChildren(...renderOutcome(outcome));
    });
  }

  render(
    el('h1', {}, 'Test console'),
    el('p', { className: 'muted' },
       'Sends one request through the gateway, as the caller whose token you enter, and shows ' +
       'what each policy statement did.'),
    el('form', { className: 'panel', id: 'console-form', onsubmit: send },
      el('div', { className: 'grid2' },
        field('API', apiSelect),
        field('Operation', operationSelect),
        field('Method', method),
        field('Path', path, 'below the API\'s path, with the query')),
      field('Caller token', token, 'sent as Authorization: Bearer; never shown'),
      field('Headers', headers, 'one "Name: value" per line'),
      field('Body', body, 'optional'),
      el('button', { type: 'submit' }, 'Send')),
    result,
  );
  await loadOperations();
}

function renderOutcome({ response, trace }) {
  return [
    el('h2', {}, 'Response'),
    el('p', { id: 'console-status' }, `HTTP ${response.status}`),
    el('pre', { id: 'console-headers' },
       response.headers.map(([name, value]) => `${name}: ${value}`).join('\n')),
    el('pre', { id: 'console-body' }, prettyBody(response.body)),
    el('h2', {}, 'Policy trace'),
    trace.length === 0
      ? el('p', { className: 'muted' }, 'No policy statement ran.')
      : table(['Section', 'Scope', 'Statement', 'Outcome', 'Detail'], trace.map((step) => [
        step.section,
        step.scope,
        `${step.statement}${step.id ? ` #${step.id}` : ''}`,
        el('span', { className: `outcome-${step.outcome}` }, step.outcome),
        step.detail,
      ])),
  ];
}

function prettyBody(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
