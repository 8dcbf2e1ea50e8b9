// Credential provider pages: the list, the form built from a catalogue entry's parameters, and
// one provider with its connections.

import { call, list, segment } from './api.js';
import { el, field, guarded, message, render, table } from './dom.js';

const kGrantNames = { authorizationCode: 'Authorization code', clientCredentials: 'Client credentials' };

export async function showProviders() {
  const providers = await list('/authorizationProviders');
  render(
    el('h1', {}, 'Credential providers'),
    providers.length === 0
      ? el('p', { className: 'muted' }, 'No provider yet.')
      : table(['Name', 'Display name', 'Identity provider', 'Grant type'], providers.map((p) => [
        el('a', { href: `#/providers/${segment(p.name)}` }, p.name),
        p.properties?.displayName ?? '',
        p.properties?.identityProvider ?? '',
        Object.keys(p.properties?.oauth2?.grantTypes ?? {}).map((g) => kGrantNames[g] ?? g).join(', '),
      ])),
    await providerForm(null),
  );
}

// Returns the form that creates a provider, or edits `existing` (a provider resource).
async function providerForm(existing) {
  const catalogue = await list('/identityProviders');
  const status = el('div');
  const fields = el('div');
  const name = el('input', { type: 'text', name: 'name', required: true, value: existing?.name ?? '',
                             readOnly: existing !== null });
  const displayName = el('input', { type: 'text', name: 'displayName',
                                    value: existing?.properties?.displayName ?? '' });
  const entrySelect = el('select', { name: 'identityProvider', disabled: existing !== null },
    catalogue.map((entry) => el('option', { value: entry.name },
                                `${entry.properties.displayName} (${entry.name})`)));
  const grantSelect = el('select', { name: 'grantType' });
  const storedGrants = existing?.properties?.oauth2?.grantTypes ?? {};
  if (existing) entrySelect.value = existing.properties.identityProvider;

  const entry = () => catalogue.find((e) => e.name === entrySelect.value);
  const stored = () => storedGrants[grantSelect.value] ?? {};

  function renderGrants() {
    const grants = Object.keys(entry()?.properties?.grantTypes ?? {});
    grantSelect.replaceChildren(...grants.map((g) => el('option', { value: g }, kGrantNames[g] ?? g)));
    const current = Object.keys(storedGrants)[0];
    if (current && grants.includes(current)) grantSelect.value = current;
    renderFields();
  }

  // One input per parameter of the entry's grant. A secret is never filled in: an empty secret
  // field keeps the stored secret.
  function renderFields() {
    const grant = entry()?.properties?.grantTypes?.[grantSelect.value];
    const values = stored();
    fields.replaceChildren(...(grant?.parameters ?? []).map((parameter) => {
      const input = el('input', {
        type: parameter.secret ? 'password' : 'text',
        name: parameter.name,
        autocomplete: parameter.secret ? 'new-password' : 'off',
        value: parameter.secret ? '' : String(values[parameter.name] ?? ''),
        placeholder: parameter.secret && existing ? 'unchanged' : (parameter.default ?? ''),
        dataset: { parameter: parameter.name },
      });
      const hints = [parameter.required ? 'required' : 'optional', parameter.type];
      if (parameter.secret) hints.push('write-only');
      const description = parameter.description ? el('div', { className: 'muted' }, parameter.description) : null;
      return el('div', {}, field(parameter.name, input, hints.join(', ')), description);
    }));
  }

  entrySelect.addEventListener('change', renderGrants);
  grantSelect.addEventListener('change', renderFields);
  renderGrants();

  async function save(event) {
    event.preventDefault();
    await guarded(status, async () => {
      const parameters = {};
      for (const input of fields.querySelectorAll('input[data-parameter]')) {
        if (input.value !== '') parameters[input.dataset.parameter] = input.value;
      }
      const properties = {
        identityProvider: entrySelect.value,
        oauth2: { grantTypes: { [grantSelect.value]: parameters } },
      };
      if (displayName.value !== '') properties.displayName = displayName.value;
      await call('PUT', `/authorizationProviders/${segment(name.value)}`, { properties });
      location.hash = `#/providers/${segment(name.value)}`;
      if (existing) status.replaceChildren(message('Saved.', false));
    });
  }

  return el('form', { className: 'panel', id: 'provider-form', onsubmit: save },
    el('h2', {}, existing ? 'Edit provider' : 'New provider'),
    el('div', { className: 'grid2' },
      field('Name', name),
      field('Display name', displayName, 'optional'),
      field('Identity provider', entrySelect, 'catalogue entry'),
      field('Grant type', grantSelect)),
    fields,
    el('button', { type: 'submit' }, existing ? 'Save provider' : 'Create provider'),
    status);
}

export async function showProvider(providerId) {
  const base = `/authorizationProviders/${segment(providerId)}`;
  const provider = await call('GET', base);
  const connections = await list(`${base}/authorizations`);
  const grant = Object.keys(provider.properties?.oauth2?.grantTypes ?? {})[0];
  const status = el('div', { id: 'connection-status' });

  async function login(connection) {
    await guarded(status, async () => {
      const { loginLink } = await call('POST', `${base}/authorizations/${segment(connection)}/getLoginLinks`, {});
      window.open(loginLink, '_blank', 'noopener');
      status.replaceChildren(message(
        `The login link for ${connection} opened in a new window. Reload this page after signing in.`,
        false));
    });
  }

  async function remove(connection) {
    if (!confirm(`Delete connection ${connection} and its tokens?`)) return;
    await guarded(status, async () => {
      await call('DELETE', `${base}/authorizations/${segment(connection)}`);
      await showProvider(providerId);
    });
  }

  const rows = connections.map((c) => {
    const properties = c.properties ?? {};
    const error = properties.error
      ? el('div', { className: 'error' }, `${properties.error.code}: ${properties.error.message}`)
      : null;
    const actions = [];
    if ((properties.oauth2grantType ?? 'AuthorizationCode') === 'AuthorizationCode') {
      actions.push(el('button', { type: 'button', className: 'secondary', onclick: () => login(c.name),
                                  dataset: { login: c.name } },
                      properties.status === 'Connected' ? 'Re-login' : 'Login'));
    }
    actions.push(el('button', { type: 'button', className: 'danger', onclick: () => remove(c.name) }, 'Delete'));
    return [
      el('a', { href: `#/providers/${segment(providerId)}/connections/${segment(c.name)}` }, c.name),
      properties.oauth2grantType ?? 'AuthorizationCode',
      el('span', { className: `status-${properties.status}` }, properties.status ?? ''),
      error ?? '',
      actions,
    ];
  });

  render(
    el('p', {}, el('a', { href: '#/providers' }, '← Credential providers')),
    el('h1', {}, provider.properties?.displayName || provider.name),
    el('p', { className: 'muted' },
       `Identity provider ${provider.properties?.identityProvider}. Redirect URL to register at the provider: `,
       el('code', {}, provider.properties?.oauth2?.redirectUrl ?? '')),
    el('h2', {}, 'Connections'),
    connections.length === 0 ? el('p', { className: 'muted' }, 'No connection yet.')
      : table(['Name', 'Grant', 'Status', 'Error', ''], rows),
    status,
    connectionForm(providerId, grant),
    await providerForm(provider),
    el('button', { type: 'button', className: 'danger', onclick: async () => {
      if (!confirm(`Delete provider ${providerId} with its connections and tokens?`)) return;
      await call('DELETE', base);
      location.hash = '#/providers';
    } }, 'Delete provider'),
  );
}

function connectionForm(providerId, grant) {
  const status = el('div');
  const name = el('input', { type: 'text', name: 'connection', required: true });
  const clientCredentials = grant === 'clientCredentials';
  const clientId = el('input', { type: 'text', name: 'clientId' });
  const clientSecret = el('input', { type: 'password', name: 'clientSecret', autocomplete: 'new-password' });
  async function save(event) {
    event.preventDefault();
    await guarded(status, async () => {
      const properties = {
        authorizationType: 'OAuth2',
        oauth2grantType: clientCredentials ? 'ClientCredentials' : 'AuthorizationCode',
      };
      if (clientCredentials && (clientId.value || clientSecret.value)) {
        properties.parameters = {};
        if (clientId.value) properties.parameters.clientId = clientId.value;
        if (clientSecret.value) properties.parameters.clientSecret = clientSecret.value;
      }
      await call('PUT', `/authorizationProviders/${segment(providerId)}/authorizations/${segment(name.value)}`,
                 { properties });
      await showProvider(providerId);
    });
  }
  return el('form', { className: 'panel', id: 'connection-form', onsubmit: save },
    el('h2', {}, 'New connection'),
    field('Name', name),
    clientCredentials ? [field('Client id', clientId, 'optional, replaces the provider\'s'),
                         field('Client secret', clientSecret, 'optional, write-only')] : null,
    el('button', { type: 'submit' }, 'Create connection'),
    status);
}

