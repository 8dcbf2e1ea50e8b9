// The portal's entry point: the sign-in form and the routes of the hash URL.

import {
  ApiError,
  clearCredential,
  clearSession,
  credential,
  endSession,
  hasSession,
  loadSessionStatus,
  setCredential,
} from './api.js';
import { el, field, message, render } from './dom.js';
import { showConnection } from './access_policies.js';
import { showApi, showApis } from './apis.js';
import { showConsole } from './console.js';
import { showIssuers } from './issuers.js';
import { showPolicyEditor } from './policy_editor.js';
import { showProvider, showProviders } from './providers.js';

// Each route is a pattern of the hash path and the function that renders it.
const kRoutes = [
  [/^\/providers$/, () => showProviders()],
  [/^\/providers\/([^/]+)$/, (p) => showProvider(p)],
  [/^\/providers\/([^/]+)\/connections\/([^/]+)$/, (p, c) => showConnection(p, c)],
  [/^\/issuers$/, () => showIssuers()],
  [/^\/apis$/, () => showApis()],
  [/^\/apis\/([^/]+)$/, (a) => showApi(a)],
  [/^\/policy\/global$/, () => showPolicyEditor('', 'global', { href: '#/apis', text: 'APIs' })],
  [/^\/policy\/apis\/([^/]+)$/, (a) => showPolicyEditor(
    `/apis/${encodeURIComponent(a)}`, `API ${a}`, { href: `#/apis/${encodeURIComponent(a)}`, text: a })],
  [/^\/policy\/apis\/([^/]+)\/operations\/([^/]+)$/, (a, o) => showPolicyEditor(
    `/apis/${encodeURIComponent(a)}/operations/${encodeURIComponent(o)}`, `operation ${a}/${o}`,
    { href: `#/apis/${encodeURIComponent(a)}`, text: a })],
  [/^\/console$/, () => showConsole()],
];

// Whether the server offers OpenID Connect sign-in, read once when the page loads.
let oidcConfigured = false;

function showSignIn(problem) {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  const input = el('input', { type: 'password', name: 'credential', autocomplete: 'off', required: true });
  // A plain link: the server redirects the browser to the identity provider and back.
  const oidc = oidcConfigured
    ? el('p', {},
      el('a', { className: 'button', id: 'oidc-sign-in', href: '/portal/oidc/start' },
        'Sign in with OpenID Connect'))
    : null;
  render(
    el('form', { className: 'panel', id: 'sign-in', onsubmit: async (event) => {
      event.preventDefault();
      setCredential(input.value.trim());
      await route();
    } },
      el('h1', {}, 'Sign in'),
      oidc,
      field('Admin key or administrator JWT', input, 'kept in this tab until it closes'),
      el('button', { type: 'submit' }, 'Sign in'),
      problem ? message(problem) : null),
  );
  input.focus();
}

async function route() {
  if (!credential() && !hasSession()) {
    showSignIn();
    return;
  }
  const hash = location.hash.replace(/^#/, '') || '/providers';
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  for (const link of document.querySelectorAll('#nav a')) {
    link.classList.toggle('current', hash.startsWith(link.getAttribute('href').slice(1)));
  }
  const match = kRoutes
    .map(([pattern, show]) => [pattern.exec(hash), show])
    .find(([found]) => found);
  try {
    if (!match) {
      render(message(`No page at ${hash}.`));
      return;
    }
    const [found, show] = match;
    await show(...found.slice(1).map(decodeURIComponent));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      clearCredential();
      clearSession();
      showSignIn(error.message);
      return;
    }
    render(message(error.message));
  }
}

document.getElementById('sign-out').addEventListener('click', async () => {
  clearCredential();
  await endSession();
  location.hash = '';
  showSignIn();
});
window.addEventListener('hashchange', route);
loadSessionStatus().then((status) => {
  oidcConfigured = status.configured === true;
  route();
});

