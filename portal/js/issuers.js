// Trusted issuers: the OpenID Connect issuers whose JWTs identify the callers that
// get-authorization-context checks against access policies.

import { call, list, segment } from './api.js';
import { el, field, guarded, render, table } from './dom.js';

export async function showIssuers() {
  const issuers = await list('/trustedIssuers');
  const status = el('div');
  const name = el('input', { type: 'text', name: 'issuerName', required: true });
  const issuer = el('input', { type: 'url', name: 'issuer', required: true });
  const audiences = el('input', { type: 'text', name: 'audiences', required: true });
  const jwksUri = el('input', { type: 'url', name: 'jwksUri' });
  const clockSkew = el('input', { type: 'text', name: 'clockSkewSeconds', inputMode: 'numeric' });

  async function save(event) {
    event.preventDefault();
    await guarded(status, async () => {
      const properties = {
        issuer: issuer.value,
        audiences: audiences.value.split(/[\s,]+/).filter((audience) => audience !== ''),
      };
      if (jwksUri.value) properties.jwksUri = jwksUri.value;
      if (clockSkew.value) properties.clockSkewSeconds = Number(clockSkew.value);
      await call('PUT', `/trustedIssuers/${segment(name.value)}`, { properties });
      await showIssuers();
    });
  }

  async function remove(issuerId) {
    if (!confirm(`Delete trusted issuer ${issuerId}?`)) return;
    await guarded(status, async () => {
      await call('DELETE', `/trustedIssuers/${segment(issuerId)}`);
      await showIssuers();
    });
  }

  render(
    el('h1', {}, 'Trusted issuers'),
    issuers.length === 0
      ? el('p', { className: 'muted' }, 'No trusted issuer: no caller JWT is accepted.')
      : table(['Name', 'Issuer', 'Audiences', 'JWKS URI', ''], issuers.map((i) => [
        i.name,
        i.properties?.issuer ?? '',
        (i.properties?.audiences ?? []).join(', '),
        i.properties?.jwksUri ?? 'from discovery',
        el('button', { type: 'button', className: 'danger', onclick: () => remove(i.name) }, 'Delete'),
      ])),
    status,
    el('form', { className: 'panel', id: 'issuer-form', onsubmit: save },
      el('h2', {}, 'New trusted issuer'),
      el('div', { className: 'grid2' },
        field('Name', name),
        field('Issuer', issuer, 'the exact iss value'),
        field('Audiences', audiences, 'separated by commas; a token\'s aud must contain one'),
        field('JWKS URI', jwksUri, 'optional; default from the issuer\'s discovery document'),
        field('Clock skew', clockSkew, 'optional, seconds from 0 to 600; default 60')),
      el('button', { type: 'submit' }, 'Add trusted issuer')),
  );
}
