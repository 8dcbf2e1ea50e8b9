// End-to-end token exchange, connection events and webhooks through the credgate binary. A user
// signs in, an application exchanges its JWT for the connection's token at POST
// /.credgate/token, a wrong client secret makes a refresh fail, the right one lets it recover,
// and the connection is deleted. Two local webhook receivers check what credgate sends: one
// verifies every signature, the other fails its first two deliveries and then accepts. Last, the
// verifying receiver is down while an event is recorded and credgate crashes and restarts: the
// delivery waits in the store's outbox and arrives once after the restart.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/events.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  authorizationPolicy,
  credgateBinaryExists,
  Credgate,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, runLogin, startNodeServer, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { callerToken, fetchJson, kCallers, sleep } from './lib/tokens.mjs';

const kBackendClientId = 'credgate-events';
const kBackendClientSecret = 'events-backend-client-secret-3d7a9c1e5f2b8046';
const kWrongClientSecret = 'events-wrong-client-secret-0000000000000000';
const kVerifyingSecret = 'events-webhook-secret-a1b2c3d4e5f60718';
const kFlakySecret = 'events-webhook-secret-flaky-9f8e7d6c5b4a';
const kProvider = 'backend';
const kAuthorization = 'alice';
const kAuthorizationPath = `/authorizationProviders/${kProvider}/authorizations/${kAuthorization}`;
const kExchangeGrant = 'urn:ietf:params:oauth:grant-type:token-exchange';
const kJwtType = 'urn:ietf:params:oauth:token-type:jwt';
recordSecrets('webhook secret', [kVerifyingSecret, kFlakySecret]);
recordSecrets('client secret', [kBackendClientSecret, kWrongClientSecret]);

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

// A webhook receiver on 127.0.0.1. It responds to the first `failures` requests with 500 and
// records every request with whether its signature is valid.
async function startReceiver(secret, failures = 0) {
  const receiver = { requests: [], events: [], failures };
  receiver.server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = req.headers['x-credgate-timestamp'];
      const expected =
        'sha256=' + createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
      const received = String(req.headers['x-credgate-signature'] ?? '');
      const signed = received.length === expected.length &&
        timingSafeEqual(Buffer.from(received), Buffer.from(expected));
      const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
      receiver.requests.push({ body, signed, fresh, headers: req.headers });
      if (receiver.requests.length <= receiver.failures) {
        res.writeHead(500).end();
        return;
      }
      receiver.events.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise((resolve) => receiver.server.listen(port, '127.0.0.1', resolve));
  receiver.port = port;
  receiver.url = `http://127.0.0.1:${port}/hook/path-secret-part`;
  return receiver;
}

describe('events', { skip, timeout: 300000 }, () => {
  let idp;
  let backend;
  let credgate;
  let dataDir;
  let secretDir;
  let callerJwt;
  let verifying;
  let flaky;
  let exchangedToken;

  before(async () => {
    const [idpPort, oauthPort, apiPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 5 }, freePort),
    );
    dataDir = mkdtempSync(join(kOutputDir, 'events-data-'));
    [, idp] = await startNodeServer('events-idp', 'idp.mjs', ['--port', String(idpPort)]);
    [, backend] = await startNodeServer('events-backend', 'backend.mjs', [
      '--oauth-port', String(oauthPort),
      '--api-port', String(apiPort),
      '--client-id', kBackendClientId,
      '--client-secret', kBackendClientSecret,
      '--redirect-uri', `http://127.0.0.1:${gatewayPort}/.credgate/callback`,
      // Long enough that no scheduled refresh runs during the test.
      '--access-token-ttl', '600',
    ]);
    verifying = await startReceiver(kVerifyingSecret);
    flaky = await startReceiver(kFlakySecret, 2);
    // The secret file is test input, so it stays out of .test-output, which the secret scan reads.
    secretDir = mkdtempSync(join(tmpdir(), 'credgate-events-secret-'));
    const secretFile = join(secretDir, 'webhook.secret');
    writeFileSync(secretFile, `${kVerifyingSecret}\n`, { mode: 0o600 });
    const configFile = join(dataDir, 'credgate.yaml');
    writeFileSync(configFile, [
      'webhooks:',
      `  - url: ${verifying.url}`,
      `    secretFile: ${secretFile}`,
      `  - url: ${flaky.url}`,
      '    secretEnv: EVENTS_TEST_WEBHOOK_SECRET',
      '',
    ].join('\n'));
    credgate = new Credgate({
      gatewayPort,
      managementPort,
      dataDir,
      configFile,
      postLoginRedirects: [`${backend.apiUrl}/landed`],
      name: 'events-credgate',
      env: { EVENTS_TEST_WEBHOOK_SECRET: kFlakySecret },
    });
    await credgate.start();
  });

  after(async () => {
    await stopAll();
    for (const receiver of [verifying, flaky]) receiver?.server.close();
    if (dataDir) removeTestDir(dataDir);
    if (secretDir) rmSync(secretDir, { recursive: true, force: true });
  });

  async function manage(method, path, body) {
    const response = await credgate.manage(method, path, body);
    assert.ok(
      response.status >= 200 && response.status < 300,
      `${method} ${path} returned ${response.status}: ${response.text}`,
    );
    return response.json;
  }

  function putProvider(clientSecret) {
    return manage('PUT', `/authorizationProviders/${kProvider}`, {
      properties: {
        displayName: 'Backend',
        identityProvider: 'oauth2pkce',
        oauth2: {
          grantTypes: {
            authorizationCode: {
              clientId: kBackendClientId,
              clientSecret,
              scopes: 'openid profile',
              authorizationUrl: backend.authorizationUrl,
              tokenUrl: backend.tokenUrl,
            },
          },
        },
      },
    });
  }

  function exchange(fields) {
    return fetchJson(`${credgate.gatewayUrl}/.credgate/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }

  function exchangeFor(jwt, target = `${kProvider}/${kAuthorization}`) {
    return exchange({
      grant_type: kExchangeGrant,
      subject_token: jwt,
      subject_token_type: kJwtType,
      resource: target,
    });
  }

  async function call() {
    return fetchJson(`${credgate.gatewayUrl}/backend/whoami`, {
      headers: { authorization: `Bearer ${callerJwt}` },
    });
  }

  async function revokeAccessToken(token) {
    const response = await fetchJson(`${backend.apiUrl}/admin/revoke-access-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    assert.equal(response.status, 204, response.text);
  }

  // GET /events with a query string, which credgate.manage() cannot add.
  function getEvents(query) {
    return fetchJson(`${credgate.managementUrl}/events?${query}`, {
      headers: { authorization: `Bearer ${credgate.adminKey}` },
    });
  }

  async function listEvents(after = '0', limit = 100) {
    const response = await getEvents(`after=${after}&limit=${limit}`);
    assert.equal(response.status, 200, response.text);
    return response.json;
  }

  // Polls until `check` returns a truthy value, for at most `timeoutMs`.
  async function waitFor(what, check, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const value = await check();
      if (value) return value;
      await sleep(250);
    }
    assert.fail(`${what} did not happen within ${timeoutMs} ms\ncredgate output:\n${credgate.output}`);
  }

  async function waitForEvent(type) {
    return waitFor(`a ${type} event`, async () =>
      (await listEvents()).value.find((event) => event.type === type));
  }

  test('sign-in records a connected event', async () => {
    await manage('PUT', '/trustedIssuers/idp', {
      properties: { issuer: idp.issuer, audiences: ['api://credgate'], clockSkewSeconds: 0 },
    });
    await putProvider(kBackendClientSecret);
    await manage('PUT', kAuthorizationPath, {
      properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
    });
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

    const { loginLink } = await manage('POST', `${kAuthorizationPath}/getLoginLinks`, {
      postLoginRedirectUrl: `${backend.apiUrl}/landed`,
    });
    const login = await runLogin({
      link: loginLink,
      user: 'alice',
      expectPrefix: `${backend.apiUrl}/landed`,
      screenshotDir: join(kOutputDir, 'events-login'),
    });
    assert.equal(login.code, 0, `${login.output}\ncredgate output:\n${credgate.output}`);
    callerJwt = await callerToken(idp.issuer, 'caller-alice');

    const connected = await waitForEvent('connected');
    assert.equal(connected.provider, kProvider);
    assert.equal(connected.connection, kAuthorization);
    assert.equal(connected.status, 'Connected');
    assert.equal(connected.error, null);
    assert.match(connected.id, /^[0-9]+$/);
    assert.ok(!Number.isNaN(Date.parse(connected.time)));
  });

  test('token exchange returns the connection token', async () => {
    const response = await exchangeFor(callerJwt);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    assert.equal(response.json.token_type, 'Bearer');
    assert.equal(response.json.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    assert.ok(response.json.expires_in > 0);
    exchangedToken = response.json.access_token;
    recordSecrets('backend access token', [exchangedToken]);

    // The exchanged token is the one the gateway sends to the backend.
    const called = await call();
    assert.equal(called.status, 200, called.text);
    assert.equal(called.json.headers.authorization, `Bearer ${exchangedToken}`);

    const byPath = await exchangeFor(callerJwt, kAuthorizationPath);
    assert.equal(byPath.status, 200, byPath.text);
    assert.match(credgate.output, /token\.issued|token exchanged/);
  });

  test('token exchange rejects bad requests', async () => {
    const bobJwt = await callerToken(idp.issuer, 'caller-bob');
    const denied = await exchangeFor(bobJwt);
    assert.equal(denied.status, 403, denied.text);
    assert.equal(denied.json.error, 'access_denied');

    const forged = await exchangeFor(`${callerJwt.slice(0, -4)}AAAA`);
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.json.error, 'invalid_grant');

    const unknown = await exchangeFor(callerJwt, `${kProvider}/nobody`);
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal(unknown.json.error, 'invalid_target');

    const grant = await exchange({ grant_type: 'client_credentials' });
    assert.equal(grant.status, 400, grant.text);
    assert.equal(grant.json.error, 'unsupported_grant_type');

    const get = await fetchJson(`${credgate.gatewayUrl}/.credgate/token`);
    assert.equal(get.status, 405, get.text);

    for (const response of [denied, forged, unknown, grant]) {
      assert.equal(response.headers.get('cache-control'), 'no-store');
      assert.ok(!response.text.includes(exchangedToken));
    }
  });

  test('failed and recovered refreshes record events', async () => {
    await putProvider(kWrongClientSecret);
    await revokeAccessToken(exchangedToken);
    // The backend rejects the revoked token, and the refresh meets invalid_client.
    await call();
    const failed = await waitForEvent('refreshFailed');
    assert.equal(failed.status, 'Error');
    assert.equal(failed.error.code, 'ProviderSettingsInvalid');
    assert.ok(!failed.error.message.includes('Provider response'), failed.error.message);

    await putProvider(kBackendClientSecret);
    await waitFor('a working call after the fix', async () => (await call()).status === 200);
    const recovered = await waitForEvent('recovered');
    assert.equal(recovered.status, 'Connected');
    assert.equal(recovered.error, null);
  });

  test('deleting the connection records a deleted event', async () => {
    await manage('DELETE', kAuthorizationPath);
    const deleted = await waitForEvent('deleted');
    assert.equal(deleted.status, 'Deleted');
    assert.equal(deleted.connection, kAuthorization);
  });

  test('GET /events pages with a cursor', async () => {
    const all = (await listEvents()).value;
    const types = all.map((event) => event.type);
    assert.deepEqual(types, ['connected', 'refreshFailed', 'recovered', 'deleted']);
    const first = await listEvents('0', 1);
    assert.equal(first.value.length, 1);
    assert.equal(first.value[0].id, all[0].id);
    const second = await listEvents(first.nextCursor, 1);
    assert.equal(second.value[0].id, all[1].id);
    const end = await listEvents(all.at(-1).id, 10);
    assert.deepEqual(end.value, []);
    assert.equal(end.nextCursor, all.at(-1).id);

    const bad = await getEvents('after=x');
    assert.equal(bad.status, 400, bad.text);
  });

  test('webhooks receive every event signed', async () => {
    const expected = ['connected', 'refreshFailed', 'recovered', 'deleted'];
    for (const receiver of [verifying, flaky]) {
      await waitFor('every event at a webhook', async () =>
        receiver.events.length >= expected.length);
      const types = receiver.events.map((event) => event.type).sort();
      assert.deepEqual(types, [...expected].sort());
      for (const request of receiver.requests) {
        assert.ok(request.signed, `bad signature on ${request.body}`);
        assert.ok(request.fresh, `stale timestamp on ${request.body}`);
        assert.equal(request.headers['content-type'], 'application/json');
        assert.ok(!request.body.includes(exchangedToken), 'a webhook body carries a token');
        assert.ok(!request.body.includes('Provider response'));
      }
    }
    // The flaky receiver responded to its first two requests with 500, and each was retried once.
    assert.equal(flaky.requests.length, expected.length + 2);
    assert.equal(verifying.requests.length, expected.length);

    const metrics = await fetchJson(`${credgate.managementUrl}/metrics`);
    assert.match(metrics.text, /credgate_webhook_deliveries_total\{outcome="retried"\} 2\b/);
    assert.match(metrics.text, /credgate_webhook_deliveries_total\{outcome="delivered"\} 8\b/);
    assert.match(metrics.text, /credgate_token_exchanges_total\{outcome="issued"\} 2\b/);
    assert.match(metrics.text, /credgate_token_exchanges_total\{outcome="access_denied"\} 1\b/);
    assert.match(metrics.text,
      /credgate_provider_token_refreshes_total\{provider="backend",outcome="provider_settings_invalid"\} [1-9]/);
    assert.match(metrics.text, /credgate_store_operation_duration_seconds_count\{operation="AppendEvent"\} 4\b/);
    assert.match(metrics.text, /credgate_access_decision_cache_lookups_total\{outcome="hit"\} [1-9]/);
    // No log line names a webhook's path, which here carries a secret part.
    assert.ok(!credgate.output.includes('path-secret-part'));
  });

  test('a delivery waits in the outbox while the gateway restarts', async () => {
    const before = await listEvents();
    const retriedBefore = await webhookDeliveries('retried');
    await new Promise((resolve) => verifying.server.close(resolve));

    await manage('PUT', kAuthorizationPath, {
      properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
    });
    await manage('DELETE', kAuthorizationPath);
    const event = await waitFor('a new deleted event', async () =>
      (await listEvents(before.nextCursor)).value.find((e) => e.type === 'deleted'));
    // The receiver is down, so its first attempt fails and the delivery is retried later.
    await waitFor('a failed attempt at the stopped receiver', async () =>
      (await webhookDeliveries('retried')) > retriedBefore);

    await waitFor('the delivery at the running receiver', async () =>
      flaky.events.some((e) => e.id === event.id));

    // A crash: no shutdown grace, nothing held in memory survives.
    await credgate.kill();
    await new Promise((resolve) => verifying.server.listen(verifying.port, '127.0.0.1', resolve));
    await credgate.start();

    const received = () => verifying.events.filter((e) => e.id === event.id);
    await waitFor('the delivery after the restart', async () => received().length > 0, 60000);
    // A few more polls of the outbox must not send it again.
    await sleep(5000);
    assert.equal(received().length, 1);
    const requests = verifying.requests.filter((r) => r.headers['x-credgate-event-id'] === event.id);
    assert.equal(requests.length, 1);
    assert.ok(requests[0].signed, `bad signature on ${requests[0].body}`);
    assert.ok(requests[0].fresh, `stale timestamp on ${requests[0].body}`);
    assert.ok(!requests[0].body.includes(exchangedToken), 'a webhook body carries a token');
    assert.deepEqual(received()[0], event);
    assert.equal(await webhookDeliveries('delivered'), 1);
  });

  // Returns the value of credgate_webhook_deliveries_total{outcome} on /metrics.
  async function webhookDeliveries(outcome) {
    const metrics = await fetchJson(`${credgate.managementUrl}/metrics`);
    const match = metrics.text.match(
      new RegExp(`credgate_webhook_deliveries_total\\{outcome="${outcome}"\\} ([0-9]+)`));
    return match ? Number(match[1]) : 0;
  }
});
