// The web portal in headless chromium, against the credgate binary and the identity provider
// and backend of testenv/. The test signs in with the admin key, creates a provider from the
// catalogue and a connection, and signs the connection in through its login link. It adds an
// access policy, an API and an operation, saves a policy that does not compile and one that
// does, adds the trusted issuer of the callers, and sends a request through the test console. Screenshots go to
// .test-output/e2e/portal-screenshots/, or to the folder CREDGATE_PORTAL_SCREENSHOTS names:
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/portal.test.mjs
//   CREDGATE_PORTAL_SCREENSHOTS=docs/portal node --test tests/e2e/portal.test.mjs  # for the docs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Browser } from './lib/browser.mjs';
import {
  authorizationPolicy,
  credgateBinaryExists,
  Credgate,
  kAdminKey,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, kRepoRoot, startNodeServer, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { callerToken, fetchJson, kCallers } from './lib/tokens.mjs';

const kBackendClientId = 'credgate-portal';
const kBackendClientSecret = 'portal-backend-client-secret-5e1b7c3a9d2f4068';
const kScreenshotDir = process.env.CREDGATE_PORTAL_SCREENSHOTS
  ? resolve(kRepoRoot, process.env.CREDGATE_PORTAL_SCREENSHOTS)
  : join(kOutputDir, 'portal-screenshots');
const kViewport = { width: 1100, height: 720 };

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

describe('portal', { skip, timeout: 240000 }, () => {
  let idp;
  let backend;
  let credgate;
  let dataDir;
  let browser;
  let context;
  let page;
  let callerJwt;
  // The HTML of every page the portal showed, checked for secrets at the end.
  const pages = [];

  before(async () => {
    const [idpPort, oauthPort, apiPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 5 }, freePort),
    );
    mkdirSync(kOutputDir, { recursive: true });
    mkdirSync(kScreenshotDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'portal-data-'));
    recordSecrets('client secret', [kBackendClientSecret]);
    [, idp] = await startNodeServer('portal-idp', 'idp.mjs', ['--port', String(idpPort)]);
    [, backend] = await startNodeServer('portal-backend', 'backend.mjs', [
      '--oauth-port', String(oauthPort),
      '--api-port', String(apiPort),
      '--client-id', kBackendClientId,
      '--client-secret', kBackendClientSecret,
      '--redirect-uri', `http://127.0.0.1:${gatewayPort}/.credgate/callback`,
    ]);
    credgate = new Credgate({ gatewayPort, managementPort, dataDir, name: 'portal-credgate' });
    await credgate.start();

    browser = await Browser.launch();
    context = (await browser.newContext()).context;
    page = await context.newPage();
    await page.setViewportSize(kViewport);
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (dataDir) removeTestDir(dataDir);
  });

  async function remember() {
    pages.push(await page.content());
  }

  // Saves the visible part of the page, or all of it with `fullPage`.
  async function screenshot(name, { fullPage = false } = {}) {
    await page.screenshot({ path: join(kScreenshotDir, `${name}.png`), fullPage });
  }

  test('portal pages set a strict CSP', async () => {
    const root = await fetch(`${credgate.managementUrl}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/portal/');
    for (const path of ['/portal/', '/portal/js/app.js', '/portal/style.css']) {
      const response = await fetchJson(`${credgate.managementUrl}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-security-policy'), /^default-src 'self';/, path);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  test('sign in with the admin key', async () => {
    await page.goto(`${credgate.managementUrl}/`);
    await page.fill('#sign-in input[name="credential"]', 'cgk_wrong_key');
    await page.click('#sign-in button[type="submit"]');
    await page.locator('#sign-in .error').waitFor();
    await page.fill('#sign-in input[name="credential"]', kAdminKey);
    await page.click('#sign-in button[type="submit"]');
    await page.locator('h1', { hasText: 'Credential providers' }).waitFor();
    await remember();
  });

  test('create a provider from the catalogue', async () => {
    const form = page.locator('#provider-form');
    await form.locator('select[name="identityProvider"]').selectOption('oauth2');
    await form.locator('select[name="grantType"]').selectOption('authorizationCode');
    // The form shows exactly the parameters of the entry's grant.
    const names = await form.locator('input[data-parameter]').evaluateAll(
      (inputs) => inputs.map((input) => input.name));
    assert.deepEqual(names, [
      'clientId', 'clientSecret', 'scopes', 'authorizationUrl', 'tokenUrl', 'refreshUrl', 'issuer',
      'authorizationResponseIssParameterSupported',
    ]);
    assert.equal(await form.locator('input[name="clientSecret"]').getAttribute('type'), 'password');
    await form.locator('input[name="name"]').fill('backend');
    await form.locator('input[name="displayName"]').fill('Test backend');
    await form.locator('input[name="clientId"]').fill(kBackendClientId);
    await form.locator('input[name="clientSecret"]').fill(kBackendClientSecret);
    await form.locator('input[name="scopes"]').fill('openid profile');
    await form.locator('input[name="authorizationUrl"]').fill(backend.authorizationUrl);
    await form.locator('input[name="tokenUrl"]').fill(backend.tokenUrl);
    await form.scrollIntoViewIfNeeded();
    await screenshot('new-provider');
    await form.locator('button[type="submit"]').click();
    await page.locator('h1', { hasText: 'Test backend' }).waitFor();
    // Editing shows the stored values, but never the secret.
    const edit = page.locator('#provider-form');
    assert.equal(await edit.locator('input[name="clientId"]').inputValue(), kBackendClientId);
    assert.equal(await edit.locator('input[name="clientSecret"]').inputValue(), '');
    await remember();

    const stored = await credgate.manage('GET', '/authorizationProviders/backend');
    assert.equal(stored.json.properties.identityProvider, 'oauth2');
  });

  test('create a connection and sign it in', async () => {
    await page.fill('#connection-form input[name="connection"]', 'alice');
    await page.click('#connection-form button[type="submit"]');
    const row = page.locator('tr', { hasText: 'alice' });
    await row.locator('.status-Error').waitFor();
    assert.match(await row.innerText(), /Unauthenticated/);
    await remember();
    await screenshot('connections');

    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      page.click('button[data-login="alice"]'),
    ]);
    await popup.waitForLoadState('load');
    await signInPopup(popup, 'alice');
    assert.match(await popup.locator('body').innerText(), /signed in|connected|success/i);
    await popup.close();

    await page.reload();
    await row.locator('.status-Connected').waitFor();
    assert.equal(await page.locator('button[data-login="alice"]').innerText(), 'Re-login');
    await remember();
    await screenshot('provider');
  });

  test('add an access policy', async () => {
    await page.click('a:has-text("alice")');
    await page.locator('#access-policy-form').waitFor();
    await page.fill('#access-policy-form input[name="policyName"]', 'alice-caller');
    await page.selectOption('#access-policy-form select[name="callerKind"]', 'app');
    await page.fill('#access-policy-form input[name="tenantId"]', 'tenant-1');
    await page.fill('#access-policy-form input[name="objectId"]', kCallers['caller-alice'].oid);
    await page.click('#access-policy-form button[type="submit"]');
    await page.locator('td', { hasText: 'alice-caller' }).waitFor();
    await remember();
    await screenshot('access-policies');
  });

  test('create an API and an operation', async () => {
    await page.click('nav a:has-text("APIs")');
    await page.fill('#api-form input[name="apiName"]', 'backend');
    await page.fill('#api-form input[name="displayName"]', 'Backend API');
    await page.fill('#api-form input[name="path"]', 'backend');
    await page.fill('#api-form input[name="serviceUrl"]', backend.apiUrl);
    await page.click('#api-form button[type="submit"]');
    await page.locator('h1', { hasText: 'Backend API' }).waitFor();
    await page.fill('#operation-form input[name="operationName"]', 'whoami');
    await page.fill('#operation-form input[name="urlTemplate"]', '/whoami');
    await page.click('#operation-form button[type="submit"]');
    await page.locator('td', { hasText: '/whoami' }).waitFor();
    await remember();
  });

  test('policy editor marks compile error', async () => {
    await page.click('a:has-text("Edit the API policy")');
    const editor = page.locator('textarea[name="policy"]');
    await editor.waitFor();
    await editor.fill('<policies>\n  <inbound>\n    <no-such-statement />\n  </inbound>\n</policies>\n');
    await page.click('#save-policy');
    const error = page.locator('#policy-error');
    await error.waitFor();
    assert.match(await error.innerText(), /line 3, column \d+: unknown statement/);
    assert.equal(await page.locator('.gutter span.bad').innerText(), '3');
    await remember();
    await screenshot('policy-error');

    await editor.fill(authorizationPolicy('backend', 'alice'));
    await page.click('#save-policy');
    await page.locator('#policy-status .notice').waitFor();
    assert.equal(await page.locator('.gutter span.bad').count(), 0);
    await remember();
  });

  test('add a trusted issuer', async () => {
    await page.click('nav a:has-text("Trusted issuers")');
    const form = page.locator('#issuer-form');
    await form.locator('input[name="issuerName"]').fill('idp');
    await form.locator('input[name="issuer"]').fill(idp.issuer);
    await form.locator('input[name="audiences"]').fill('api://credgate');
    await form.locator('input[name="clockSkewSeconds"]').fill('0');
    await form.locator('button[type="submit"]').click();
    await page.locator('td', { hasText: idp.issuer }).waitFor();
    await remember();

    const stored = await credgate.manage('GET', '/trustedIssuers/idp');
    assert.deepEqual(stored.json.properties.audiences, ['api://credgate']);
    assert.equal(stored.json.properties.clockSkewSeconds, 0);
  });

  test('test console shows trace', async () => {
    callerJwt = await callerToken(idp.issuer, 'caller-alice');
    recordSecrets('caller token', [callerJwt]);
    await page.click('nav a:has-text("Test console")');
    const form = page.locator('#console-form');
    await form.waitFor();
    // The only API is selected, and choosing its operation fills in the method and the path.
    assert.equal(await form.locator('select[name="api"]').inputValue(), 'backend');
    await page.waitForFunction(
      () => document.querySelector('#console-form input[name="path"]').value === '/whoami');
    await form.locator('select[name="operation"]').selectOption('whoami');
    assert.equal(await form.locator('input[name="method"]').inputValue(), 'GET');
    await form.locator('input[name="path"]').fill('/whoami?via=console');
    await form.locator('input[name="callerToken"]').fill(callerJwt);
    await form.locator('textarea[name="headers"]').fill('Accept: application/json');
    await form.locator('button[type="submit"]').click();
    await page.locator('#console-status').waitFor();
    assert.equal(await page.locator('#console-status').innerText(), 'HTTP 200');
    const body = JSON.parse(await page.locator('#console-body').innerText());
    assert.equal(body.user, 'alice');
    assert.equal(body.query.via, 'console');
    assert.equal(body.headers['x-credgate-trace'], undefined, 'the trace header reached the backend');

    const trace = page.locator('#console-result table');
    const traceText = await trace.innerText();
    assert.match(traceText, /get-authorization-context\s+completed\s+stored the connection's token/);
    assert.match(traceText, /set-header\s+completed\s+set header 'Authorization'/);
    const backendToken = body.headers.authorization.replace(/^Bearer /, '');
    assert.equal(traceText.includes(backendToken), false, 'the trace shows the backend token');
    assert.equal(traceText.includes(callerJwt), false, 'the trace shows the caller token');
    await screenshot('test-console', { fullPage: true });
    pages.push(await trace.evaluate((node) => node.outerHTML));

    // A caller outside the access policy: the trace names the failing statement.
    await form.locator('input[name="callerToken"]').fill(await callerToken(idp.issuer, 'caller-bob'));
    await form.locator('button[type="submit"]').click();
    await page.locator('#console-status', { hasText: 'HTTP 403' }).waitFor();
    assert.match(await trace.innerText(), /get-authorization-context\s+failed\s+403/);

    const metrics = await fetchJson(`${credgate.managementUrl}/metrics`);
    assert.match(metrics.text, /credgate_management_test_requests_total\{outcome="answered"\} 2\n/);
  });

  // The test backend echoes its request headers, so the console's response body contains the
  // backend token it received; every other part of every page must contain no secret.
  test('no secret in any page', () => {
    assert.ok(pages.length >= 9, `only ${pages.length} pages were recorded`);
    for (const html of pages) {
      assert.equal(html.includes(kBackendClientSecret), false, 'a page shows the client secret');
      assert.equal(html.includes(kAdminKey), false, 'a page shows the admin key');
      assert.equal(html.includes(callerJwt), false, 'a page shows the caller token');
    }
  });
});

const kConfirmationForm = 'form[action="/.credgate/consent"]';
const kLoginForm = 'form:has(input[name="prompt"][value="login"])';
const kConsentForm = 'form:has(input[name="prompt"][value="consent"])';

// Walks the page that the login link opened: credgate's confirmation page, then the test
// provider's login and consent forms.
async function signInPopup(popup, user) {
  const submit = (selector) => Promise.all([
    popup.waitForNavigation({ waitUntil: 'load' }),
    popup.click(selector),
  ]);
  await popup.locator(kConfirmationForm).waitFor();
  await submit(`${kConfirmationForm} button[value="continue"]`);
  if ((await popup.locator(kLoginForm).count()) > 0) {
    await popup.fill('input[name="login"]', user);
    await popup.fill('input[name="password"]', 'any');
    await submit(`${kLoginForm} button[type="submit"]`);
  }
  if ((await popup.locator(kConsentForm).count()) > 0) {
    await submit(`${kConsentForm} button[type="submit"]`);
  }
}
