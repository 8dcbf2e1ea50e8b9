// End-to-end flow through the credgate binary: real identity provider, backend OAuth server and
// API (testenv/), headless chromium for the sign-in, credgate configured through its management
// API. Every process listens on 127.0.0.1 with ports picked here.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/flow.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
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
import {
  callerToken,
  decodeJwt,
  fetchJson,
  kCallers,
  signWithForeignKey,
  sleep,
} from './lib/tokens.mjs';

const kBackendClientId = 'credgate-e2e';
const kBackendClientSecret = 'e2e-backend-client-secret-9d2f7a4c1b8e6f30';
const kBackendTokenTtlSeconds = 5;
const kProvider = 'backend';
const kAuthorization = 'alice';
const kAuthorizationPath = `/authorizationProviders/${kProvider}/authorizations/${kAuthorization}`;

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

describe('flow', { skip, timeout: 240000 }, () => {
  let idp;
  let backend;
  let credgate;
  let dataDir;
  // Backend access tokens that reached the backend through the gateway.
  const seenBackendTokens = new Set();

  before(async () => {
    const [idpPort, oauthPort, apiPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 5 }, freePort),
    );
    // In a fresh checkout no process has created the output folder yet.
    mkdirSync(kOutputDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'flow-data-'));
    [, idp] = await startNodeServer('flow-idp', 'idp.mjs', ['--port', String(idpPort)]);
    [, backend] = await startNodeServer('flow-backend', 'backend.mjs', [
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
    });
    await credgate.start();
  });

  after(async () => {
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

  // Calls the backend's /whoami through the gateway with `callerJwt` and records the backend
  // token that reached the backend.
  async function callAs(callerJwt) {
    const response = await credgate.call('/backend/whoami?via=gateway', callerJwt);
    const authorization = response.json?.headers?.authorization;
    if (response.status === 200 && authorization) {
      seenBackendTokens.add(authorization.replace(/^Bearer /, ''));
    }
    return response;
  }

  async function backendStats() {
    return (await fetchJson(`${backend.apiUrl}/stats`)).json;
  }

  test('management rejects missing admin key', async () => {
    const response = await fetchJson(`${credgate.managementUrl}/trustedIssuers/idp`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { issuer: idp.issuer, audiences: ['api://credgate'] } }),
    });
    assert.equal(response.status, 401);
  });

  test('management configures the flow', async () => {
    await manage('PUT', '/trustedIssuers/idp', {
      properties: { issuer: idp.issuer, audiences: ['api://credgate'], clockSkewSeconds: 0 },
    });

    const provider = await manage('PUT', `/authorizationProviders/${kProvider}`, {
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
              refreshUrl: backend.tokenUrl,
            },
          },
        },
      },
    });
    assert.equal(provider.properties.oauth2.redirectUrl, backend.redirectUris[0]);
    assert.equal(
      JSON.stringify(provider).includes(kBackendClientSecret),
      false,
      'the provider response echoes the client secret',
    );

    const authorization = await manage('PUT', kAuthorizationPath, {
      properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
    });
    assert.equal(authorization.properties.status, 'Error');
    assert.equal(authorization.properties.error?.code, 'Unauthenticated');

    await manage('PUT', `${kAuthorizationPath}/accessPolicies/alice-caller`, {
      properties: { tenantId: 'tenant-1', objectId: kCallers['caller-alice'].oid },
    });
    await manage('PUT', '/apis/backend', {
      properties: { displayName: 'Backend', path: 'backend', serviceUrl: backend.apiUrl },
    });
    await manage('PUT', '/apis/backend/operations/whoami', {
      properties: { method: 'GET', urlTemplate: '/whoami' },
    });
    await manage('PUT', '/apis/backend/policies/policy', {
      properties: { format: 'rawxml', value: authorizationPolicy(kProvider, kAuthorization) },
    });
  });

  test('call before login fails', async () => {
    const response = await callAs(await callerToken(idp.issuer, 'caller-alice'));
    assert.notEqual(response.status, 200, response.text);
  });

  test('browser login connects', async () => {
    const { loginLink } = await manage('POST', `${kAuthorizationPath}/getLoginLinks`, {
      postLoginRedirectUrl: `${backend.apiUrl}/landed`,
    });
    assert.match(loginLink, /^http:\/\/127\.0\.0\.1:/);

    const login = await runLogin({
      link: loginLink,
      user: 'alice',
      expectPrefix: `${backend.apiUrl}/landed`,
      screenshotDir: join(kOutputDir, 'flow-login'),
    });
    assert.equal(login.code, 0, `${login.output}\ncredgate output:\n${credgate.output}`);

    const authorization = await manage('GET', kAuthorizationPath);
    assert.equal(authorization.properties.status, 'Connected');
    const stats = await backendStats();
    assert.equal(stats.tokenRequests.authorization_code, 1);
  });

  test('policy caller gets backend answer', async () => {
    const callerJwt = await callerToken(idp.issuer, 'caller-alice');
    const { status, json, text } = await callAs(callerJwt);
    assert.equal(status, 200, text);
    assert.equal(json.user, 'alice');
    assert.equal(json.client_id, kBackendClientId);
    assert.equal(json.path, '/whoami');
    assert.equal(json.query.via, 'gateway');
    assert.match(json.headers.authorization, /^Bearer \S+$/);
    assert.notEqual(json.headers.authorization, `Bearer ${callerJwt}`);
  });

  test('caller outside policy gets 403', async () => {
    const { status, json } = await callAs(await callerToken(idp.issuer, 'caller-bob'));
    assert.equal(status, 403);
    assert.equal(json?.statusCode, 403);
  });

  test('missing JWT gets 401', async () => {
    const { status, json } = await callAs(undefined);
    assert.equal(status, 401);
    assert.equal(json?.statusCode, 401);
  });

  test('expired JWT gets 401', async () => {
    const callerJwt = await callerToken(idp.issuer, 'caller-shortlived');
    const { exp } = decodeJwt(callerJwt).payload;
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 1500);
    const { status, json } = await callAs(callerJwt);
    assert.equal(status, 401);
    assert.equal(json?.statusCode, 401);
  });

  test('foreign-key JWT gets 401', async () => {
    const { payload } = decodeJwt(await callerToken(idp.issuer, 'caller-alice'));
    const { status, json } = await callAs(signWithForeignKey(payload));
    assert.equal(status, 401);
    assert.equal(json?.statusCode, 401);
  });

  test('wrong-audience JWT gets 401', async () => {
    const callerJwt = await callerToken(idp.issuer, 'caller-alice', { resource: 'api://other' });
    const { status, json } = await callAs(callerJwt);
    assert.equal(status, 401);
    assert.equal(json?.statusCode, 401);
  });

  test('expired backend token is refreshed', async () => {
    const callerJwt = await callerToken(idp.issuer, 'caller-alice');
    const first = await callAs(callerJwt);
    assert.equal(first.status, 200, first.text);
    const before = await backendStats();

    await sleep((kBackendTokenTtlSeconds + 2) * 1000);
    const second = await callAs(callerJwt);
    assert.equal(second.status, 200, `${second.text}\ncredgate output:\n${credgate.output}`);
    assert.equal(second.json.user, 'alice');
    assert.notEqual(second.json.headers.authorization, first.json.headers.authorization);

    const after = await backendStats();
    const refreshes = (after.tokenRequests.refresh_token ?? 0) - (before.tokenRequests.refresh_token ?? 0);
    assert.equal(refreshes, 1);
    assert.equal(after.tokenErrors.refresh_token ?? 0, 0);
    assert.equal(after.refreshTokenReuseRejected, 0);
  });

  test('connection survives restart', async () => {
    await credgate.stop();
    await credgate.start();
    const { status, json, text } = await callAs(await callerToken(idp.issuer, 'caller-alice'));
    assert.equal(status, 200, `${text}\ncredgate output:\n${credgate.output}`);
    assert.equal(json.user, 'alice');
    const authorization = await manage('GET', kAuthorizationPath);
    assert.equal(authorization.properties.status, 'Connected');
  });

  test('database holds no plaintext secrets', async () => {
    const current = await callAs(await callerToken(idp.issuer, 'caller-alice'));
    assert.equal(current.status, 200, current.text);
    const issued = (await fetchJson(`${backend.apiUrl}/issued-tokens`)).json;
    assert.ok(seenBackendTokens.size >= 2, 'the gateway sent fewer than two backend tokens');
    assert.ok(issued.refreshTokens.length >= 2, 'the backend issued fewer than two refresh tokens');

    // SQLite may keep recent pages in the write-ahead log or rollback journal.
    const databasePath = join(dataDir, 'credgate.db');
    assert.ok(existsSync(databasePath), `${databasePath} does not exist`);
    const files = ['', '-wal', '-journal']
      .map((suffix) => `${databasePath}${suffix}`)
      .filter((path) => existsSync(path));
    const bytes = Buffer.concat(files.map((path) => readFileSync(path)));
    assert.ok(bytes.length > 0, 'the database is empty');

    const secrets = [
      ['client secret', kBackendClientSecret],
      ...[...seenBackendTokens].map((token) => ['access token seen by the backend', token]),
      ...issued.accessTokens.map((token) => ['issued access token', token]),
      ...issued.refreshTokens.map((token) => ['issued refresh token', token]),
    ];
    for (const [kind, value] of secrets) {
      assert.equal(bytes.includes(Buffer.from(value)), false, `${kind} ${value.slice(0, 6)}… is in ${files.join(', ')}`);
    }
  });
});
