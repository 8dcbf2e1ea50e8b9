// End-to-end tests of TLS. Both listeners serve HTTPS with certificates that `openssl` makes
// here. SIGHUP swaps the certificate for new connections while an open keep-alive connection
// goes on, and a failed reload keeps the old certificate. A backend behind its own CA is
// reachable only with --backend-ca-file, and the sign-in redirect URL uses https. send-request
// presents a stored client certificate to a backend that requires one, directly and through a
// local forward proxy. Every process
// listens on 127.0.0.1 with ports picked here, and no test contacts the example.com URLs it
// stores.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/tls.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { Agent, createServer, request as httpsRequest } from 'node:https';
import { connect as connectTcp } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  confirmationFields,
  credgateBinaryExists,
  Credgate,
  kAdminKey,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { sleep } from './lib/tokens.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

const kApiVersion = 'api-version=2022-08-01';
const kClientSecret = 'tls-test-client-secret-8b2f0d41';
recordSecrets('client secret', [kClientSecret]);
const dirs = [];

after(async () => {
  await stopAll();
  for (const dir of dirs) removeTestDir(dir);
});

// Runs `openssl` with `args` in `dir`.
function openssl(dir, args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

// Makes a self-signed CA `name`.pem with its key `name`.key.
function makeCa(dir, name) {
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '1', '-subj', `/CN=${name}`,
  ]);
}

// Makes `name`.pem and `name`.key: a certificate for 127.0.0.1 and localhost with common name
// `name` and serial number `serial`, signed by the CA `ca`.
function makeServerCertificate(dir, ca, name, serial) {
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, [
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`,
  ]);
  openssl(dir, [
    'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`,
    '-set_serial', String(serial), '-days', '1', '-extfile', 'san.cnf', '-out', `${name}.pem`,
  ]);
}

// Sends one HTTPS request and resolves with {status, headers, text, json, certificate,
// reusedSocket}; `certificate` is the server certificate of the connection that carried it.
function request(url, { method = 'GET', headers = {}, body, ca, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca, agent }, (res) => {
      const certificate = res.socket.getPeerCertificate();
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const { statusCode: status, headers: responseHeaders } = res;
        resolve({ status, headers: responseHeaders, text, json, certificate, reusedSocket: req.reusedSocket });
      });
    });
    req.setTimeout(10000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

// Resolves with the error of a plain HTTP GET, to which a TLS listener must not respond.
function plainHttpGet(url) {
  return new Promise((resolve) => {
    const req = httpGet(url, (res) => {
      res.resume();
      resolve(new Error(`responded to plain HTTP with ${res.statusCode}`));
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', resolve);
  });
}

// Reads one counter sample from a Prometheus text page, or undefined when it is absent.
function sample(page, name, labels) {
  const line = page.split('\n').find((text) => text.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('TLS listeners', { skip }, () => {
  let dir;
  let credgate;
  let ca;
  let gatewayUrl;
  let managementUrl;
  let gatewayPort;
  let backend;

  // Calls the management API over HTTPS with the admin key.
  function manage(method, path, body) {
    const headers = { authorization: `Bearer ${kAdminKey}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const text = body === undefined ? undefined : JSON.stringify(body);
    return request(`${managementUrl}${path}?${kApiVersion}`, { method, headers, body: text, ca });
  }

  before(async () => {
    mkdirSync(kOutputDir, { recursive: true });
    dir = mkdtempSync(join(kOutputDir, 'tls-'));
    dirs.push(dir);
    makeCa(dir, 'listener-ca');
    makeServerCertificate(dir, 'listener-ca', 'credgate-one', 1001);
    makeServerCertificate(dir, 'listener-ca', 'credgate-two', 1002);
    makeServerCertificate(dir, 'listener-ca', 'credgate-management', 1003);
    makeCa(dir, 'backend-ca');
    makeServerCertificate(dir, 'backend-ca', 'backend', 2001);
    copyFileSync(join(dir, 'credgate-one.pem'), join(dir, 'gateway.pem'));
    copyFileSync(join(dir, 'credgate-one.key'), join(dir, 'gateway.key'));
    ca = readFileSync(join(dir, 'listener-ca.pem'));

    backend = createServer(
      { cert: readFileSync(join(dir, 'backend.pem')), key: readFileSync(join(dir, 'backend.key')) },
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ backend: 'tls', path: req.url, proto: req.headers['x-forwarded-proto'] }));
      },
    );
    await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));

    let managementPort;
    [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
    gatewayUrl = `https://127.0.0.1:${gatewayPort}`;
    managementUrl = `https://127.0.0.1:${managementPort}`;
    credgate = new Credgate({
      gatewayPort,
      managementPort,
      dataDir: join(dir, 'data'),
      name: 'tls',
      publicUrl: null,
      extraArgs: [
        '--gateway-tls-cert', join(dir, 'gateway.pem'),
        '--gateway-tls-key', join(dir, 'gateway.key'),
        '--management-tls-cert', join(dir, 'credgate-management.pem'),
        '--management-tls-key', join(dir, 'credgate-management.key'),
        '--backend-ca-file', join(dir, 'backend-ca.pem'),
      ],
    });
    credgate.spawn();
    const deadline = Date.now() + 20000;
    for (;;) {
      const healthy = await request(`${managementUrl}/healthz`, { ca })
        .then((response) => response.status === 200)
        .catch(() => false);
      if (healthy) break;
      if (Date.now() > deadline) throw new Error(`credgate not healthy; output:\n${credgate.output}`);
      await sleep(100);
    }
    credgate.recordKeyFiles();

    await manage('PUT', '/apis/secure', {
      properties: {
        displayName: 'Secure',
        path: 'secure',
        serviceUrl: `https://127.0.0.1:${backend.address().port}`,
      },
    });
    await manage('PUT', '/apis/secure/operations/hello', {
      properties: { method: 'GET', urlTemplate: '/hello' },
    });
  });

  after(() => backend?.close());

  test('management healthz answers over https with the listener CA', async () => {
    const response = await request(`${managementUrl}/healthz`, { ca });
    assert.equal(response.status, 200);
    assert.equal(response.certificate.subject.CN, 'credgate-management');
  });

  test('plain HTTP to a TLS listener is counted', async () => {
    const error = await plainHttpGet(`http://127.0.0.1:${gatewayPort}/secure/hello`);
    assert.ok(error instanceof Error);
    assert.doesNotMatch(error.message, /responded to plain HTTP/);
    const metrics = await request(`${managementUrl}/metrics`, { ca });
    const failures = sample(metrics.text, 'credgate_tls_handshake_failures_total', 'listener="gateway"');
    assert.ok(failures >= 1, metrics.text);
  });

  test('the gateway reaches a TLS backend trusted through --backend-ca-file', async () => {
    const response = await request(`${gatewayUrl}/secure/hello`, { ca });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json?.backend, 'tls');
    assert.equal(response.json?.proto, 'https', 'a request that arrived over TLS says so to the backend');
  });

  test('the CLI calls an https management URL with CREDGATE_MANAGEMENT_CA_FILE', () => {
    const run = (caFile) =>
      spawnSync(kCredgateBin, ['api', 'list', '--management-url', managementUrl], {
        encoding: 'utf8',
        timeout: 30000,
        env: {
          PATH: process.env.PATH,
          CREDGATE_ADMIN_KEY: kAdminKey,
          ...(caFile === undefined ? {} : { CREDGATE_MANAGEMENT_CA_FILE: caFile }),
        },
      });
    const trusted = run(join(dir, 'listener-ca.pem'));
    assert.equal(trusted.status, 0, trusted.stderr);
    assert.match(trusted.stdout, /secure/);
    const untrusted = run(undefined);
    assert.notEqual(untrusted.status, 0, untrusted.stdout);
    assert.match(untrusted.stderr, /TLS handshake .* failed/);
  });

  test('login links and the OAuth redirect URL use https', async () => {
    await manage('PUT', '/authorizationProviders/example', {
      properties: {
        displayName: 'Example',
        identityProvider: 'oauth2',
        oauth2: {
          grantTypes: {
            authorizationCode: {
              clientId: 'example-client',
              clientSecret: kClientSecret,
              scopes: 'read',
              authorizationUrl: 'https://oauth.example.com/authorize',
              tokenUrl: 'https://oauth.example.com/token',
            },
          },
        },
      },
    });
    await manage('PUT', '/authorizationProviders/example/authorizations/alice', {
      properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
    });
    const links = await manage(
      'POST',
      '/authorizationProviders/example/authorizations/alice/getLoginLinks',
      {},
    );
    assert.equal(links.status, 200, links.text);
    assert.ok(links.json.loginLink.startsWith(`${gatewayUrl}/`), links.json.loginLink);

    const page = await request(links.json.loginLink, { ca });
    assert.equal(page.status, 200, page.text);
    assert.match(page.headers['set-cookie'][0], /; Secure/, 'an https public URL sets Secure cookies');
    const consentCookie = page.headers['set-cookie'][0].split(';')[0];
    const start = await request(`${gatewayUrl}/.credgate/consent`, {
      method: 'POST',
      headers: { cookie: consentCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...confirmationFields(page.text), action: 'continue' }).toString(),
      ca,
    });
    assert.equal(start.status, 303, start.text);
    const authorize = new URL(start.headers.location);
    assert.equal(authorize.origin, 'https://oauth.example.com');
    assert.equal(authorize.searchParams.get('redirect_uri'), `${gatewayUrl}/.credgate/callback`);
  });

  test('SIGHUP serves a new certificate to new connections only', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
    const first = await request(`${gatewayUrl}/secure/hello`, { agent });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.certificate.subject.CN, 'credgate-one');

    copyFileSync(join(dir, 'credgate-two.pem'), join(dir, 'gateway.pem'));
    copyFileSync(join(dir, 'credgate-two.key'), join(dir, 'gateway.key'));
    const reloaded = credgate.waitForLog((line) =>
      line.includes('TLS certificate reloaded listener=gateway'),
    );
    credgate.child.process.kill('SIGHUP');
    await reloaded;

    const fresh = await request(`${gatewayUrl}/secure/hello`, { ca, agent: false });
    assert.equal(fresh.status, 200, fresh.text);
    assert.equal(fresh.certificate.subject.CN, 'credgate-two');
    assert.equal(fresh.certificate.serialNumber, (1002).toString(16).toUpperCase().padStart(4, '0'));

    const again = await request(`${gatewayUrl}/secure/hello`, { agent });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.reusedSocket, true, 'the keep-alive connection stayed open');
    assert.equal(again.certificate.subject.CN, 'credgate-one');
    agent.destroy();
  });

  test('a reload that fails keeps the current certificate and names the file', async () => {
    writeFileSync(join(dir, 'gateway.pem'), 'not a certificate\n');
    const failed = credgate.waitForLog((line) => line.includes('TLS reload failed listener=gateway'));
    credgate.child.process.kill('SIGHUP');
    const record = await failed;
    assert.ok(record.message.includes(join(dir, 'gateway.pem')), record.message);
    assert.equal(record.level, 'error');

    const response = await request(`${gatewayUrl}/secure/hello`, { ca, agent: false });
    assert.equal(response.status, 200, response.text);
    assert.equal(response.certificate.subject.CN, 'credgate-two');

    const metrics = await request(`${managementUrl}/metrics`, { ca });
    const reloads = (outcome) =>
      sample(metrics.text, 'credgate_tls_reloads_total', `listener="gateway",outcome="${outcome}"`);
    assert.equal(reloads('succeeded'), 1, metrics.text);
    assert.equal(reloads('failed'), 1, metrics.text);
  });
});

describe('TLS backends without --backend-ca-file', { skip }, () => {
  test('a backend whose CA is not trusted gets 502', async () => {
    const dir = mkdtempSync(join(kOutputDir, 'tls-untrusted-'));
    dirs.push(dir);
    makeCa(dir, 'backend-ca');
    makeServerCertificate(dir, 'backend-ca', 'backend', 3001);
    let requests = 0;
    const backend = createServer(
      { cert: readFileSync(join(dir, 'backend.pem')), key: readFileSync(join(dir, 'backend.key')) },
      (req, res) => {
        requests += 1;
        res.end('{}');
      },
    );
    await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));
    try {
      const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
      const credgate = new Credgate({
        gatewayPort,
        managementPort,
        dataDir: join(dir, 'data'),
        name: 'tls-untrusted',
      });
      await credgate.start();
      await credgate.manage('PUT', '/apis/secure', {
        properties: {
          displayName: 'Secure',
          path: 'secure',
          serviceUrl: `https://127.0.0.1:${backend.address().port}`,
        },
      });
      await credgate.manage('PUT', '/apis/secure/operations/hello', {
        properties: { method: 'GET', urlTemplate: '/hello' },
      });
      const response = await credgate.call('/secure/hello');
      assert.equal(response.status, 502, response.text);
      assert.equal(requests, 0, 'the backend received no request');
      await credgate.stop();
    } finally {
      backend.close();
    }
  });
});

describe('send-request with a client certificate and a proxy', { skip }, () => {
  let dir;
  let credgate;
  let backend;
  let proxy;
  const proxied = [];

  before(async () => {
    mkdirSync(kOutputDir, { recursive: true });
    dir = mkdtempSync(join(kOutputDir, 'tls-client-certificate-'));
    dirs.push(dir);
    makeCa(dir, 'backend-ca');
    makeServerCertificate(dir, 'backend-ca', 'backend', 4001);
    makeCa(dir, 'client-ca');
    makeServerCertificate(dir, 'client-ca', 'gateway-client', 4002);
    openssl(dir, ['pkcs12', '-export', '-inkey', 'gateway-client.key', '-in', 'gateway-client.pem',
      '-out', 'gateway-client.pfx', '-passout', 'pass:client-pfx-password']);

    // An HTTPS backend that accepts only clients with a certificate of client-ca.
    backend = createServer(
      {
        cert: readFileSync(join(dir, 'backend.pem')),
        key: readFileSync(join(dir, 'backend.key')),
        ca: readFileSync(join(dir, 'client-ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ client: req.socket.getPeerCertificate().subject?.CN ?? null }));
      },
    );
    await new Promise((resolve) => backend.listen(0, '127.0.0.1', resolve));

    // A forward proxy: CONNECT opens a tunnel to a 127.0.0.1 port, and an absolute-form request
    // gets a response from the proxy itself.
    proxy = createHttpServer((req, res) => {
      proxied.push({ method: req.method, url: req.url, auth: req.headers['proxy-authorization'] });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ proxied: req.url }));
    });
    proxy.on('connect', (req, socket, head) => {
      proxied.push({ method: req.method, url: req.url, auth: req.headers['proxy-authorization'] });
      const port = Number(req.url.split(':').at(-1));
      const upstream = connectTcp(port, '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));

    const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
    credgate = new Credgate({
      gatewayPort,
      managementPort,
      dataDir: join(dir, 'data'),
      name: 'tls-client-certificate',
      extraArgs: ['--backend-ca-file', join(dir, 'backend-ca.pem')],
    });
    await credgate.start();
    const created = await credgate.manage('PUT', '/certificates/gateway-client', {
      properties: {
        data: readFileSync(join(dir, 'gateway-client.pfx')).toString('base64'),
        password: 'client-pfx-password',
      },
    });
    assert.equal(created.status, 201, created.text);
    await credgate.manage('PUT', '/apis/calls', {
      properties: { displayName: 'Calls', path: 'calls', serviceUrl: 'http://127.0.0.1:9' },
    });
  });

  after(() => {
    backend?.close();
    proxy?.close();
  });

  // Creates operation `id` whose inbound section returns the response of a send-request with
  // `children`.
  async function putCallingOperation(id, url, children) {
    await credgate.manage('PUT', `/apis/calls/operations/${id}`, {
      properties: { method: 'GET', urlTemplate: `/${id}` },
    });
    const policy = `<policies><inbound><base/>
      <send-request response-variable-name="r" timeout="10"><set-url>${url}</set-url>${children}</send-request>
      <return-response response-variable-name="r"/></inbound></policies>`;
    const saved = await credgate.manage('PUT', `/apis/calls/operations/${id}/policies/policy`, {
      properties: { format: 'rawxml', value: policy },
    });
    assert.ok(saved.status < 300, saved.text);
  }

  test('the stored certificate authenticates send-request', async () => {
    const url = `https://127.0.0.1:${backend.address().port}/whoami`;
    await putCallingOperation('with-certificate', url,
      '<authentication-certificate certificate-id="gateway-client"/>');
    const response = await credgate.call('/calls/with-certificate');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.client, 'gateway-client');
  });

  test('the thumbprint finds the stored certificate', async () => {
    const stored = await credgate.manage('GET', '/certificates/gateway-client');
    const thumbprint = stored.json.properties.thumbprint.toLowerCase();
    const url = `https://127.0.0.1:${backend.address().port}/whoami`;
    await putCallingOperation('by-thumbprint', url,
      `<authentication-certificate thumbprint="${thumbprint}"/>`);
    const response = await credgate.call('/calls/by-thumbprint');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.client, 'gateway-client');
  });

  test('without a certificate the backend rejects the handshake', async () => {
    const url = `https://127.0.0.1:${backend.address().port}/whoami`;
    await putCallingOperation('without-certificate', url, '');
    const response = await credgate.call('/calls/without-certificate');
    assert.equal(response.status, 500, response.text);
  });

  test('https through the proxy uses CONNECT with Basic credentials', async () => {
    const url = `https://127.0.0.1:${backend.address().port}/whoami`;
    await putCallingOperation('through-proxy', url,
      `<authentication-certificate certificate-id="gateway-client"/>
       <proxy url="http://127.0.0.1:${proxy.address().port}" username="proxy-user" password="proxy-pass"/>`);
    const before = proxied.length;
    const response = await credgate.call('/calls/through-proxy');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.client, 'gateway-client');
    const seen = proxied.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, 'CONNECT');
    assert.equal(seen[0].url, `127.0.0.1:${backend.address().port}`);
    assert.equal(seen[0].auth, `Basic ${Buffer.from('proxy-user:proxy-pass').toString('base64')}`);
  });

  test('a new proxy password opens a new tunnel', async () => {
    const url = `https://127.0.0.1:${backend.address().port}/whoami`;
    await putCallingOperation('through-proxy', url,
      `<authentication-certificate certificate-id="gateway-client"/>
       <proxy url="http://127.0.0.1:${proxy.address().port}" username="proxy-user" password="rotated-pass"/>`);
    const before = proxied.length;
    const response = await credgate.call('/calls/through-proxy');
    assert.equal(response.status, 200, response.text);
    const seen = proxied.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].method, 'CONNECT');
    assert.equal(seen[0].auth, `Basic ${Buffer.from('proxy-user:rotated-pass').toString('base64')}`);
  });

  test('http through the proxy uses the absolute form', async () => {
    await putCallingOperation('plain-proxy', 'http://127.0.0.1:9/items?id=1',
      `<proxy url="http://127.0.0.1:${proxy.address().port}"/>`);
    const response = await credgate.call('/calls/plain-proxy');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.proxied, 'http://127.0.0.1:9/items?id=1');
  });

  test('an inbound certificate authenticates the backend call', async () => {
    await credgate.manage('PUT', '/apis/mtls', {
      properties: {
        displayName: 'mTLS backend',
        path: 'mtls',
        serviceUrl: `https://127.0.0.1:${backend.address().port}`,
      },
    });
    for (const [id, inbound] of [
      ['with-certificate', '<authentication-certificate certificate-id="gateway-client"/>'],
      ['without-certificate', ''],
    ]) {
      await credgate.manage('PUT', `/apis/mtls/operations/${id}`, {
        properties: { method: 'GET', urlTemplate: `/${id}` },
      });
      const saved = await credgate.manage('PUT', `/apis/mtls/operations/${id}/policies/policy`, {
        properties: { format: 'rawxml', value: `<policies><inbound>${inbound}</inbound></policies>` },
      });
      assert.ok(saved.status < 300, saved.text);
    }

    const presented = await credgate.call('/mtls/with-certificate');
    assert.equal(presented.status, 200, presented.text);
    assert.equal(presented.json.client, 'gateway-client');
    // The connection that presented the certificate is pooled apart, so this call opens its own
    // and the backend rejects the handshake.
    const rejected = await credgate.call('/mtls/without-certificate');
    assert.equal(rejected.status, 502, rejected.text);
  });

  test('a used certificate cannot be deleted', async () => {
    const response = await credgate.manage('DELETE', '/certificates/gateway-client');
    assert.equal(response.status, 409, response.text);
    assert.match(response.text, /\/apis\/calls\/operations\/with-certificate\/policies\/policy/);
  });
});
