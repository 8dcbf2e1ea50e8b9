// APIs and their operations.

import { call, list, segment } from './api.js';
import { el, field, guarded, render, table } from './dom.js';

export async function showApis() {
  const apis = await list('/apis');
  const status = el('div');
  const name = el('input', { type: 'text', name: 'apiName', required: true });
  const displayName = el('input', { type: 'text', name: 'displayName' });
  const path = el('input', { type: 'text', name: 'path', required: true });
  const serviceUrl = el('input', { type: 'url', name: 'serviceUrl', required: true });

  async function save(event) {
    event.preventDefault();
    await guarded(status, async () => {
      const properties = { path: path.value, serviceUrl: serviceUrl.value };
      if (displayName.value) properties.displayName = displayName.value;
      await call('PUT', `/apis/${segment(name.value)}`, { properties });
      location.hash = `#/apis/${segment(name.value)}`;
    });
  }

  render(
    el('h1', {}, 'APIs'),
    apis.length === 0 ? el('p', { className: 'muted' }, 'No API yet.')
      : table(['Name', 'Display name', 'Path', 'Service URL'], apis.map((api) => [
        el('a', { href: `#/apis/${segment(api.name)}` }, api.name),
        api.properties?.displayName ?? '',
        `/${api.properties?.path ?? ''}`,
        api.properties?.serviceUrl ?? '',
      ])),
    el('form', { className: 'panel', id: 'api-form', onsubmit: save },
      el('h2', {}, 'New API'),
      el('div', { className: 'grid2' },
        field('Name', name),
        field('Display name', displayName, 'optional'),
        field('Path', path, 'the gateway path below /'),
        field('Service URL', serviceUrl, 'the backend base URL')),
      el('button', { type: 'submit' }, 'Create API'),
      status),
  );
}

export async function showApi(apiId) {
  const base = `/apis/${segment(apiId)}`;
  const api = await call('GET', base);
  const operations = await list(`${base}/operations`);
  const status = el('div');
  const name = el('input', { type: 'text', name: 'operationName', required: true });
  const method = el('input', { type: 'text', name: 'method', value: 'GET', required: true });
  const template = el('input', { type: 'text', name: 'urlTemplate', value: '/', required: true });

  async function save(event) {
    event.preventDefault();
    await guarded(status, async () => {
      await call('PUT', `${base}/operations/${segment(name.value)}`,
                 { properties: { method: method.value, urlTemplate: template.value } });
      await showApi(apiId);
    });
  }

  async function remove(operationId) {
    await guarded(status, async () => {
      await call('DELETE', `${base}/operations/${segment(operationId)}`);
      await showApi(apiId);
    });
  }

  render(
    el('p', {}, el('a', { href: '#/apis' }, '← APIs')),
    el('h1', {}, api.properties?.displayName || api.name),
    el('p', { className: 'muted' }, `Gateway path /${api.properties?.path}, forwarded to `,
       el('code', {}, api.properties?.serviceUrl ?? '')),
    el('p', {}, el('a', { href: `#/policy/apis/${segment(apiId)}` }, 'Edit the API policy')),
    el('h2', {}, 'Operations'),
    operations.length === 0 ? el('p', { className: 'muted' }, 'No operation: the API forwards nothing.')
      : table(['Name', 'Method', 'URL template', '', ''], operations.map((op) => [
        op.name,
        op.properties?.method ?? '',
        op.properties?.urlTemplate ?? '',
        el('a', { href: `#/policy/apis/${segment(apiId)}/operations/${segment(op.name)}` }, 'Policy'),
        el('button', { type: 'button', className: 'danger', onclick: () => remove(op.name) }, 'Delete'),
      ])),
    status,
    el('form', { className: 'panel', id: 'operation-form', onsubmit: save },
      el('h2', {}, 'New operation'),
      el('div', { className: 'grid2' },
        field('Name', name),
        field('Method', method, 'or * for any'),
        field('URL template', template, 'for example /users/{id}')),
      el('button', { type: 'submit' }, 'Create operation')),
    el('button', { type: 'button', className: 'danger', onclick: async () => {
      if (!confirm(`Delete API ${apiId}?`)) return;
      await call('DELETE', base);
      location.hash = '#/apis';
    } }, 'Delete API'),
  );
}
