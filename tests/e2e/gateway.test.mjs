// End-to-end cases of the gateway's policies and of failed sign-ins, through the credgate binary
// with the real identity provider, backend OAuth server and API of testenv/, and headless
// chromium. One credgate and one set of servers serve every case. Each case calls its own
// operation of the API "cases", whose operation policy contains the statements under test.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/gateway.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Browser } from './lib/browser.mjs';
import {
  authorizationPolicy,
  confirmationFields,
  continueLoginLink,
  credgateBinaryExists,
  Credgate,
  kAdminKey,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, startNodeServer, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import {
  callerToken,
  decodeJwt,
  fetchJson,
  kCallers,
  signWithForeignKey,
  sleep,
} from './lib/tokens.mjs';

const kBackendClientId = 'credgate-gateway-e2e';
const kBackendClientSecret = 'gateway-e2e-backend-client-secret-6b1e8f3a9c2d7e40';
// Short, so that the connection whose refresh URL is closed runs out of tokens within the run.
const kBackendTokenTtlSeconds = 4;
const kTenant = 'tenant-1';
const kManagedIdentityObjectId = '99999999-9999-4999-8999-999999999999';
const kAliceOid = kCallers['caller-alice'].oid;
const kBobOid = kCallers['caller-bob'].oid;

const kProvider = 'backend';
// Same backend, but refreshes go to a closed loopback port.
const kUnreachableProvider = 'backend-down';
// Same backend with its issuer set and iss required (RFC 9207), and with another server's issuer.
const kIssuerProvider = 'backend-iss';
const kWrongIssuerProvider = 'backend-wrong-iss';

// The identity attribute of the README's example: the caller's bearer token.
const kIdentityFromHeader =
  'identity="@(context.Request.Headers.GetValueOrDefault(&quot;Authorization&quot;,&quot;&quot;)' +
  '.Replace(&quot;Bearer &quot;,&quot;&quot;))"';
const kSetBackendToken = `<set-header name="Authorization" exists-action="override">
    <value>@("Bearer " + ((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
  </set-header>`;

function getAuthorizationContext(providerId, authorizationId, options = {}) {
  const { identityType = 'jwt', ignoreError = false } = options;
  const identity = identityType === 'jwt' ? kIdentityFromHeader : '';
  return `<get-authorization-context provider-id="${providerId}" authorization-id="${authorizationId}"
    context-variable-name="auth-context" identity-type="${identityType}" ${identity}
    ignore-error="${ignoreError}"/>`;
}

// Returns a policy document. Without `onError` it has no on-error section at all.
function policyDocument({ inbound, outbound = '', onError }) {
  const onErrorSection = onError === undefined ? '' : `<on-error><base/>${onError}</on-error>`;
  return `<policies><inbound><base/>${inbound}</inbound><backend><base/></backend>
<outbound><base/>${outbound}</outbound>${onErrorSection}</policies>`;
}

// A strict lookup (ignore-error="false", no on-error) that forwards with the backend token.
function strictPolicy(providerId, authorizationId, options) {
  return policyDocument({
    inbound: getAuthorizationContext(providerId, authorizationId, options) + kSetBackendToken,
  });
}

// The operations of the API "cases", by operation id. Each forwards GET /cases/{id} to the
// backend's /{id}. Header names in the policies differ in case from those the tests send,
// because header names are case-insensitive (RFC 9110 §5.1).
const kOperationPolicies = {
  alice: authorizationPolicy(kProvider, 'alice'),
  scoped: strictPolicy(kProvider, 'scoped'),
  'unknown-provider': strictPolicy('no-such-provider', 'alice'),
  'unknown-authorization': strictPolicy(kProvider, 'no-such-authorization'),
  'not-connected': strictPolicy(kProvider, 'pending'),
  denied: strictPolicy(kProvider, 'denied'),
  'provider-error': strictPolicy(kProvider, 'provider-error'),
  unreachable: strictPolicy(kUnreachableProvider, 'alice'),
  managed: strictPolicy(kProvider, 'alice', { identityType: 'managed' }),
  'managed-denied': strictPolicy(kProvider, 'pending', { identityType: 'managed' }),

  'on-error-response': policyDocument({
    inbound: getAuthorizationContext(kProvider, 'alice') + kSetBackendToken,
    onError: `<return-response>
      <set-status code="418" reason="Handled"/>
      <set-header name="x-error-source" exists-action="override"><value>@(context.LastError.Source)</value></set-header>
      <set-header name="x-error-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
      <set-header name="x-error-section" exists-action="override"><value>@(context.LastError.Section)</value></set-header>
      <set-header name="x-error-scope" exists-action="override"><value>@(context.LastError.Scope)</value></set-header>
      <set-body>@("handled: " + context.LastError.Message)</set-body>
    </return-response>`,
  }),
  'on-error-header': policyDocument({
    inbound: getAuthorizationContext(kProvider, 'alice') + kSetBackendToken,
    onError: `<set-header name="x-error-reason" exists-action="override">
      <value>@(context.LastError.Reason)</value></set-header>`,
  }),
  'ignore-error': policyDocument({
    inbound: `${getAuthorizationContext(kProvider, 'alice', { ignoreError: true })}
  <choose>
    <when condition='@(context.Variables.GetValueOrDefault("auth-context") == null)'>
      <return-response>
        <set-status code="200" reason="OK"/>
        <set-header name="x-auth-context" exists-action="override"><value>null</value></set-header>
        <set-body>no authorization context</set-body>
      </return-response>
    </when>
  </choose>
  ${kSetBackendToken}`,
  }),

  // The backend token goes into another header, so only the caller's JWT could reach the
  // backend in Authorization.
  'caller-token-kept': policyDocument({
    inbound: `${getAuthorizationContext(kProvider, 'alice')}
  <set-header name="x-backend-token" exists-action="override">
    <value>@(((Authorization)context.Variables.GetValueOrDefault("auth-context"))?.AccessToken)</value>
  </set-header>`,
  }),
  // The policy itself sets Authorization to the caller's own header value.
  'caller-token-forwarded': policyDocument({
    inbound: `${getAuthorizationContext(kProvider, 'alice')}
  <set-header name="Authorization" exists-action="override">
    <value>@(context.Request.Headers.GetValueOrDefault("Authorization", ""))</value>
  </set-header>`,
  }),
  headers: policyDocument({
    inbound: `${getAuthorizationContext(kProvider, 'alice')}${kSetBackendToken}
  <set-header name="X-Override" exists-action="override"><value>policy</value></set-header>
  <set-header name="X-Skip" exists-action="skip"><value>policy</value></set-header>
  <set-header name="x-skip-absent" exists-action="skip"><value>policy</value></set-header>
  <set-header name="X-Append" exists-action="append"><value>second</value><value>third</value></set-header>
  <set-header name="X-Delete" exists-action="delete"/>
  <set-header name="x-values"><value>one</value><value>two</value></set-header>
  <set-variable name="caller-name" value='@(context.Request.Headers.GetValueOrDefault("X-Caller-Name", "nobody"))'/>
  <set-header name="x-greeting" exists-action="override">
    <value>@("hello " + (string)context.Variables["caller-name"])</value>
  </set-header>`,
    outbound: `<set-header name="x-outbound" exists-action="override"><value>added</value></set-header>
  <set-header name="x-backend-status" exists-action="override">
    <value>@(context.Response.StatusCode.ToString())</value>
  </set-header>
  <set-header name="Content-Type" exists-action="delete"/>`,
  }),
  choose: policyDocument({
    inbound: `<choose>
    <when condition='@(context.Request.Headers.GetValueOrDefault("x-mode", "") == "teapot")'>
      <return-response>
        <set-status code="418" reason="I'm a teapot"/>
        <set-header name="content-type" exists-action="override"><value>application/json</value></set-header>
        <set-header name="x-branch" exists-action="override"><value>teapot</value></set-header>
        <set-body>@("{\\"mode\\":\\"" + context.Request.Headers.GetValueOrDefault("x-mode", "") + "\\"}")</set-body>
      </return-response>
    </when>
    <when condition='@(context.Request.Headers.GetValueOrDefault("x-mode", "") == "forward")'>
      <set-variable name="branch" value="forward"/>
    </when>
    <otherwise>
      <set-variable name="branch" value="otherwise"/>
    </otherwise>
  </choose>
  ${getAuthorizationContext(kProvider, 'alice')}${kSetBackendToken}
  <set-header name="x-branch" exists-action="override"><value>@((string)context.Variables["branch"])</value></set-header>`,
  }),
};

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

describe('gateway', { skip, timeout: 120000 }, () => {
  let idp;
  let backend;
  let credgate;
  let browser;
  let dataDir;
  let unreachableSignedInAt = 0;
  // Values that must never appear in credgate's output, by kind.
  const secrets = new Map([
    ['client secret', new Set([kBackendClientSecret])],
    ['admin key', new Set([kAdminKey])],
    ['caller JWT', new Set()],
    ['login link token', new Set()],
    ['login binding cookie', new Set()],
    ['authorization code', new Set()],
    ['consent code', new Set()],
    ['confirmation form token', new Set()],
  ]);
  // The login link of each connection signed in by before(), by connection id.
  const usedLoginLinks = {};
  // The allow-listed post-login page: any path of the backend API, which the browser only loads.
  let landingUrl;

  before(async () => {
    const [idpPort, oauthPort, apiPort, gatewayPort, managementPort, closedPort] =
      await Promise.all(Array.from({ length: 6 }, freePort));
    // The output folder exists only once a child process has started.
    mkdirSync(kOutputDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'gateway-data-'));
    const configFile = join(dataDir, 'credgate.yaml');
    writeFileSync(
      configFile,
      [
        'logLevel: debug',
        'managedIdentity:',
        `  tenantId: ${kTenant}`,
        `  objectId: ${kManagedIdentityObjectId}`,
        '',
      ].join('\n'),
    );

    [[, idp], [, backend]] = await Promise.all([
      startNodeServer('gateway-idp', 'idp.mjs', ['--port', String(idpPort)]),
      startNodeServer('gateway-backend', 'backend.mjs', [
        '--oauth-port', String(oauthPort),
        '--api-port', String(apiPort),
        '--client-id', kBackendClientId,
        '--client-secret', kBackendClientSecret,
        '--redirect-uri', `http://127.0.0.1:${gatewayPort}/.credgate/callback`,
        '--access-token-ttl', String(kBackendTokenTtlSeconds),
      ]),
    ]);
    landingUrl = `http://127.0.0.1:${apiPort}/landing`;
    credgate = new Credgate({
      gatewayPort,
      managementPort,
      dataDir,
      postLoginRedirects: [landingUrl],
      configFile,
      name: 'gateway-credgate',
    });
    const [launched] = await Promise.all([Browser.launch(), credgate.start()]);
    browser = launched;

    await configure(`http://127.0.0.1:${closedPort}/token`);

    // The connections that the cases need signed in, each in its own browser context.
    const connections = [
      [kProvider, 'alice'],
      [kProvider, 'scoped'],
      [kUnreachableProvider, 'alice'],
    ];
    await Promise.all(
      connections.map(async ([providerId, authorizationId]) => {
        const link = await loginLink(providerId, authorizationId);
        const context = await browser.newContext();
        const page = await context.signIn(link, { user: 'alice' });
        await context.close();
        assert.equal(page.status, 200, `${providerId}/${authorizationId}: ${page.url}\n${page.text}`);
        assert.match(page.text, /is connected/);
        if (providerId === kUnreachableProvider) unreachableSignedInAt = Date.now();
        else usedLoginLinks[authorizationId] = link;
      }),
    );
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (dataDir) removeTestDir(dataDir);
  });

  // Asserts a 2xx management response and returns its JSON body.
  async function manage(method, path, body) {
    const response = await credgate.manage(method, path, body);
    assert.ok(
      response.status >= 200 && response.status < 300,
      `${method} ${path} returned ${response.status}: ${response.text}`,
    );
    return response.json;
  }

  function connectionPath(providerId, authorizationId) {
    return `/authorizationProviders/${providerId}/authorizations/${authorizationId}`;
  }

  async function putProvider(providerId, refreshUrl, extra = {}) {
    await manage('PUT', `/authorizationProviders/${providerId}`, {
      properties: {
        identityProvider: 'oauth2pkce',
        oauth2: {
          grantTypes: {
            authorizationCode: {
              clientId: kBackendClientId,
              clientSecret: kBackendClientSecret,
              scopes: 'openid profile',
              authorizationUrl: backend.authorizationUrl,
              tokenUrl: backend.tokenUrl,
              refreshUrl,
              ...extra,
            },
          },
        },
      },
    });
  }

  async function putConnection(providerId, authorizationId, accessPolicies) {
    const path = connectionPath(providerId, authorizationId);
    await manage('PUT', path, {
      properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
    });
    for (const [policyId, properties] of Object.entries(accessPolicies)) {
      await manage('PUT', `${path}/accessPolicies/${policyId}`, { properties });
    }
  }

  // Replaces every access policy of `authorizationId` under the main provider.
  async function replaceAccessPolicies(authorizationId, accessPolicies) {
    const path = connectionPath(kProvider, authorizationId);
    const current = await manage('GET', `${path}/accessPolicies`);
    for (const policy of current.value) {
      await manage('DELETE', `${path}/accessPolicies/${policy.name}`);
    }
    for (const [policyId, properties] of Object.entries(accessPolicies)) {
      await manage('PUT', `${path}/accessPolicies/${policyId}`, { properties });
    }
  }

  async function configure(closedTokenUrl) {
    await manage('PUT', '/trustedIssuers/idp', {
      properties: { issuer: idp.issuer, audiences: ['api://credgate'], clockSkewSeconds: 30 },
    });
    await putProvider(kProvider, backend.tokenUrl);
    await putProvider(kUnreachableProvider, closedTokenUrl);
    await putProvider(kIssuerProvider, backend.tokenUrl, {
      issuer: backend.issuer,
      authorizationResponseIssParameterSupported: 'true',
    });
    // A loopback issuer that is not the backend's, as after a mix-up.
    await putProvider(kWrongIssuerProvider, backend.tokenUrl, { issuer: idp.issuer });

    const alicePolicy = { tenantId: kTenant, objectId: kAliceOid };
    await putConnection(kProvider, 'alice', {
      'alice-caller': alicePolicy,
      gateway: { tenantId: kTenant, objectId: kManagedIdentityObjectId },
    });
    await putConnection(kProvider, 'scoped', { 'alice-caller': alicePolicy });
    await putConnection(kProvider, 'pending', { 'alice-caller': alicePolicy });
    await putConnection(kProvider, 'denied', { 'alice-caller': alicePolicy });
    await putConnection(kProvider, 'tampered', { 'alice-caller': alicePolicy });
    await putConnection(kProvider, 'provider-error', { 'alice-caller': alicePolicy });
    await putConnection(kProvider, 'bad-code', { 'alice-caller': alicePolicy });
    await putConnection(kProvider, 'held', { 'alice-caller': alicePolicy });
    await putConnection(kUnreachableProvider, 'alice', { 'alice-caller': alicePolicy });
    for (const id of ['cancelled', 'forged-form', 'confirmed', 'other']) {
      await putConnection(kProvider, id, { 'alice-caller': alicePolicy });
    }
    for (const id of ['alice', 'forged-iss', 'missing-iss']) {
      await putConnection(kIssuerProvider, id, { 'alice-caller': alicePolicy });
    }
    await putConnection(kWrongIssuerProvider, 'alice', { 'alice-caller': alicePolicy });

    // An API whose backend is a closed port, for failures of the backend call itself.
    const closedOrigin = new URL(closedTokenUrl).origin;
    await manage('PUT', '/apis/down', {
      properties: { displayName: 'Down', path: 'down', serviceUrl: closedOrigin },
    });
    await manage('PUT', '/apis/down/operations/handled', {
      properties: { method: 'GET', urlTemplate: '/handled' },
    });
    await manage('PUT', '/apis/down/operations/handled/policies/policy', {
      properties: {
        format: 'rawxml',
        value: policyDocument({
          inbound: '',
          onError: `<return-response>
      <set-status code="503" reason="Backend Down"/>
      <set-header name="x-error-source" exists-action="override"><value>@(context.LastError.Source)</value></set-header>
      <set-header name="x-error-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
      <set-header name="x-error-section" exists-action="override"><value>@(context.LastError.Section)</value></set-header>
      <set-body>@("handled: " + context.LastError.Message)</set-body>
    </return-response>`,
        }),
      },
    });
    await manage('PUT', '/apis/down/operations/plain', {
      properties: { method: 'GET', urlTemplate: '/plain' },
    });

    await manage('PUT', '/apis/cases', {
      properties: { displayName: 'Cases', path: 'cases', serviceUrl: backend.apiUrl },
    });
    for (const [operationId, policy] of Object.entries(kOperationPolicies)) {
      await manage('PUT', `/apis/cases/operations/${operationId}`, {
        properties: { method: 'GET', urlTemplate: `/${operationId}` },
      });
      await manage('PUT', `/apis/cases/operations/${operationId}/policies/policy`, {
        properties: { format: 'rawxml', value: policy },
      });
    }
  }

  async function loginLink(providerId, authorizationId, body = {}) {
    const { loginLink: link } = await manage(
      'POST',
      `${connectionPath(providerId, authorizationId)}/getLoginLinks`,
      body,
    );
    secrets.get('login link token').add(link.split('/').pop());
    return link;
  }

  // Opens `link` without a browser and submits Continue on credgate's confirmation page.
  // Returns {state, cookie, page}: the state of the redirect to the provider, the login cookie
  // ("name=value") and the confirmation page's response.
  async function startLogin(link) {
    const { page, consentCookie, fields, start, state, cookie } = await continueLoginLink(
      credgate.gatewayUrl,
      link,
    );
    assert.match(consentCookie ?? '', /^credgate_consent_[0-9a-f]+=\S+$/);
    secrets.get('login binding cookie').add(consentCookie.split('=')[1]);
    secrets.get('confirmation form token').add(fields.form_token);
    assert.equal(start.status, 303, start.text);
    assert.ok(state, 'the authorization redirect has no state');
    assert.match(cookie ?? '', /^credgate_login_[0-9a-f]+=\S+$/);
    secrets.get('login binding cookie').add(cookie.split('=')[1]);
    return { state, cookie, page };
  }

  async function token(clientId) {
    const jwt = await callerToken(idp.issuer, clientId);
    secrets.get('caller JWT').add(jwt);
    return jwt;
  }

  // Calls GET /cases/{operationId} with `callerJwt` as the bearer token (none when undefined)
  // and the extra request `headers`.
  function call(operationId, callerJwt, headers = {}) {
    const all = { ...headers };
    if (callerJwt !== undefined) all.authorization = `Bearer ${callerJwt}`;
    return fetchJson(`${credgate.gatewayUrl}/cases/${operationId}`, { headers: all });
  }

  async function backendRequests() {
    const { apiRequests } = (await fetchJson(`${backend.apiUrl}/stats`)).json;
    return apiRequests.authorized + apiRequests.unauthorized;
  }

  async function tokenRequests(grantType) {
    const { tokenRequests: counts } = (await fetchJson(`${backend.apiUrl}/stats`)).json;
    return counts[grantType] ?? 0;
  }

  // Asserts the gateway's error body {"statusCode","message"} with `status`.
  function assertJsonError(response, status) {
    assert.equal(response.status, status, response.text);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(Object.keys(response.json ?? {}).sort(), ['message', 'statusCode']);
    assert.equal(response.json.statusCode, status);
    assert.equal(typeof response.json.message, 'string');
    assert.notEqual(response.json.message, '');
  }

  async function connectionStatus(providerId, authorizationId) {
    return (await manage('GET', connectionPath(providerId, authorizationId))).properties;
  }

  describe('strict get-authorization-context', () => {
    test('policy caller reaches backend', async () => {
      const response = await call('alice', await token('caller-alice'));
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.user, 'alice');
      assert.equal(response.json.path, '/alice');
    });

    test('missing identity token gets 401', async () => {
      const before = await backendRequests();
      assertJsonError(await call('alice', undefined), 401);
      assert.equal(await backendRequests(), before);
    });

    test('malformed identity token gets 401', async () => {
      const response = await call('alice', 'not-a-jwt');
      assertJsonError(response, 401);
      assert.match(response.json.message, /invalid identity token/);
    });

    test('foreign-key identity token gets 401', async () => {
      const { payload } = decodeJwt(await token('caller-alice'));
      const forged = signWithForeignKey(payload);
      secrets.get('caller JWT').add(forged);
      assertJsonError(await call('alice', forged), 401);
    });

    test('caller outside access policy gets 403', async () => {
      const before = await backendRequests();
      const response = await call('alice', await token('caller-bob'));
      assertJsonError(response, 403);
      assert.match(response.json.message, new RegExp(kBobOid));
      assert.equal(await backendRequests(), before);
    });

    test('unknown provider gets 404', async () => {
      const response = await call('unknown-provider', await token('caller-alice'));
      assertJsonError(response, 404);
      assert.match(response.json.message, /no-such-provider/);
    });

    test('unknown authorization gets 404', async () => {
      const response = await call('unknown-authorization', await token('caller-alice'));
      assertJsonError(response, 404);
      assert.match(response.json.message, /no-such-authorization/);
    });

    test('connection never signed in gets 503', async () => {
      const response = await call('not-connected', await token('caller-alice'));
      assertJsonError(response, 503);
      assert.match(response.json.message, /not connected/);
    });
  });

  describe('error handling', () => {
    test('on-error return-response sees LastError', async () => {
      const before = await backendRequests();
      const callerJwt = await token('caller-bob');
      const response = await call('on-error-response', callerJwt);
      assert.equal(response.status, 418, response.text);
      assert.equal(response.headers.get('x-error-scope'), 'operation');
      assert.equal(response.headers.get('x-error-source'), 'get-authorization-context');
      assert.equal(response.headers.get('x-error-reason'), 'AccessDenied');
      assert.equal(response.headers.get('x-error-section'), 'inbound');
      assert.match(response.text, /^handled: .*not allowed by any access policy/);
      assert.equal(await backendRequests(), before);

      const raw = await fetch(`${credgate.gatewayUrl}/cases/on-error-response`, {
        headers: { authorization: `Bearer ${callerJwt}` },
      });
      await raw.arrayBuffer();
      assert.equal(raw.statusText, 'Handled');
    });

    test('backend failure runs on-error', async () => {
      const response = await fetchJson(`${credgate.gatewayUrl}/down/handled`);
      assert.equal(response.status, 503, response.text);
      assert.equal(response.headers.get('x-error-source'), 'forward-request');
      assert.equal(response.headers.get('x-error-reason'), 'BackendConnectionFailure');
      assert.equal(response.headers.get('x-error-section'), 'backend');
      assert.equal(response.text, 'handled: The backend could not be reached');
    });

    test('backend failure without on-error gets 502', async () => {
      const response = await fetchJson(`${credgate.gatewayUrl}/down/plain`);
      assert.equal(response.status, 502, response.text);
      assert.equal(response.json?.statusCode, 502);
      assert.equal(response.json?.message, 'The backend could not be reached');
    });

    test('on-error sees missing identity reason', async () => {
      const response = await call('on-error-response', undefined);
      assert.equal(response.status, 418, response.text);
      assert.equal(response.headers.get('x-error-reason'), 'IdentityTokenMissing');
    });

    test('on-error set-header keeps error response', async () => {
      const response = await call('on-error-header', await token('caller-bob'));
      assertJsonError(response, 403);
      assert.equal(response.headers.get('x-error-reason'), 'AccessDenied');
    });

    test('on-error is skipped on success', async () => {
      const response = await call('on-error-response', await token('caller-alice'));
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.user, 'alice');
      assert.equal(response.headers.get('x-error-reason'), null);
    });

    test('ignore-error leaves variable null', async () => {
      const before = await backendRequests();
      for (const callerJwt of [await token('caller-bob'), undefined]) {
        const response = await call('ignore-error', callerJwt);
        assert.equal(response.status, 200, response.text);
        assert.equal(response.headers.get('x-auth-context'), 'null');
        assert.equal(response.text, 'no authorization context');
      }
      assert.equal(await backendRequests(), before);
    });

    test('ignore-error passes granted context', async () => {
      const response = await call('ignore-error', await token('caller-alice'));
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.user, 'alice');
      assert.equal(response.headers.get('x-auth-context'), null);
    });
  });

  describe('identities', () => {
    test('managed identity needs no caller JWT', async () => {
      const response = await call('managed', undefined);
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.user, 'alice');
      const issued = (await fetchJson(`${backend.apiUrl}/issued-tokens`)).json;
      const sent = response.json.headers.authorization.replace(/^Bearer /, '');
      assert.ok(issued.accessTokens.includes(sent), 'the backend got no token it issued');
    });

    test('managed identity outside policy gets 403', async () => {
      const response = await call('managed-denied', undefined);
      assertJsonError(response, 403);
      assert.match(response.json.message, new RegExp(kManagedIdentityObjectId));
    });

    test('appIds without caller app gets 403', async () => {
      await replaceAccessPolicies('scoped', {
        'alice-other-app': { tenantId: kTenant, objectId: kAliceOid, appIds: ['caller-bob'] },
      });
      const response = await call('scoped', await token('caller-alice'));
      assertJsonError(response, 403);
      assert.match(response.json.message, /using app caller-alice/);
    });

    test('appIds with caller app works', async () => {
      await replaceAccessPolicies('scoped', {
        'alice-app': { tenantId: kTenant, objectId: kAliceOid, appIds: ['caller-alice'] },
      });
      const allowed = await call('scoped', await token('caller-alice'));
      assert.equal(allowed.status, 200, allowed.text);
      assert.equal(allowed.json.user, 'alice');
      // caller-shortlived has alice's object id but is another client app.
      assertJsonError(await call('scoped', await token('caller-shortlived')), 403);
    });

    test('group access policy admits member', async () => {
      await replaceAccessPolicies('scoped', {
        readers: { tenantId: kTenant, objectId: 'readers' },
      });
      const member = await call('scoped', await token('caller-alice'));
      assert.equal(member.status, 200, member.text);
      assert.equal(member.json.user, 'alice');
      assertJsonError(await call('scoped', await token('caller-bob')), 403);
    });

    test('other tenant gets 403', async () => {
      await replaceAccessPolicies('scoped', {
        'alice-elsewhere': { tenantId: 'tenant-2', objectId: kAliceOid },
      });
      assertJsonError(await call('scoped', await token('caller-alice')), 403);
    });
  });

  describe('request id', () => {
    test('responses carry x-request-id', async () => {
      const alice = await token('caller-alice');
      const responses = {
        relayed: await call('alice', alice),
        'policy error': await call('alice', undefined),
        'return-response': await call('choose', undefined, { 'x-mode': 'teapot' }),
        'no route': await fetchJson(`${credgate.gatewayUrl}/no-such-api`),
        'sign-in page': await fetchJson(`${credgate.gatewayUrl}/.credgate/login/unknown`),
      };
      for (const [kind, response] of Object.entries(responses)) {
        assert.match(response.headers.get('x-request-id') ?? '', /^\S+$/, `${kind}: no x-request-id`);
      }
    });

    test('valid incoming request id is echoed', async () => {
      const requestId = `e2e-${randomBytes(6).toString('hex')}`;
      const response = await call('alice', undefined, { 'x-request-id': requestId });
      assert.equal(response.status, 401, response.text);
      assert.equal(response.headers.get('x-request-id'), requestId);
    });
  });

  describe('policy statements', () => {
    test('set-header actions reach backend', async () => {
      const callerJwt = await token('caller-alice');
      const response = await call('headers', callerJwt, {
        'x-override': 'caller',
        'x-skip': 'caller',
        'x-append': 'first',
        'x-delete': 'caller',
        'x-caller-name': 'carol',
      });
      assert.equal(response.status, 200, response.text);
      const { headers } = response.json;
      assert.equal(headers['x-override'], 'policy');
      assert.equal(headers['x-skip'], 'caller');
      assert.equal(headers['x-skip-absent'], 'policy');
      assert.equal(headers['x-append'], 'first, second, third');
      assert.equal(headers['x-delete'], undefined);
      assert.equal(headers['x-values'], 'one, two');
      assert.equal(headers['x-greeting'], 'hello carol');
      assert.match(headers.authorization, /^Bearer \S+$/);
      assert.equal(headers.authorization.includes(callerJwt), false, 'the caller JWT reached the backend');
    });

    test('caller JWT is not forwarded', async () => {
      const response = await call('caller-token-kept', await token('caller-alice'));
      // The backend saw no Authorization header at all.
      assert.equal(response.status, 401, response.text);
      assert.equal(response.json.error, 'invalid_request', response.text);
    });

    test('policy may forward caller JWT', async () => {
      const response = await call('caller-token-forwarded', await token('caller-alice'));
      // The backend saw the caller's JWT, which is not one of its access tokens.
      assert.equal(response.status, 401, response.text);
      assert.equal(response.json.error, 'invalid_token', response.text);
    });

    test('set-variable default applies', async () => {
      const response = await call('headers', await token('caller-alice'));
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.headers['x-greeting'], 'hello nobody');
      assert.equal(response.json.headers['x-skip'], 'policy');
    });

    test('outbound set-header changes response', async () => {
      const response = await call('headers', await token('caller-alice'));
      assert.equal(response.status, 200, response.text);
      assert.equal(response.headers.get('x-outbound'), 'added');
      assert.equal(response.headers.get('x-backend-status'), '200');
      assert.equal(response.headers.get('content-type'), null);
      assert.equal(response.json.user, 'alice');
    });

    test('choose when returns response', async () => {
      const before = await backendRequests();
      const response = await call('choose', undefined, { 'x-mode': 'teapot' });
      assert.equal(response.status, 418, response.text);
      assert.equal(response.headers.get('x-branch'), 'teapot');
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(response.json, { mode: 'teapot' });
      assert.equal(await backendRequests(), before);
    });

    test('choose picks second when', async () => {
      const response = await call('choose', await token('caller-alice'), { 'x-mode': 'forward' });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.headers['x-branch'], 'forward');
    });

    test('choose falls to otherwise', async () => {
      const response = await call('choose', await token('caller-alice'), { 'x-mode': 'other' });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.headers['x-branch'], 'otherwise');
    });
  });

  describe('sign-in failures', () => {
    test('denied consent records error', async () => {
      const codeExchanges = await tokenRequests('authorization_code');
      const link = await loginLink(kProvider, 'denied');
      const context = await browser.newContext();
      const page = await context.signIn(link, { user: 'alice', consent: 'deny' });
      await context.close();
      assert.equal(page.status, 400, page.text);
      assert.ok(page.url.startsWith(`${credgate.gatewayUrl}/.credgate/callback`), page.url);
      assert.match(page.text, /Sign-in failed/);
      assert.match(page.text, /access_denied/);

      const properties = await connectionStatus(kProvider, 'denied');
      assert.equal(properties.status, 'Error');
      assert.equal(properties.error?.code, 'LoginFailed');
      assert.match(properties.error?.message ?? '', /access_denied/);
      assert.equal(await tokenRequests('authorization_code'), codeExchanges);
      const response = await call('denied', await token('caller-alice'));
      assertJsonError(response, 503);
      assert.match(response.json.message, /not connected/);
    });

    test('reused login link is rejected', async () => {
      const context = await browser.newContext();
      const page = await context.open(usedLoginLinks.alice);
      await context.close();
      assert.equal(page.status, 404, page.text);
      assert.match(page.text, /This login link cannot be used/);
      assert.match(page.text, /ask for a new one/);
      assert.equal((await connectionStatus(kProvider, 'alice')).status, 'Connected');
    });

    test('tampered or unknown state is rejected', async () => {
      const link = await loginLink(kProvider, 'tampered');
      const { state, cookie } = await startLogin(link);

      const flipped = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
      const unknown = randomBytes(32).toString('base64url');
      const queries = [
        { code: 'any-code', state: flipped },
        { code: 'any-code', state: unknown },
        { error: 'access_denied', state: flipped },
      ];
      for (const fields of queries) {
        const query = new URLSearchParams(fields);
        const callback = await fetchJson(`${credgate.gatewayUrl}/.credgate/callback?${query}`, {
          headers: { cookie },
        });
        assert.equal(callback.status, 400, callback.text);
        assert.match(callback.text, /Sign-in failed/);
        assert.match(callback.text, /unknown, was already completed/);
      }
      const missing = await fetchJson(`${credgate.gatewayUrl}/.credgate/callback?code=any-code`);
      assert.equal(missing.status, 400, missing.text);
      assert.match(missing.text, /no &#39;state&#39; parameter|no 'state' parameter/);

      const properties = await connectionStatus(kProvider, 'tampered');
      assert.equal(properties.status, 'Error');
      assert.equal(properties.error?.code, 'Unauthenticated');
    });

    test('provider error page is escaped', async () => {
      const link = await loginLink(kProvider, 'provider-error');
      const { state, cookie } = await startLogin(link);

      // A line break would let the text start a forged log line.
      const forgedLine = '2026-01-01T00:00:00.000Z info  forged log line';
      const query = new URLSearchParams({
        error: 'access_denied\n',
        error_description: `<script>alert(1)</script>\n${forgedLine}`,
        state,
      });
      const callback = await fetchJson(`${credgate.gatewayUrl}/.credgate/callback?${query}`, {
        headers: { cookie },
      });
      assert.equal(callback.status, 400, callback.text);
      assert.match(callback.text, /access_denied/);
      assert.equal(callback.text.includes('<script>'), false, callback.text);
      assert.match(callback.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);

      const properties = await connectionStatus(kProvider, 'provider-error');
      assert.equal(properties.status, 'Error');
      assert.equal(properties.error?.code, 'LoginFailed');
      assert.match(properties.error?.message ?? '', /'access_denied'/);
      assert.match(properties.error?.message ?? '', /forged log line/);
      assert.equal(/[\r\n]/.test(properties.error?.message ?? ''), false, properties.error?.message);
      assertJsonError(await call('provider-error', await token('caller-alice')), 503);
    });

    test('invalid code fails exchange', async () => {
      const link = await loginLink(kProvider, 'bad-code');
      const { state, cookie } = await startLogin(link);
      const code = `forged-${randomBytes(16).toString('hex')}`;
      secrets.get('authorization code').add(code);

      const query = new URLSearchParams({ code, state });
      const callback = await fetchJson(`${credgate.gatewayUrl}/.credgate/callback?${query}`, {
        headers: { cookie },
      });
      assert.equal(callback.status, 502, callback.text);
      assert.match(callback.text, /did not issue tokens/);

      const properties = await connectionStatus(kProvider, 'bad-code');
      assert.equal(properties.status, 'Error');
      assert.equal(properties.error?.code, 'CodeExchangeFailed');
    });

    test('denied re-login keeps connection', async () => {
      const context = await browser.newContext();
      const link = await loginLink(kProvider, 'alice');
      const page = await context.signIn(link, { user: 'alice', consent: 'deny' });
      await context.close();
      assert.equal(page.status, 400, page.text);
      assert.match(page.text, /access_denied/);
      assert.equal((await connectionStatus(kProvider, 'alice')).status, 'Connected');
      const response = await call('alice', await token('caller-alice'));
      assert.equal(response.status, 200, response.text);
    });

    test('denied connection signs in afterwards', async () => {
      const context = await browser.newContext();
      const page = await context.signIn(await loginLink(kProvider, 'denied'), { user: 'alice' });
      await context.close();
      assert.equal(page.status, 200, page.text);
      const properties = await connectionStatus(kProvider, 'denied');
      assert.equal(properties.status, 'Connected');
      assert.equal(properties.error, undefined);
      const response = await call('denied', await token('caller-alice'));
      assert.equal(response.status, 200, response.text);
      assert.equal(response.json.user, 'alice');
    });

    test('callback without login cookie is rejected', async () => {
      const codeExchanges = await tokenRequests('authorization_code');
      const link = await loginLink(kProvider, 'held');
      const opener = await browser.newContext();
      const other = await browser.newContext();
      try {
        const callbackUrl = await opener.signInUntilCallback(link, {
          user: 'alice',
          callbackPrefix: `${credgate.gatewayUrl}/.credgate/callback`,
        });
        const code = new URL(callbackUrl).searchParams.get('code');
        assert.ok(code, callbackUrl);
        secrets.get('authorization code').add(code);
        const cookies = await opener.context.cookies(credgate.gatewayUrl + '/.credgate/');
        assert.ok(cookies.some((c) => c.name.startsWith('credgate_login_')), 'no login cookie');
        for (const c of cookies) secrets.get('login binding cookie').add(c.value);

        const elsewhere = await other.open(callbackUrl);
        assert.equal(elsewhere.status, 400, elsewhere.text);
        assert.match(elsewhere.text, /started in another browser/);

        // The failed attempt used up the state, so the opener cannot finish it either.
        const replay = await opener.open(callbackUrl);
        assert.equal(replay.status, 400, replay.text);
        assert.match(replay.text, /unknown, was already completed/);
      } finally {
        await opener.close();
        await other.close();
      }
      assert.equal(await tokenRequests('authorization_code'), codeExchanges);
      const properties = await connectionStatus(kProvider, 'held');
      assert.equal(properties.status, 'Error');
      assert.equal(properties.error?.code, 'Unauthenticated');
    });
  });

  describe('sign-in confirmation', () => {
    // Opens `link` without a browser. Returns the page, its consent cookie and form fields.
    async function openConfirmation(link) {
      const page = await fetchJson(link);
      assert.equal(page.status, 200, page.text);
      const cookie = page.headers.getSetCookie()[0]?.split(';')[0];
      secrets.get('login binding cookie').add(cookie?.split('=')[1]);
      const fields = confirmationFields(page.text);
      secrets.get('confirmation form token').add(fields.form_token);
      return { page, cookie, fields };
    }

    function postConfirmation(fields, headers) {
      return fetchJson(`${credgate.gatewayUrl}/.credgate/consent`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    }

    test('page names provider, connection and creator', async () => {
      const { page } = await openConfirmation(await loginLink(kProvider, 'cancelled'));
      assert.match(page.text, /<dd id="provider">backend<\/dd>/);
      assert.match(page.text, /<dd id="connection">backend\/cancelled<\/dd>/);
      assert.match(page.text, /<dd id="requested-by">admin key &#39;bootstrap&#39;<\/dd>/);
      assert.match(page.text, /<form method="post" action="\/.credgate\/consent">/);
      assert.equal(/<script/i.test(page.text), false, page.text);

      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.equal(/script-src/.test(csp), false, csp);
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      const cookieLine = page.headers.getSetCookie()[0] ?? '';
      assert.match(cookieLine, /HttpOnly/);
      assert.match(cookieLine, /SameSite=Lax/);
    });

    test('cancel stores nothing', async () => {
      const codeExchanges = await tokenRequests('authorization_code');
      const context = await browser.newContext();
      const page = await context.context.newPage();
      try {
        await page.goto(await loginLink(kProvider, 'cancelled'), { waitUntil: 'load' });
        await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#cancel')]);
        assert.match(await page.locator('body').innerText(), /Sign-in cancelled/);
        assert.ok(page.url().startsWith(`${credgate.gatewayUrl}/.credgate/consent`), page.url());
      } finally {
        await context.close();
      }
      assert.equal(await tokenRequests('authorization_code'), codeExchanges);
      assert.notEqual((await connectionStatus(kProvider, 'cancelled')).status, 'Connected');
    });

    test('forged confirmation is rejected', async () => {
      const { cookie, fields } = await openConfirmation(await loginLink(kProvider, 'forged-form'));
      const cases = [
        { label: 'wrong form token', form: { ...fields, form_token: 'forged' }, cookie },
        { label: 'no cookie', form: fields, cookie: undefined },
        { label: 'other origin', form: fields, cookie, origin: 'http://localhost:1' },
      ];
      for (const { label, form, cookie: sent, origin } of cases.slice(2)) {
        const headers = { ...(sent ? { cookie: sent } : {}), ...(origin ? { origin } : {}) };
        const response = await postConfirmation({ ...form, action: 'continue' }, headers);
        assert.equal(response.status, 403, `${label}: ${response.text}`);
        assert.match(response.text, /another site/, label);
      }
      // A rejected answer uses the page up, so the right form fails afterwards too.
      for (const { label, form, cookie: sent } of cases.slice(0, 2)) {
        const headers = sent ? { cookie: sent } : {};
        const response = await postConfirmation({ ...form, action: 'continue' }, headers);
        assert.ok([400, 403].includes(response.status), `${label}: ${response.text}`);
        assert.equal(response.headers.get('location'), null, label);
      }
      const late = await postConfirmation({ ...fields, action: 'continue' }, { cookie });
      assert.equal(late.status, 400, late.text);
      assert.match(late.text, /already answered/);

      const get = await fetchJson(`${credgate.gatewayUrl}/.credgate/consent`);
      assert.equal(get.status, 405, get.text);
    });

    test('confirmed consent code skips page', async () => {
      const context = await browser.newContext();
      try {
        const link = await loginLink(kProvider, 'confirmed', { postLoginRedirectUrl: landingUrl });
        const landed = await context.signIn(link, { user: 'alice' });
        assert.ok(landed.url.startsWith(`${landingUrl}?consentCode=`), landed.url);
        const consentCode = new URL(landed.url).searchParams.get('consentCode');
        secrets.get('consent code').add(consentCode);
        assert.equal((await connectionStatus(kProvider, 'confirmed')).status, 'Connected');
        const [browserCookie] = (await context.context.cookies(credgate.gatewayUrl + '/.credgate/'))
          .filter((c) => c.name === 'credgate_browser');
        assert.ok(browserCookie, 'no credgate_browser cookie');
        assert.equal(browserCookie.expires, -1, 'the browser cookie is not a session cookie');
        secrets.get('login binding cookie').add(browserCookie.value);

        // Unconfirmed, the next link still shows the page in this browser.
        const before = await context.context.request.fetch(
          await loginLink(kProvider, 'confirmed'),
          { maxRedirects: 0 },
        );
        assert.equal(before.status(), 200);

        const confirmPath = `${connectionPath(kProvider, 'confirmed')}/confirmConsentCode`;
        const wrong = await credgate.manage(
          'POST',
          `${connectionPath(kProvider, 'other')}/confirmConsentCode`,
          { consentCode },
        );
        assert.equal(wrong.status, 400, wrong.text);
        assert.equal(wrong.json?.error?.code, 'InvalidConsentCode');

        // The wrong-connection attempt consumed the code, so sign in again for a fresh one.
        const again = await context.signIn(
          await loginLink(kProvider, 'confirmed', { postLoginRedirectUrl: landingUrl }),
          { user: 'alice' },
        );
        const freshCode = new URL(again.url).searchParams.get('consentCode');
        secrets.get('consent code').add(freshCode);
        const missing = await credgate.manage('POST', confirmPath, {});
        assert.equal(missing.status, 400, missing.text);
        const confirmed = await credgate.manage('POST', confirmPath, { consentCode: freshCode });
        assert.equal(confirmed.status, 200, confirmed.text);
        assert.equal(confirmed.text, '');
        const replay = await credgate.manage('POST', confirmPath, { consentCode: freshCode });
        assert.equal(replay.status, 400, replay.text);

        const skipped = await context.context.request.fetch(
          await loginLink(kProvider, 'confirmed'),
          { maxRedirects: 0 },
        );
        assert.equal(skipped.status(), 302);
        assert.ok(skipped.headers().location.startsWith(backend.authorizationUrl));

        // Another browser, and another connection in this browser, still get the page.
        const elsewhere = await fetchJson(await loginLink(kProvider, 'confirmed'));
        assert.equal(elsewhere.status, 200, elsewhere.text);
        const otherConnection = await context.context.request.fetch(
          await loginLink(kProvider, 'other'),
          { maxRedirects: 0 },
        );
        assert.equal(otherConnection.status(), 200);
      } finally {
        await context.close();
      }
    });
  });

  describe('issuer check', () => {
    test('real provider iss is accepted', async () => {
      const context = await browser.newContext();
      const page = await context.signIn(await loginLink(kIssuerProvider, 'alice'), {
        user: 'alice',
      });
      await context.close();
      assert.equal(page.status, 200, page.text);
      assert.match(page.text, /is connected/);
      assert.equal((await connectionStatus(kIssuerProvider, 'alice')).status, 'Connected');
    });

    test('real provider with other issuer is rejected', async () => {
      const codeExchanges = await tokenRequests('authorization_code');
      const context = await browser.newContext();
      const page = await context.signIn(await loginLink(kWrongIssuerProvider, 'alice'), {
        user: 'alice',
      });
      await context.close();
      assert.equal(page.status, 400, page.text);
      assert.ok(page.url.startsWith(`${credgate.gatewayUrl}/.credgate/callback`), page.url);
      assert.match(page.text, /Sign-in rejected/);
      assert.match(page.text, /differs from the issuer/);
      assert.equal(await tokenRequests('authorization_code'), codeExchanges);
      assert.notEqual((await connectionStatus(kWrongIssuerProvider, 'alice')).status, 'Connected');
      assert.match(credgate.output, /reason=IssuerMismatch/);
    });

    test('forged iss is rejected', async () => {
      const codeExchanges = await tokenRequests('authorization_code');
      const { state, cookie } = await startLogin(await loginLink(kIssuerProvider, 'forged-iss'));
      const code = `forged-${randomBytes(16).toString('hex')}`;
      secrets.get('authorization code').add(code);
      const query = new URLSearchParams({ code, state, iss: 'http://127.0.0.1:1' });
      const callback = await fetchJson(`${credgate.gatewayUrl}/.credgate/callback?${query}`, {
        headers: { cookie },
      });
      assert.equal(callback.status, 400, callback.text);
      assert.match(callback.text, /Sign-in rejected/);
      assert.equal(callback.text.includes('127.0.0.1:1&'), false);
      assert.equal(await tokenRequests('authorization_code'), codeExchanges);
      const properties = await connectionStatus(kIssuerProvider, 'forged-iss');
      assert.notEqual(properties.status, 'Connected');
      assert.notEqual(properties.error?.code, 'CodeExchangeFailed');
    });

    test('missing iss is rejected when required', async () => {
      const codeExchanges = await tokenRequests('authorization_code');
      const { state, cookie } = await startLogin(await loginLink(kIssuerProvider, 'missing-iss'));
      const query = new URLSearchParams({ code: 'any-code', state });
      const callback = await fetchJson(`${credgate.gatewayUrl}/.credgate/callback?${query}`, {
        headers: { cookie },
      });
      assert.equal(callback.status, 400, callback.text);
      assert.match(callback.text, /no &#39;iss&#39; parameter/);
      assert.equal(await tokenRequests('authorization_code'), codeExchanges);
      assert.match(credgate.output, /reason=IssuerMissing/);
    });
  });

  describe('unreachable provider', () => {
    test('expired token with closed refresh URL gets 503', async () => {
      const expiresAt = unreachableSignedInAt + (kBackendTokenTtlSeconds + 1) * 1000;
      await sleep(Math.max(0, expiresAt - Date.now()));
      const before = await backendRequests();
      const response = await call('unreachable', await token('caller-alice'));
      assertJsonError(response, 503);
      assert.match(response.json.message, new RegExp(`${kUnreachableProvider}/alice`));
      assert.doesNotMatch(response.json.message, /127\.0\.0\.1|connect/i);
      assert.equal(await backendRequests(), before);
    });
  });

  test('output contains no secret', async () => {
    const issued = (await fetchJson(`${backend.apiUrl}/issued-tokens`)).json;
    secrets.set('backend access token', new Set(issued.accessTokens));
    secrets.set('backend refresh token', new Set(issued.refreshTokens));
    assert.ok(issued.refreshTokens.length >= 3, 'the backend issued fewer than three refresh tokens');
    assert.ok(secrets.get('caller JWT').size >= 3, 'fewer than three caller JWTs were sent');

    const output = credgate.output;
    assert.ok(output.includes('connection signed in'), 'the output has no sign-in line');
    for (const [kind, values] of secrets) {
      // The login driver's log starts with its command line, which contains the login link.
      if (kind !== 'login link token') recordSecrets(kind, [...values]);
      for (const value of values) {
        assert.equal(output.includes(value), false, `credgate's output contains a ${kind} ${value.slice(0, 6)}…`);
      }
    }
  });
});
