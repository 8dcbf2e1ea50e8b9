// End-to-end cases of backend resources and set-backend-service backend-id through the credgate
// binary. One loopback echo server is the backend, and a second one plays the Dapr sidecar that
// daprSidecarUrl names.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/backends.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { startEchoBackend } from './lib/echo_backend.mjs';
import { freePort, kOutputDir, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { fetchJson } from './lib/tokens.mjs';

const skip = credgateBinaryExists()
  ? false
  : process.env.CREDGATE_E2E_REQUIRED === '1'
    ? false
    : `credgate binary not found at ${kCredgateBin}`;

const kHeaderSecret = 'backend-header-secret';
const kQuerySecret = 'backend-query-secret';
const kAuthorizationSecret = 'backend-authorization-secret';
recordSecrets('backend credential', [kHeaderSecret, kQuerySecret, kAuthorizationSecret]);

describe('backends', { skip, timeout: 120000 }, () => {
  let echo;
  let sidecar;
  let credgate;
  let dataDir;

  before(async () => {
    const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
    mkdirSync(kOutputDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'backends-data-'));
    [echo, sidecar] = await Promise.all([startEchoBackend(), startEchoBackend()]);
    const configFile = join(dataDir, 'credgate.yaml');
    writeFileSync(configFile, `daprSidecarUrl: ${sidecar.url}\n`);
    credgate = new Credgate({ gatewayPort, managementPort, dataDir, configFile, name: 'backends' });
    await credgate.start();
    // The API's own service URL is a closed port, so only a policy's target can respond.
    const closed = await freePort();
    await manage('PUT', '/apis/be', {
      properties: { displayName: 'Backends', path: 'be', serviceUrl: `http://127.0.0.1:${closed}` },
    });
    await manage('PUT', '/backends/orders', {
      properties: {
        url: `${echo.url}/orders-base`,
        protocol: 'http',
        description: 'Echo standing in for the orders service',
        credentials: {
          header: { 'x-api-key': [kHeaderSecret] },
          query: { code: [kQuerySecret] },
          authorization: { scheme: 'Basic', parameter: kAuthorizationSecret },
        },
      },
    });
  });

  after(async () => {
    echo?.server.close();
    sidecar?.server.close();
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

  async function putOperation(id, inbound) {
    await manage('PUT', `/apis/be/operations/${id}`, {
      properties: { method: 'GET', urlTemplate: `/${id}/*` },
    });
    return credgate.manage('PUT', `/apis/be/operations/${id}/policies/policy`, {
      properties: {
        format: 'rawxml',
        value: `<policies><inbound><base/>${inbound}</inbound></policies>`,
      },
    });
  }

  function call(path) {
    return fetchJson(`${credgate.gatewayUrl}/be${path}`, {
      headers: { authorization: 'Bearer caller-token', 'x-api-key': 'caller-value' },
    });
  }

  test('backend-id sends with its credentials', async () => {
    const saved = await putOperation('orders', '<set-backend-service backend-id="orders"/>');
    assert.equal(saved.status, 201, saved.text);
    const count = echo.requests.length;
    const response = await call('/orders/list?page=2');
    assert.equal(response.status, 200, response.text);
    assert.equal(echo.requests.length, count + 1);
    const seen = echo.requests.at(-1);
    assert.equal(seen.url, `/orders-base/orders/list?page=2&code=${kQuerySecret}`);
    assert.equal(seen.headers['x-api-key'], kHeaderSecret);
    assert.equal(seen.headers.authorization, `Basic ${kAuthorizationSecret}`);
  });

  test('GET leaves credential values out', async () => {
    const got = await manage('GET', '/backends/orders');
    assert.deepEqual(got.properties.credentials.header, { 'x-api-key': [] });
    assert.equal(got.properties.credentials.authorization.scheme, 'Basic');
    assert.doesNotMatch(JSON.stringify(got), /secret/);
  });

  test('missing backend rejected at save', async () => {
    const response = await putOperation('absent', '<set-backend-service backend-id="absent"/>');
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /names backend 'absent', which does not exist/);
  });

  test('backend in use cannot be deleted', async () => {
    const response = await credgate.manage('DELETE', '/backends/orders');
    assert.equal(response.status, 409, response.text);
    assert.match(response.text, /\/apis\/be\/operations\/orders\/policies\/policy/);
  });

  test('expression naming no backend gets 500', async () => {
    const saved = await putOperation(
      'computed',
      '<set-backend-service backend-id="@(&quot;nowhere-&quot; + context.Request.Method)"/>',
    );
    assert.equal(saved.status, 201, saved.text);
    const response = await call('/computed/x');
    assert.equal(response.status, 500, response.text);
    const metrics = await fetchJson(`${credgate.managementUrl}/metrics`);
    assert.match(metrics.text, /reason="BackendNotFound"\} 1\b/);
  });

  test('dapr invocation goes to the sidecar', async () => {
    const saved = await putOperation(
      'dapr',
      `<set-backend-service backend-id="dapr" dapr-app-id="orders" dapr-method="api/list"
        dapr-namespace="shop"/>`,
    );
    assert.equal(saved.status, 201, saved.text);
    const count = sidecar.requests.length;
    const response = await call('/dapr/ignored?x=1');
    assert.equal(response.status, 200, response.text);
    assert.equal(sidecar.requests.length, count + 1);
    assert.equal(sidecar.requests.at(-1).url, '/v1.0/invoke/orders.shop/method/api/list?x=1');
  });

  test('service fabric attributes rejected', async () => {
    const response = await putOperation(
      'fabric',
      '<set-backend-service backend-id="orders" sf-resolve-condition="@(true)"/>',
    );
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /cannot resolve Service Fabric services/);
  });

  test('backend survives a restart', async () => {
    await credgate.stop();
    await credgate.start();
    const count = echo.requests.length;
    const response = await call('/orders/again');
    assert.equal(response.status, 200, response.text);
    assert.equal(echo.requests.length, count + 1);
    assert.equal(echo.requests.at(-1).headers['x-api-key'], kHeaderSecret);
  });
});
