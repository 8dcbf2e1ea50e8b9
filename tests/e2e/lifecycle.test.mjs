// End-to-end token lifecycle through the credgate binary: a backend 401 forces a refresh and a
// GET is sent again, a POST gets the 401 but the next call works, the background scheduler
// refreshes a used connection before its token expires, a revoked grant turns the connection to
// ReloginRequired with the provider's response, and a new sign-in restores it. The backend
// (testenv/backend.mjs) revokes tokens on request.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/lifecycle.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  authorizationPolicy,
  credgateBinaryExists,
  Credgate,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, runLogin, startNodeServer, stopAll } from './lib/processes.mjs';
import { removeTestDir } from './lib/secrets.mjs';
import { callerToken, fetchJson, kCallers, sleep } from './lib/tokens.mjs';

const kBackendClientId = 'credgate-lifecycle';
const kBackendClientSecret = 'lifecycle-backend-client-secret-5b1e8c3a7d9f2046';
// Long enough for the scheduler, which leaves tokens under 60 s to the request path: it
// refreshes a used connection 30 s (half the lifetime) plus up to 6 s of spread before expiry.
const kBackendTokenTtlSeconds = 60;
const kProvider = 'backend';
const kAuthorization = 'alice';
const kAuthorizationPath = `/authorizationProviders/${kProvider}/authorizations/${kAuthorization}`;

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

describe('lifecycle', { skip, timeout: 300000 }, () => {
  let idp;
  let backend;
  let credgate;
  let dataDir;
  let callerJwt;

  before(async () => {
    const [idpPort, oauthPort, apiPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 5 }, freePort),
    );
    dataDir = mkdtempSync(join(kOutputDir, 'lifecycle-data-'));
    [, idp] = await startNodeServer('lifecycle-idp', 'idp.mjs', ['--port', String(idpPort)]);
    [, backend] = await startNodeServer('lifecycle-backend', 'backend.mjs', [
      '--oauth-port', String(oauthPort),
      '--api-port', String(apiPort),
      '--client-id', kBackendClientId,
      '--client-secret', kBackendClientSecret,
      '--redirect-uri', `http://127.0.0.1:${gatewayPort}/.credgate/callback`,
      '--access-token-ttl', String(kBackendTokenTtlSeconds),
    ]);
    credgate = new Credgate({
      gatewayPort,
      managementPort,
      dataDir,
      postLoginRedirects: [`${backend.apiUrl}/landed`],
      name: 'lifecycle-credgate',
    });
    await credgate.start();
  });

  after(async () => {
    await stopAll();
    if (dataDir) removeTestDir(dataDir);
  });

  async function manage(method, path, body) {
    const response = await credgate.manage(method, path, body);
    assert.ok(
      response.status >= 200 && response.status < 300,
      `${method} ${path} returned ${response.status}: ${response.text}`,
    );
    return response.json;
  }

  async function backendStats() {
    return (await fetchJson(`${backend.apiUrl}/stats`)).json;
  }

  async function refreshCount() {
    return (await backendStats()).tokenRequests.refresh_token ?? 0;
  }

  // Calls the backend through the gateway and returns the response with the backend token that
  // reached the backend, if any.
  async function call(method = 'GET', body = undefined) {
    const headers = { authorization: `Bearer ${callerJwt}` };
    if (body !== undefined) headers['content-type'] = 'text/plain';
    const response = await fetchJson(`${credgate.gatewayUrl}/backend/whoami`, {
      method,
      headers,
      body,
    });
    const authorization = response.json?.headers?.authorization;
    return { ...response, backendToken: authorization?.replace(/^Bearer /, '') };
  }

  async function revoke(kind, token) {
    const response = await fetchJson(`${backend.apiUrl}/admin/revoke-${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    assert.equal(response.status, 204, response.text);
  }

  async function signIn(name) {
    const { loginLink } = await manage('POST', `${kAuthorizationPath}/getLoginLinks`, {
      postLoginRedirectUrl: `${backend.apiUrl}/landed`,
    });
    const login = await runLogin({
      link: loginLink,
      user: 'alice',
      expectPrefix: `${backend.apiUrl}/landed`,
      screenshotDir: join(kOutputDir, name),
    });
    assert.equal(login.code, 0, `${login.output}\ncredgate output:\n${credgate.output}`);
  }

  // Revokes the backend token of a successful GET, then checks that the next GET succeeds with a
  // new token after exactly one refresh.
  async function expectRefreshAfterRevokedGet() {
    const first = await call();
    assert.equal(first.status, 200, first.text);
    const before = await refreshCount();

    await revoke('access-token', first.backendToken);
    const second = await call();
    assert.equal(second.status, 200, `${second.text}\ncredgate output:\n${credgate.output}`);
    assert.equal(second.json.user, 'alice');
    assert.notEqual(second.backendToken, first.backendToken);
    assert.equal((await refreshCount()) - before, 1);
  }

  // Polls `check` once a second until it returns a truthy value or `timeoutMs` passes.
  async function waitFor(what, check, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await check();
      if (value) return value;
      await sleep(1000);
    }
    assert.fail(`${what} did not happen within ${timeoutMs} ms\ncredgate output:\n${credgate.output}`);
  }

  test('management configures and a user signs in', async () => {
    await manage('PUT', '/trustedIssuers/idp', {
      properties: { issuer: idp.issuer, audiences: ['api://credgate'], clockSkewSeconds: 0 },
    });
    await manage('PUT', `/authorizationProviders/${kProvider}`, {
      properties: {
        displayName: 'Backend',
        identityProvider: 'oauth2pkce',
        oauth2: {
          grantTypes: {
            authorizationCode: {
              clientId: kBackendClientId,
              clientSecret: kBackendClientSecret,
              scopes: 'openid profile',
              authorizationUrl: backend.authorizationUrl,
              tokenUrl: backend.tokenUrl,
            },
          },
        },
      },
    });
    await manage('PUT', kAuthorizationPath, {
      properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
    });
    await manage('PUT', `${kAuthorizationPath}/accessPolicies/alice-caller`, {
      properties: { tenantId: 'tenant-1', objectId: kCallers['caller-alice'].oid },
    });
    await manage('PUT', '/apis/backend', {
      properties: { displayName: 'Backend', path: 'backend', serviceUrl: backend.apiUrl },
    });
    for (const method of ['GET', 'POST']) {
      await manage('PUT', `/apis/backend/operations/whoami-${method.toLowerCase()}`, {
        properties: { method, urlTemplate: '/whoami' },
      });
    }
    await manage('PUT', '/apis/backend/policies/policy', {
      properties: { format: 'rawxml', value: authorizationPolicy(kProvider, kAuthorization) },
    });

    await signIn('lifecycle-login');
    const authorization = await manage('GET', kAuthorizationPath);
    assert.equal(authorization.properties.status, 'Connected');
    callerJwt = await callerToken(idp.issuer, 'caller-alice');
  });

  test('backend 401 refreshes and retries a GET', async () => {
    await expectRefreshAfterRevokedGet();
    assert.match(credgate.output, /trigger=backend_rejected_token/);
  });

  test('scheduler refreshes a used connection before expiry', async () => {
    const used = await call();
    assert.equal(used.status, 200, used.text);
    const before = await refreshCount();

    // No request is made while waiting: only the scheduler can refresh. The token endpoint
    // counts the refresh before credgate has stored the new tokens and logged it, so the wait
    // covers both.
    await waitFor('a scheduled refresh',
      async () => (await refreshCount()) > before && /trigger=scheduled/.test(credgate.output),
      (kBackendTokenTtlSeconds + 10) * 1000);

    const after = await call();
    assert.equal(after.status, 200, after.text);
    assert.notEqual(after.backendToken, used.backendToken);
    assert.equal(await refreshCount(), before + 1, 'the call after the scheduled refresh refreshed');
  });

  test('backend 401 to a POST is returned and refreshes', async () => {
    const current = await call();
    assert.equal(current.status, 200, current.text);
    const before = await refreshCount();

    await revoke('access-token', current.backendToken);
    const post = await call('POST', 'a body that cannot be sent twice');
    assert.equal(post.status, 401, post.text);
    assert.equal(post.json.error, 'invalid_token');
    assert.equal((await refreshCount()) - before, 1);

    const next = await call();
    assert.equal(next.status, 200, next.text);
    assert.notEqual(next.backendToken, current.backendToken);
    assert.equal((await refreshCount()) - before, 1);
  });

  test('revoked grant needs a new sign-in', async () => {
    const current = await call();
    assert.equal(current.status, 200, current.text);
    await revoke('grant', current.backendToken);

    // The scheduler refreshes the used connection and meets invalid_grant.
    const authorization = await waitFor('ReloginRequired', async () => {
      const json = await manage('GET', kAuthorizationPath);
      return json.properties.status === 'Error' ? json : undefined;
    }, (kBackendTokenTtlSeconds + 10) * 1000);
    const { error } = authorization.properties;
    assert.equal(error.code, 'ReloginRequired');
    assert.match(error.message, /invalid_grant/);
    assert.match(error.message, /Provider response: \{"error":"invalid_grant"/);

    const refused = await call();
    assert.equal(refused.status, 503, refused.text);
    const stats = await backendStats();
    assert.equal(stats.refreshTokenReuseRejected, 0);
  });

  test('new sign-in restores the connection', async () => {
    await signIn('lifecycle-relogin');
    const authorization = await manage('GET', kAuthorizationPath);
    assert.equal(authorization.properties.status, 'Connected');
    const restored = await call();
    assert.equal(restored.status, 200, restored.text);
    assert.equal(restored.json.user, 'alice');
  });

  // Runs after a new sign-in: tokens that a backend 401 refreshed are not refreshed again for
  // 30 seconds, so this case cannot follow the other 401 cases.
  test('backend 401 to a forward-request inside retry refreshes and retries', async () => {
    const retrying = authorizationPolicy(kProvider, kAuthorization).replace(
      '<backend><base/></backend>',
      '<backend><retry condition="@(context.Response.StatusCode >= 500)" count="2" interval="0">' +
        '<forward-request/></retry></backend>',
    );
    await manage('PUT', '/apis/backend/policies/policy', {
      properties: { format: 'rawxml', value: retrying },
    });
    try {
      await expectRefreshAfterRevokedGet();
    } finally {
      await manage('PUT', '/apis/backend/policies/policy', {
        properties: { format: 'rawxml', value: authorizationPolicy(kProvider, kAuthorization) },
      });
    }
  });
});
