// The portal's "Sign in with OpenID Connect" in headless chromium, against the credgate binary
// and the administrators' OpenID provider of testenv/admin_idp.mjs (a public client with PKCE).
// An administrator clicks the button, signs in and lands on the provider list without any token
// in the URL or in sessionStorage. A session call needs its CSRF token, and sign-out ends the
// session. A user without a role, a cancelled sign-in and a tampered state each end on an error
// page that /metrics counts.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/portal_oidc.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Browser } from './lib/browser.mjs';
import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { freePort, kOutputDir, startNodeServer, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { fetchJson } from './lib/tokens.mjs';

const kClientId = 'credgate-portal';
const kLoginForm = 'form:has(input[name="prompt"][value="login"])';
const kConsentForm = 'form:has(input[name="prompt"][value="consent"])';
const kCancelLink = 'a:has-text("[ Cancel ]")';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

describe('portal OpenID Connect sign-in', { skip, timeout: 180000 }, () => {
  let idp;
  let credgate;
  let dataDir;
  let browser;

  before(async () => {
    const [idpPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 3 }, freePort),
    );
    mkdirSync(kOutputDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'portal-oidc-data-'));
    const redirectUrl = `http://127.0.0.1:${managementPort}/portal/oidc/callback`;
    [, idp] = await startNodeServer('portal-oidc-idp', 'admin_idp.mjs', [
      '--port', String(idpPort),
      '--client-id', kClientId,
      '--redirect-uri', redirectUrl,
    ]);
    credgate = new Credgate({
      gatewayPort,
      managementPort,
      dataDir,
      name: 'portal-oidc-credgate',
      extraArgs: [
        '--admin-jwt-issuer', idp.issuer,
        '--admin-jwt-audience', kClientId,
        '--admin-jwt-jwks-uri', `${idp.issuer}/jwks`,
        '--admin-jwt-portal-client-id', kClientId,
        '--admin-jwt-portal-redirect-url', redirectUrl,
      ],
    });
    await credgate.start();
    const stored = await credgate.manage('PUT', '/authorizationProviders/backend', {
      properties: {
        displayName: 'Signed-in backend',
        identityProvider: 'oauth2',
        oauth2: {
          grantTypes: {
            authorizationCode: {
              clientId: 'backend-client',
              clientSecret: 'portal-oidc-backend-secret-3b9e',
              scopes: 'read',
              authorizationUrl: `http://127.0.0.1:${idpPort}/auth`,
              tokenUrl: `http://127.0.0.1:${idpPort}/token`,
            },
          },
        },
      },
    });
    assert.ok(stored.status === 200 || stored.status === 201, stored.text);
    recordSecrets('client secret', ['portal-oidc-backend-secret-3b9e']);
    browser = await Browser.launch();
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (dataDir) removeTestDir(dataDir);
  });

  // Opens the portal in a new context, clicks "Sign in with OpenID Connect" and signs in at the
  // provider as `user`. With `cancel`, leaves the consent page through "[ Cancel ]". Returns
  // {context, page, response} with the page left on the outcome.
  async function signIn(user, { cancel = false } = {}) {
    const { context } = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${credgate.managementUrl}/portal/`);
    await page.locator('#oidc-sign-in').waitFor();
    let [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click('#oidc-sign-in'),
    ]);
    await page.fill('input[name="login"]', user);
    await page.fill('input[name="password"]', 'any');
    [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.click(`${kLoginForm} button[type="submit"]`),
    ]);
    if ((await page.locator(kConsentForm).count()) > 0) {
      const selector = cancel ? kCancelLink : `${kConsentForm} button[type="submit"]`;
      [response] = await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.click(selector),
      ]);
    }
    return { context, page, response };
  }

  async function sessionCookie(context) {
    const cookies = await context.cookies(credgate.managementUrl);
    return cookies.find((cookie) => cookie.name === 'credgate_portal_session');
  }

  async function signInCount(outcome) {
    const metrics = await (await fetch(`${credgate.managementUrl}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find((l) => l.startsWith(`credgate_portal_oidc_sign_ins_total{outcome="${outcome}"}`));
    return line === undefined ? undefined : Number(line.split(' ').pop());
  }

  test('session status says sign-in is configured', async () => {
    const status = await fetchJson(`${credgate.managementUrl}/portal/oidc/session`);
    assert.equal(status.status, 200);
    assert.deepEqual(status.json, { configured: true, signedIn: false });
  });

  test('administrator signs in and sees providers', async () => {
    const { context, page } = await signIn('alice');
    try {
      await page.locator('h1', { hasText: 'Credential providers' }).waitFor();
      await page.locator('td', { hasText: 'Signed-in backend' }).waitFor();
      assert.equal(new URL(page.url()).search, '', 'no query string after the callback');
      assert.equal(await page.evaluate(() => sessionStorage.length), 0);
      const html = await page.content();
      assert.doesNotMatch(html, /eyJ[\w-]+\.eyJ/, 'no JWT in the page');

      const cookie = await sessionCookie(context);
      assert.ok(cookie, 'session cookie set');
      recordSecrets('portal session id', [cookie.value]);
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, 'Strict');
      assert.equal(cookie.path, '/');
      assert.equal(await signInCount('signed_in'), 1);
    } finally {
      await context.close();
    }
  });

  test('session calls need the CSRF token', async () => {
    const { context, page } = await signIn('alice');
    try {
      await page.locator('h1', { hasText: 'Credential providers' }).waitFor();
      const cookie = `credgate_portal_session=${(await sessionCookie(context)).value}`;
      const status = await fetchJson(`${credgate.managementUrl}/portal/oidc/session`, {
        headers: { cookie },
      });
      assert.equal(status.json.signedIn, true);
      assert.equal(status.json.principal, 'alice');
      recordSecrets('portal CSRF token', [status.json.csrfToken]);

      const withoutToken = await fetchJson(`${credgate.managementUrl}/authorizationProviders`, {
        headers: { cookie },
      });
      assert.equal(withoutToken.status, 403);
      assert.match(withoutToken.json.error.message, /X-CSRF-Token/);
      const withToken = await fetchJson(`${credgate.managementUrl}/authorizationProviders`, {
        headers: { cookie, 'x-csrf-token': status.json.csrfToken },
      });
      assert.equal(withToken.status, 200);
      assert.equal(withToken.json.value[0].name, 'backend');

      await page.click('#sign-out');
      await page.locator('#oidc-sign-in').waitFor();
      const afterSignOut = await fetchJson(`${credgate.managementUrl}/authorizationProviders`, {
        headers: { cookie, 'x-csrf-token': status.json.csrfToken },
      });
      assert.equal(afterSignOut.status, 401);
    } finally {
      await context.close();
    }
  });

  test('user without a role is refused', async () => {
    const { context, page, response } = await signIn('nora');
    try {
      assert.equal(response.status(), 403);
      const text = await page.locator('body').innerText();
      assert.match(text, /no credgate role/);
      assert.match(text, /reader, operator or admin/);
      assert.equal(await sessionCookie(context), undefined);
      assert.equal(await signInCount('forbidden'), 1);
    } finally {
      await context.close();
    }
  });

  test('cancelled sign-in shows access_denied', async () => {
    const { context, page, response } = await signIn('alice', { cancel: true });
    try {
      assert.equal(response.status(), 403);
      assert.match(await page.locator('body').innerText(), /access_denied/);
      assert.equal(await signInCount('provider_error'), 1);
    } finally {
      await context.close();
    }
  });

  test('tampered state is refused', async () => {
    const { context } = await browser.newContext();
    try {
      const start = await context.request.fetch(`${credgate.managementUrl}/portal/oidc/start`, {
        maxRedirects: 0,
      });
      assert.equal(start.status(), 302);
      const state = new URL(start.headers().location).searchParams.get('state');
      assert.ok(state);
      const page = await context.newPage();
      const response = await page.goto(
        `${credgate.managementUrl}/portal/oidc/callback?code=made-up&state=${state}x`,
      );
      assert.equal(response.status(), 400);
      assert.match(await page.locator('body').innerText(), /sign-in request is unknown/);
      assert.equal(await signInCount('invalid_state'), 1);
      assert.equal(await signInCount('exchange_failed'), 0);
    } finally {
      await context.close();
    }
  });
});
