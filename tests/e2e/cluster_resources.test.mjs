// Policy fragments, backends and certificates on two credgate gateways, A and B, that share one
// PostgreSQL database. Each case changes a resource through one gateway's management API and
// checks that the other gateway serves the change within 1 s. Deletes must behave as on a single
// gateway. While a policy uses the resource, DELETE gets 409 on either gateway. Once the policy
// and the resource are gone, GET gets 404 and a new policy that names the resource gets 400.
//
//   CREDGATE_TEST_POSTGRES_URL=$(scripts/postgres.sh start) \
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/cluster_resources.test.mjs
//
// Skipped without CREDGATE_TEST_POSTGRES_URL, and when the binary does not exist unless
// CREDGATE_E2E_REQUIRED=1. The test creates a database of its own on that server and drops it
// at the end. The backend of the API "res" is a loopback echo server, whose response describes
// the request that it received. The measured delays go to
// .test-output/e2e/cluster-resources-results.json.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Cluster } from './lib/cluster.mjs';
import { credgateBinaryExists, kCredgateBin } from './lib/credgate.mjs';
import { startEchoBackend } from './lib/echo_backend.mjs';
import { createTestDatabase, dropTestDatabase, kTestPostgresUrl, skipWithoutPostgres } from './lib/postgres.mjs';
import { kOutputDir, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { fetchJson, signWithForeignKey } from './lib/tokens.mjs';
import { manageOk, pollUntil } from './lib/whoami.mjs';

// The bound on how long a change made through one gateway takes to reach the other, as in
// cluster.test.mjs.
const kPropagationLimitMs = 1000;
// How long the test keeps polling after that bound, so that a slow change reports its delay.
const kPropagationPollMs = 5000;

const kHeaderSecret = 'cluster-backend-header-secret-5d1c';
recordSecrets('backend credential', [kHeaderSecret]);

const skip =
  (!credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false) || skipWithoutPostgres('the cluster resources test');

// Returns a policy document with `inbound` after <base/> in its inbound section.
function policyXml(inbound) {
  return `<policies><inbound><base/>${inbound}</inbound><backend><base/></backend>
    <outbound><base/></outbound><on-error><base/></on-error></policies>`;
}

function policyBody(inbound) {
  return { properties: { format: 'rawxml', value: policyXml(inbound) } };
}

// Returns the body of PUT /policyFragments/stamp: a fragment that sets the request header
// x-stamp to `value`.
function stampFragment(value) {
  return {
    properties: {
      format: 'rawxml',
      value: `<fragment>
  <set-header name="x-stamp" exists-action="override"><value>${value}</value></set-header>
</fragment>`,
    },
  };
}

// Returns the body of PUT /backends/orders: the echo server under `basePath`, with the header
// credential x-api-key.
function ordersBackend(echo, basePath) {
  return {
    properties: {
      url: `${echo.url}${basePath}`,
      protocol: 'http',
      credentials: { header: { 'x-api-key': [kHeaderSecret] } },
    },
  };
}

// Creates an RSA key and a self-signed certificate for `commonName` with openssl, in a new folder
// under `parent`. Returns {keyPem, certificatePem}.
function makeCertificate(parent, commonName) {
  const folder = mkdtempSync(join(parent, 'certificate-'));
  const key = join(folder, 'key.pem');
  const certificate = join(folder, 'certificate.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
    '-out', certificate, '-subj', `/CN=${commonName}`, '-days', '2'], { stdio: 'pipe' });
  return { keyPem: readFileSync(key, 'utf8'), certificatePem: readFileSync(certificate, 'utf8') };
}

// Signs an RS256 JWT for alice, valid for 5 minutes, with `keyPem`.
function signedToken(keyPem) {
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const payload = { sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 };
  const input = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), keyPem).toString('base64url')}`;
}

describe('cluster resources', { skip, timeout: 180000 }, () => {
  let database;
  let cluster;
  let echo;
  let folder;
  let a;
  let b;
  // The delay in ms of each change, from the management call's response until the other gateway
  // served it, written to cluster-resources-results.json after the last test.
  const propagationMs = {};

  before(async () => {
    // Names the step that failed, because the runner reports a failed hook only as cancelled
    // tests.
    let step = 'create the test database';
    try {
      database = await createTestDatabase(kTestPostgresUrl, 'credgate_resources');
      folder = mkdtempSync(join(kOutputDir, 'cluster-resources-'));
      step = 'start the echo backend';
      echo = await startEchoBackend();
      step = 'start the gateways';
      cluster = await Cluster.create({ name: 'resources', size: 2, storeUrl: database.url });
      await cluster.start();
      [a, b] = cluster.gateways;
      step = 'create the API';
      await manageOk(a, 'PUT', '/apis/res', {
        properties: { displayName: 'Resources', path: 'res', serviceUrl: `${echo.url}/api` },
      });
      for (const [id, urlTemplate] of [['stamped', '/stamped'], ['orders', '/orders/*'], ['signed', '/signed']]) {
        await manageOk(a, 'PUT', `/apis/res/operations/${id}`, { properties: { method: 'GET', urlTemplate } });
      }
    } catch (error) {
      console.error(`cluster resources set-up failed at "${step}": ${error.stack ?? error}`);
      throw error;
    }
  });

  after(async () => {
    writeFileSync(join(kOutputDir, 'cluster-resources-results.json'),
      `${JSON.stringify({ finishedAt: new Date().toISOString(), propagationMs }, null, 2)}\n`);
    echo?.server.close();
    await cluster?.stop();
    await stopAll();
    if (database) await dropTestDatabase(kTestPostgresUrl, database.name);
    if (folder) removeTestDir(folder);
  });

  // Sends GET /res`path` to `gateway` with `headers` and a 2 s limit. Resolves with
  // {status, json, text}, and status 0 when the request failed.
  function call(gateway, path, headers = {}) {
    return fetchJson(`${gateway.gatewayUrl}/res${path}`, { headers, signal: AbortSignal.timeout(2000) })
      .catch((error) => ({ status: 0, text: error.message }));
  }

  // Polls `check()` until it returns true and returns the time in ms from `sinceMs` until it
  // did, or Infinity when it never did within the poll time.
  async function delayUntil(sinceMs, check) {
    const seenMs = await pollUntil(async () => ((await check()) ? Date.now() : undefined), kPropagationPollMs, 25);
    return seenMs === undefined ? Infinity : seenMs - sinceMs;
  }

  // Records `delay`, the ms from the management call that made `change` until `gateway` served
  // it, and asserts that it is within the bound.
  function assertPropagated(change, gateway, delay) {
    propagationMs[change] = delay;
    assert.ok(delay <= kPropagationLimitMs,
      `${change} reached ${gateway.name} after ${delay} ms\n${cluster.output()}`);
  }

  // Returns the x-stamp header that the echo backend received for GET /res/stamped through
  // `gateway`: '' when the request had none, undefined when the call failed.
  async function stampThrough(gateway) {
    const response = await call(gateway, '/stamped');
    if (response.status !== 200) return undefined;
    return response.json.headers['x-stamp'] ?? '';
  }

  test('fragment changes reach gateway B', async () => {
    await manageOk(a, 'PUT', '/policyFragments/stamp', stampFragment('one'));
    await manageOk(a, 'PUT', '/apis/res/policies/policy', policyBody('<include-fragment fragment-id="stamp"/>'));
    const createdMs = Date.now();
    assertPropagated('the new fragment', b, await delayUntil(createdMs, async () =>
      (await stampThrough(b)) === 'one'));

    await manageOk(a, 'PUT', '/policyFragments/stamp', stampFragment('two'));
    const changedMs = Date.now();
    assertPropagated('the changed fragment', b, await delayUntil(changedMs, async () =>
      (await stampThrough(b)) === 'two'));
  });

  test('fragment in use is kept on B', async () => {
    const response = await b.manage('DELETE', '/policyFragments/stamp');
    assert.equal(response.status, 409, response.text);
    assert.match(response.text, /\/apis\/res\/policies\/policy/);
    assert.equal(await stampThrough(b), 'two');
  });

  test('deleted fragment is gone on B', async () => {
    await manageOk(a, 'DELETE', '/apis/res/policies/policy');
    await manageOk(a, 'DELETE', '/policyFragments/stamp');
    const deletedMs = Date.now();
    assertPropagated('the fragment deletion', b, await delayUntil(deletedMs, async () =>
      (await b.manage('GET', '/policyFragments/stamp')).status === 404 && (await stampThrough(b)) === ''));

    const response = await b.manage('PUT', '/apis/res/policies/policy',
      policyBody('<include-fragment fragment-id="stamp"/>'));
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /policy fragment 'stamp' was not found/);
  });

  // Returns the request that the echo backend received for GET /res/orders/list through
  // `gateway`, or undefined when the call failed.
  async function ordersRequestThrough(gateway) {
    const response = await call(gateway, '/orders/list');
    return response.status === 200 ? response.json : undefined;
  }

  test('backend changes reach gateway B', async () => {
    await manageOk(a, 'PUT', '/backends/orders', ordersBackend(echo, '/orders-first'));
    await manageOk(a, 'PUT', '/apis/res/operations/orders/policies/policy',
      policyBody('<set-backend-service backend-id="orders"/>'));
    const createdMs = Date.now();
    assertPropagated('the new backend', b, await delayUntil(createdMs, async () =>
      (await ordersRequestThrough(b))?.url === '/orders-first/orders/list'));
    assert.equal((await ordersRequestThrough(b)).headers['x-api-key'], kHeaderSecret);

    await manageOk(a, 'PUT', '/backends/orders', ordersBackend(echo, '/orders-second'));
    const changedMs = Date.now();
    assertPropagated('the changed backend URL', b, await delayUntil(changedMs, async () =>
      (await ordersRequestThrough(b))?.url === '/orders-second/orders/list'));
    assert.equal((await ordersRequestThrough(b)).headers['x-api-key'], kHeaderSecret);
  });

  test('backend in use is kept on B', async () => {
    const response = await b.manage('DELETE', '/backends/orders');
    assert.equal(response.status, 409, response.text);
    assert.match(response.text, /\/apis\/res\/operations\/orders\/policies\/policy/);
    assert.equal((await ordersRequestThrough(b))?.url, '/orders-second/orders/list');
  });

  test('deleted backend is gone on B', async () => {
    await manageOk(a, 'DELETE', '/apis/res/operations/orders/policies/policy');
    await manageOk(a, 'DELETE', '/backends/orders');
    const deletedMs = Date.now();
    // Without its policy the operation goes to the API's service URL.
    assertPropagated('the backend deletion', b, await delayUntil(deletedMs, async () =>
      (await b.manage('GET', '/backends/orders')).status === 404 &&
      (await ordersRequestThrough(b))?.url === '/api/orders/list'));

    const response = await b.manage('PUT', '/apis/res/operations/orders/policies/policy',
      policyBody('<set-backend-service backend-id="orders"/>'));
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /names backend 'orders', which does not exist/);
  });

  describe('certificate', () => {
    let first;
    let second;
    const signedPolicy = policyBody(`<validate-jwt header-name="Authorization">
      <issuer-signing-keys><key certificate-id="signer"/></issuer-signing-keys></validate-jwt>`);

    before(() => {
      first = makeCertificate(folder, 'signer-one.example');
      second = makeCertificate(folder, 'signer-two.example');
    });

    // Returns the status of GET /res/signed through `gateway` with a token signed by `keyPem`.
    async function signedStatus(gateway, keyPem) {
      return (await call(gateway, '/signed', { authorization: `Bearer ${signedToken(keyPem)}` })).status;
    }

    test('certificate from A verifies tokens on B', async () => {
      await manageOk(a, 'PUT', '/certificates/signer', { properties: { data: first.certificatePem } });
      const createdMs = Date.now();
      assertPropagated('the new certificate', b, await delayUntil(createdMs, async () =>
        (await b.manage('GET', '/certificates/signer')).status === 200));

      // The policy goes through B, whose compiler must find the certificate that A stored.
      await manageOk(b, 'PUT', '/apis/res/operations/signed/policies/policy', signedPolicy);
      assert.equal(await signedStatus(b, first.keyPem), 200);
      const foreign = await call(b, '/signed', {
        authorization: `Bearer ${signWithForeignKey({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 300 })}`,
      });
      assert.equal(foreign.status, 401, foreign.text);
      const policyMs = Date.now();
      assertPropagated('the policy from B', a, await delayUntil(policyMs, async () =>
        (await signedStatus(a, first.keyPem)) === 200));
    });

    test('replaced certificate recompiles on B', async () => {
      await manageOk(a, 'PUT', '/certificates/signer', { properties: { data: second.certificatePem } });
      const replacedMs = Date.now();
      assertPropagated('the replaced certificate', b, await delayUntil(replacedMs, async () =>
        (await signedStatus(b, second.keyPem)) === 200));
      assert.equal(await signedStatus(b, first.keyPem), 401);
      const got = await manageOk(b, 'GET', '/certificates/signer');
      assert.equal(got.properties.subject, 'CN=signer-two.example');
    });

    test('certificate in use is kept', async () => {
      for (const gateway of [a, b]) {
        const response = await gateway.manage('DELETE', '/certificates/signer');
        assert.equal(response.status, 409, `${gateway.name}: ${response.text}`);
        assert.match(response.text, /\/apis\/res\/operations\/signed\/policies\/policy/);
      }
      assert.equal(await signedStatus(b, second.keyPem), 200);
    });

    test('deleted certificate is gone on B', async () => {
      await manageOk(a, 'DELETE', '/apis/res/operations/signed/policies/policy');
      await manageOk(a, 'DELETE', '/certificates/signer');
      const deletedMs = Date.now();
      // Without its policy the operation no longer checks tokens.
      assertPropagated('the certificate deletion', b, await delayUntil(deletedMs, async () =>
        (await b.manage('GET', '/certificates/signer')).status === 404 &&
        (await call(b, '/signed')).status === 200));

      const response = await b.manage('PUT', '/apis/res/operations/signed/policies/policy', signedPolicy);
      assert.equal(response.status, 400, response.text);
      assert.match(response.text, /certificate 'signer' was not found/);
    });

    // NOTE: each gateway checks the users of a resource in its own memory, so a DELETE through A
    // and a PUT of a policy that names the resource through B, sent together, can both succeed.
    // The store then has a policy whose certificate is gone. No gateway may then let requests
    // through without the policy: a gateway that compiled it in time runs it (401), and one that
    // cannot compile it responds with 500. Whether an attempt hits the race depends on timing, so the
    // test makes ten.
    test('raced deletion leaves no gateway open', async () => {
      const kAttempts = 10;
      const outcomes = [];
      for (let attempt = 0; attempt < kAttempts; attempt += 1) {
        const id = `raced-${attempt}`;
        await manageOk(a, 'PUT', `/certificates/${id}`, { properties: { data: first.certificatePem } });
        assert.ok(await pollUntil(async () => (await b.manage('GET', `/certificates/${id}`)).status === 200,
          kPropagationPollMs, 25), `certificate ${id} never reached B`);
        const racedPolicy = policyBody(`<validate-jwt header-name="Authorization">
          <issuer-signing-keys><key certificate-id="${id}"/></issuer-signing-keys></validate-jwt>`);
        const [put, deletion] = await Promise.all([
          b.manage('PUT', '/apis/res/operations/signed/policies/policy', racedPolicy),
          a.manage('DELETE', `/certificates/${id}`),
        ]);
        outcomes.push(`PUT ${put.status}, DELETE ${deletion.status}`);

        // 409: B stored the policy but had applied the deletion before it could publish it.
        const stored = put.status < 300 || put.status === 409;
        if (put.status === 409) assert.match(put.text, /no longer compiles/);
        if (stored && deletion.status < 300) {
          for (const gateway of [a, b]) {
            assert.ok(await pollUntil(async () => [401, 500].includes((await call(gateway, '/signed')).status),
              kPropagationPollMs, 25), `${gateway.name} let a request without a token through after ${outcomes.at(-1)}`);
          }
        }
        if (stored) await manageOk(a, 'DELETE', '/apis/res/operations/signed/policies/policy');
        if (deletion.status >= 300) await manageOk(a, 'DELETE', `/certificates/${id}`);
        assert.ok(await pollUntil(async () => (await call(a, '/signed')).status === 200 &&
          (await call(b, '/signed')).status === 200, kPropagationPollMs, 25),
          `the policy of attempt ${attempt} was not removed everywhere`);
      }
      console.log(`raced deletions: ${outcomes.join('; ')}`);
    });
  });
});
