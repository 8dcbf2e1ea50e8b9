// One connection: its status and its access policies, which name the callers that may use it.

import { call, list, segment } from './api.js';
import { el, field, guarded, render, table } from './dom.js';

// Each kind of caller is an object id in an access policy: a user's, a group's, a service
// principal's, or the gateway's own managed identity (managedIdentity in the configuration).
const kCallerKinds = [
  ['user', 'User', 'the user\'s object id (the oid claim)'],
  ['group', 'Group', 'the group\'s object id, matched against the caller\'s groups claim'],
  ['app', 'Service principal (app)', 'the service principal\'s object id'],
  ['gateway', 'Gateway identity', 'the object id of managedIdentity, for identity-type="managed"'],
];

export async function showConnection(providerId, connectionId) {
  const base = `/authorizationProviders/${segment(providerId)}/authorizations/${segment(connectionId)}`;
  const connection = await call('GET', base);
  const policies = await list(`${base}/accessPolicies`);
  const status = el('div');
  const properties = connection.properties ?? {};

  async function remove(policyId) {
    await guarded(status, async () => {
      await call('DELETE', `${base}/accessPolicies/${segment(policyId)}`);
      await showConnection(providerId, connectionId);
    });
  }

  render(
    el('p', {}, el('a', { href: `#/providers/${segment(providerId)}` }, `← ${providerId}`)),
    el('h1', {}, `Connection ${providerId}/${connectionId}`),
    el('p', {}, 'Status: ', el('span', { className: `status-${properties.status}` }, properties.status ?? '')),
    properties.error
      ? el('p', { className: 'error' }, `${properties.error.code}: ${properties.error.message}`)
      : null,
    el('h2', {}, 'Access policies'),
    policies.length === 0
      ? el('p', { className: 'muted' }, 'No access policy: no caller may use this connection.')
      : table(['Name', 'Tenant id', 'Object id', 'App ids', ''], policies.map((p) => [
        p.name,
        p.properties?.tenantId ?? '',
        p.properties?.objectId ?? '',
        (p.properties?.appIds ?? []).join(', '),
        el('button', { type: 'button', className: 'danger', onclick: () => remove(p.name) }, 'Delete'),
      ])),
    status,
    accessPolicyForm(base, () => showConnection(providerId, connectionId)),
  );
}

function accessPolicyForm(base, refresh) {
  const status = el('div');
  const name = el('input', { type: 'text', name: 'policyName', required: true });
  const kind = el('select', { name: 'callerKind' },
    kCallerKinds.map(([value, text]) => el('option', { value }, text)));
  const objectHint = el('div', { className: 'muted' });
  const tenantId = el('input', { type: 'text', name: 'tenantId', required: true });
  const objectId = el('input', { type: 'text', name: 'objectId', required: true });
  const appIds = el('input', { type: 'text', name: 'appIds' });
  const showHint = () => {
    objectHint.textContent = `Object id: ${kCallerKinds.find(([v]) => v === kind.value)[2]}.`;
  };
  kind.addEventListener('change', showHint);
  showHint();

  async function save(event) {
    event.preventDefault();
    await guarded(status, async () => {
      const properties = { tenantId: tenantId.value, objectId: objectId.value };
      const apps = appIds.value.split(/[\s,]+/).filter((id) => id !== '');
      if (apps.length > 0) properties.appIds = apps;
      await call('PUT', `${base}/accessPolicies/${segment(name.value)}`, { properties });
      await refresh();
    });
  }

  return el('form', { className: 'panel', id: 'access-policy-form', onsubmit: save },
    el('h2', {}, 'New access policy'),
    el('div', { className: 'grid2' },
      field('Name', name),
      field('Caller', kind),
      field('Tenant id', tenantId),
      field('Object id', objectId)),
    objectHint,
    field('Client app ids', appIds, 'optional, separated by commas; empty allows every app'),
    el('button', { type: 'submit' }, 'Add access policy'),
    status);
}
