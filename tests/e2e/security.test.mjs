// End-to-end tests of the management API's own security and of secrets at rest, through the
// credgate binary. They cover admin key roles and the `credgate admin-key` subcommands,
// administrator JWTs, the failed-authentication limit and the audit log. They also cover the
// deletion of key material, and master key rotation with `credgate keys rewrap` and a master key
// command. docs/configuration.md and
// docs/management-api.md state the contract that these tests check. Every process listens on
// 127.0.0.1 with ports picked here.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/security.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  authorizationPolicy,
  credgateBinaryExists,
  Credgate,
  kAdminKey,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, startNodeServer, stopAll } from './lib/processes.mjs';
import { callerToken, fetchJson, kCallers, sleep } from './lib/tokens.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

const kApiBody = {
  properties: { displayName: 'Echo', path: 'echo', serviceUrl: 'https://echo.example.com' },
};

const dataDirs = [];

function newDataDir(name) {
  const dir = mkdtempSync(join(kOutputDir, `security-${name}-`));
  dataDirs.push(dir);
  return dir;
}

async function newCredgate(name, options = {}) {
  const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
  return new Credgate({
    gatewayPort,
    managementPort,
    dataDir: options.dataDir ?? newDataDir(name),
    name: `security-${name}`,
    ...options,
  });
}

after(async () => {
  await stopAll();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

// Runs the credgate binary with `args` and returns {status, stdout, stderr}.
function runCli(args, env = {}) {
  const result = spawnSync(kCredgateBin, args, {
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, CREDGATE_ADMIN_KEY: kAdminKey, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Sends one management request with `key` as the bearer token.
function send(credgate, method, path, key, body) {
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetchJson(`${credgate.managementUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

// Asserts a 2xx management response with the bootstrap key and returns its JSON body.
async function manage(credgate, method, path, body) {
  const response = await credgate.manage(method, path, body);
  assert.ok(
    response.status >= 200 && response.status < 300,
    `${method} ${path} returned ${response.status}: ${response.text}`,
  );
  return response.json;
}

describe('admin key roles', { skip, timeout: 60000 }, () => {
  let credgate;

  before(async () => {
    credgate = await newCredgate('roles');
    await credgate.start();
  });

  test('offline create prints a reader key', async () => {
    const created = runCli(['admin-key', 'create', '--id', 'viewer', '--role', 'reader',
      '--data-dir', credgate.dataDir]);
    assert.equal(created.status, 0, created.stderr);
    const key = created.stdout.trim();
    assert.match(key, /^cgk_[A-Za-z0-9_-]{43}$/);

    assert.equal((await send(credgate, 'GET', '/apis', key)).status, 200);
    const denied = await send(credgate, 'PUT', '/apis/echo', key, kApiBody);
    assert.equal(denied.status, 403, denied.text);
    assert.equal(denied.json.error.code, 'Forbidden');
    assert.match(denied.json.error.message, /'viewer' has role 'reader'.*needs role 'operator'/);
  });

  test('online create gives an operator key', async () => {
    const created = runCli(['admin-key', 'create', '--id', 'deployer', '--role', 'operator',
      '--management-url', credgate.managementUrl]);
    assert.equal(created.status, 0, created.stderr);
    const key = created.stdout.trim();

    assert.equal((await send(credgate, 'PUT', '/apis/echo', key, kApiBody)).status, 201);
    const keys = await send(credgate, 'GET', '/adminKeys', key);
    assert.equal(keys.status, 403, keys.text);
    assert.match(keys.json.error.message, /needs role 'admin'/);
    assert.equal((await send(credgate, 'POST', '/masterKeys/rewrap', key)).status, 403);
  });

  test('list shows ids and roles only', () => {
    for (const where of [['--data-dir', credgate.dataDir],
      ['--management-url', credgate.managementUrl]]) {
      const listed = runCli(['admin-key', 'list', ...where]);
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, /^deployer\s+operator\s+\d+$/m);
      assert.match(listed.stdout, /^viewer\s+reader\s+\d+$/m);
      assert.ok(!listed.stdout.includes('cgk_'), listed.stdout);
    }
  });

  test('revoke takes effect at once', async () => {
    const created = runCli(['admin-key', 'create', '--id', 'short-lived', '--role', 'admin',
      '--data-dir', credgate.dataDir]);
    const key = created.stdout.trim();
    assert.equal((await send(credgate, 'GET', '/adminKeys', key)).status, 200);

    const revoked = runCli(['admin-key', 'revoke', 'short-lived', '--data-dir', credgate.dataDir]);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.equal((await send(credgate, 'GET', '/apis', key)).status, 401);

    const again = runCli(['admin-key', 'revoke', 'short-lived',
      '--management-url', credgate.managementUrl]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /no admin key has the id 'short-lived'/);
  });

  test('cli rejects an unknown role', () => {
    const created = runCli(['admin-key', 'create', '--id', 'x', '--role', 'root',
      '--data-dir', credgate.dataDir]);
    assert.equal(created.status, 2);
    assert.match(created.stderr, /reader, operator or admin/);
  });
});

describe('administrator jwt', { skip, timeout: 60000 }, () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `admin-${randomBytes(4).toString('hex')}`;
  let jwks;
  let issuer;
  let credgate;

  function adminToken(claims) {
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: issuer, aud: 'api://credgate-admin', iat: now, exp: now + 300, ...claims };
    const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${encode({ alg: 'RS256', typ: 'JWT', kid })}.${encode(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
  }

  before(async () => {
    const jwk = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
    jwks = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    const port = await freePort();
    await new Promise((resolve) => jwks.listen(port, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${port}`;
    credgate = await newCredgate('admin-jwt', {
      extraArgs: ['--admin-jwt-issuer', issuer, '--admin-jwt-audience', 'api://credgate-admin',
        '--admin-jwt-jwks-uri', `${issuer}/jwks`, '--admin-jwt-role-claim', 'credgate_roles'],
    });
    await credgate.start();
  });

  after(() => jwks?.close());

  test('role claim maps to a role', async () => {
    const operator = adminToken({ sub: 'dana', credgate_roles: ['reader', 'operator'] });
    assert.equal((await send(credgate, 'PUT', '/apis/echo', operator, kApiBody)).status, 201);
    const denied = await send(credgate, 'GET', '/adminKeys', operator);
    assert.equal(denied.status, 403);
    assert.match(denied.json.error.message, /'dana' has role 'operator'/);

    const admin = adminToken({ sub: 'erin', credgate_roles: 'admin' });
    assert.equal((await send(credgate, 'GET', '/adminKeys', admin)).status, 200);
  });

  test('token without role is forbidden', async () => {
    const response = await send(credgate, 'GET', '/apis', adminToken({ sub: 'frank' }));
    assert.equal(response.status, 403);
    assert.match(response.json.error.message, /no claim 'credgate_roles'/);
  });

  test('wrong audience is unauthenticated', async () => {
    const token = adminToken({ sub: 'dana', aud: 'api://other', credgate_roles: 'admin' });
    assert.equal((await send(credgate, 'GET', '/apis', token)).status, 401);
  });

  test('audit names the jwt subject', async () => {
    const admin = adminToken({ sub: 'erin', credgate_roles: 'admin' });
    assert.equal((await send(credgate, 'DELETE', '/apis/echo', admin)).status, 200);
    const isDelete = (e) => e.method === 'DELETE' && e.path === '/apis/echo';
    const events = await readAudit(credgate.dataDir, isDelete);
    const deleted = events.find(isDelete);
    assert.deepEqual(deleted.actor, { type: 'jwt', id: 'erin', role: 'admin' });
    assert.ok(!readFileSync(join(credgate.dataDir, 'audit.log'), 'utf8').includes(admin));
  });
});

describe('failed authentication limit', { skip, timeout: 60000 }, () => {
  test('eleventh attempt gets 429', async () => {
    const credgate = await newCredgate('limit');
    await credgate.start();
    for (let i = 0; i < 10; i += 1) {
      const response = await send(credgate, 'GET', '/apis', `cgk_wrong_${i}_0123456789abcdefghij`);
      assert.equal(response.status, 401, `attempt ${i + 1}`);
    }
    const limited = await fetch(`${credgate.managementUrl}/apis`, {
      headers: { authorization: `Bearer ${kAdminKey}` },
    });
    assert.equal(limited.status, 429);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1, `Retry-After ${retryAfter}`);
    assert.ok(retryAfter <= 60, `Retry-After ${retryAfter}`);
    const body = await limited.json();
    assert.equal(body.error.code, 'TooManyRequests');
    assert.match(credgate.output, /reached the failed authentication limit client=127\.0\.0\.1/);
    assert.match(credgate.output, /unauthenticated_total=10/);
  });
});

// Parses <dataDir>/audit.log into its events once `predicate` matches one of them. A writer
// thread appends the events, so the file may lag the call that caused one by a few milliseconds.
// This waits up to 5 s and then returns what the file has.
async function readAudit(dataDir, predicate) {
  for (let attempt = 0; ; attempt += 1) {
    const text = readFileSync(join(dataDir, 'audit.log'), 'utf8');
    const lines = text.trim().split('\n').filter((line) => line !== '');
    const events = lines.map((line) => JSON.parse(line));
    if (events.some(predicate) || attempt >= 50) return events;
    await sleep(100);
  }
}

// An API that returns the bearer token it received, so that the test can search for its value.
async function startTokenEchoApi() {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ authorization: req.headers.authorization ?? '' }));
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${port}` };
}

describe('secrets at rest', { skip, timeout: 180000 }, () => {
  const kProvider = 'daemon-idp';
  const kConnection = 'bob-app';
  const kConnectionPath = `/authorizationProviders/${kProvider}/authorizations/${kConnection}`;
  const kStoreKey = `authorizationProviders/${kProvider}/authorizations/${kConnection}`;
  const kProviderSecret = 'code-provider-secret-4d8e2b6a9c1f3e5d';
  let idp;
  let api;

  before(async () => {
    const idpPort = await freePort();
    [, idp] = await startNodeServer('security-idp', 'idp.mjs', ['--port', String(idpPort)]);
    api = await startTokenEchoApi();
  });

  after(() => api?.server.close());

  // Declares a client credentials connection for caller-bob, usable by caller-alice through the
  // API `echo`, and an authorization code provider with a client secret.
  async function configure(credgate) {
    await manage(credgate, 'PUT', '/trustedIssuers/idp', {
      properties: { issuer: idp.issuer, audiences: ['api://credgate'] },
    });
    await manage(credgate, 'PUT', `/authorizationProviders/${kProvider}`, {
      properties: {
        identityProvider: 'oauth2',
        oauth2: { grantTypes: { clientCredentials: { tokenUrl: `${idp.issuer}/token` } } },
      },
    });
    await manage(credgate, 'PUT', '/authorizationProviders/code', {
      properties: {
        identityProvider: 'oauth2',
        oauth2: {
          grantTypes: {
            authorizationCode: {
              clientId: 'code-client',
              clientSecret: kProviderSecret,
              scopes: 'read',
              authorizationUrl: 'https://oauth.example.com/authorize',
              tokenUrl: 'https://oauth.example.com/token',
            },
          },
        },
      },
    });
    const connection = await manage(credgate, 'PUT', kConnectionPath, {
      properties: {
        authorizationType: 'OAuth2',
        oauth2grantType: 'ClientCredentials',
        parameters: { clientId: 'caller-bob', clientSecret: kCallers['caller-bob'].clientSecret },
      },
    });
    assert.equal(connection.properties.status, 'Connected', credgate.output);
    await manage(credgate, 'PUT', `${kConnectionPath}/accessPolicies/alice`, {
      properties: { tenantId: 'tenant-1', objectId: kCallers['caller-alice'].oid },
    });
    await manage(credgate, 'PUT', '/apis/echo', {
      properties: { displayName: 'echo', path: 'echo', serviceUrl: api.url },
    });
    await manage(credgate, 'PUT', '/apis/echo/operations/get', {
      properties: { method: 'GET', urlTemplate: '/get' },
    });
    await manage(credgate, 'PUT', '/apis/echo/policies/policy', {
      properties: { format: 'rawxml', value: authorizationPolicy(kProvider, kConnection) },
    });
  }

  // Calls the echo API as caller-alice and returns the backend token the API received.
  async function backendToken(credgate) {
    const callerJwt = await callerToken(idp.issuer, 'caller-alice');
    const { status, json, text } = await credgate.call('/echo/get', callerJwt);
    assert.equal(status, 200, `${text}\ncredgate output:\n${credgate.output}`);
    assert.match(json.authorization, /^Bearer \S+$/);
    return { callerJwt, token: json.authorization.slice('Bearer '.length) };
  }

  function databaseBytes(dataDir) {
    const parts = ['credgate.db', 'credgate.db-wal']
      .map((name) => join(dataDir, name))
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path));
    return Buffer.concat(parts);
  }

  test('audit log records changes and tokens', async () => {
    const credgate = await newCredgate('audit');
    await credgate.start();
    await configure(credgate);
    const { callerJwt, token } = await backendToken(credgate);

    const auditPath = join(credgate.dataDir, 'audit.log');
    assert.equal(statSync(auditPath).mode & 0o777, 0o600);
    const events = await readAudit(credgate.dataDir, (e) => e.event === 'token.issued');
    const put = events.find((e) => e.event === 'management.change' && e.path === kConnectionPath);
    assert.ok(put, JSON.stringify(events));
    assert.equal(put.method, 'PUT');
    assert.equal(put.connection, `${kProvider}/${kConnection}`);
    assert.deepEqual(put.actor, { type: 'adminKey', id: 'bootstrap', role: 'admin' });
    assert.equal(put.peer, '127.0.0.1');
    assert.match(put.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const issued = events.find((e) => e.event === 'token.issued');
    assert.ok(issued, JSON.stringify(events));
    assert.equal(issued.connection, `${kProvider}/${kConnection}`);
    assert.equal(issued.callerObjectId, kCallers['caller-alice'].oid);
    assert.equal(issued.callerAppId, 'caller-alice');
    assert.match(issued.requestId, /\S/);

    const text = readFileSync(auditPath, 'utf8');
    for (const secret of [token, callerJwt, kAdminKey, kProviderSecret,
      kCallers['caller-bob'].clientSecret]) {
      assert.ok(!text.includes(secret), `the audit log contains ${secret.slice(0, 12)}...`);
    }
    // At the default level info the process log repeats management changes but not the
    // token.issued line of every request.
    assert.match(credgate.output, /"logger":"audit".*management\.change/);
    assert.doesNotMatch(credgate.output, /"logger":"audit".*token\.issued/);
  });

  test('delete removes key material', async () => {
    const credgate = await newCredgate('delete');
    await credgate.start();
    await configure(credgate);
    await backendToken(credgate);
    assert.ok(databaseBytes(credgate.dataDir).includes(kStoreKey), 'the connection is not stored');

    await manage(credgate, 'DELETE', kConnectionPath);
    assert.ok(!databaseBytes(credgate.dataDir).includes(kStoreKey),
              'the database still contains the deleted connection');
    const callerJwt = await callerToken(idp.issuer, 'caller-alice');
    const { status } = await credgate.call('/echo/get', callerJwt);
    assert.equal(status, 404);
  });

  test('rotation, rewrap, then only the new key', async () => {
    const dataDir = newDataDir('rotation');
    const keyFile = join(dataDir, 'keys');
    const line = (id) => `${id}:${randomBytes(32).toString('base64')}\n`;
    const [k1, k2] = [line('k1'), line('k2')];
    writeFileSync(keyFile, k1, { mode: 0o600 });

    const first = await newCredgate('rotation', { dataDir,
      extraArgs: ['--master-key-file', keyFile] });
    await first.start();
    await configure(first);
    await backendToken(first);
    await first.stop();

    writeFileSync(keyFile, k1 + k2, { mode: 0o600 });
    await first.start();
    const rewrap = ['keys', 'rewrap', '--management-url', first.managementUrl];
    const rewrapped = runCli(rewrap);
    assert.equal(rewrapped.status, 0, rewrapped.stderr);
    // The provider secret, the connection parameters and the tokens.
    assert.match(rewrapped.stdout, /^rewrapped=3 already_current=0 changed_concurrently=0 failed=0 active_key=k2$/m);
    const again = runCli(rewrap);
    assert.match(again.stdout, /^rewrapped=0 already_current=3 /m);
    await first.stop();

    // The last start reads the key from a command instead of the file.
    writeFileSync(keyFile, k2, { mode: 0o600 });
    const last = await newCredgate('rotation-new-key', { dataDir,
      extraArgs: ['--master-key-command', `cat ${keyFile}`] });
    await last.start();
    assert.match(last.output, /master key loaded from command program=cat active_key=k2/);
    assert.match(last.output, /connection tokens loaded count=1/);
    const connection = await manage(last, 'GET', kConnectionPath);
    assert.equal(connection.properties.status, 'Connected');
    await backendToken(last);
    assert.ok(!last.output.includes(k2.slice(3, 30)), 'the log contains the master key');
  });

  test('offline rewrap with the server stopped', async () => {
    const dataDir = newDataDir('offline-rewrap');
    const keyFile = join(dataDir, 'keys');
    const line = (id) => `${id}:${randomBytes(32).toString('base64')}\n`;
    const [k1, k2] = [line('k1'), line('k2')];
    writeFileSync(keyFile, k1, { mode: 0o600 });
    const credgate = await newCredgate('offline-rewrap', { dataDir,
      extraArgs: ['--master-key-file', keyFile] });
    await credgate.start();
    await configure(credgate);
    await credgate.stop();

    writeFileSync(keyFile, k1 + k2, { mode: 0o600 });
    const rewrapped = runCli(['keys', 'rewrap', '--data-dir', dataDir,
      '--master-key-file', keyFile]);
    assert.equal(rewrapped.status, 0, rewrapped.stderr);
    assert.match(rewrapped.stdout, /^rewrapped=3 already_current=0 .* active_key=k2$/m);

    writeFileSync(keyFile, k2, { mode: 0o600 });
    await credgate.start();
    const connection = await manage(credgate, 'GET', kConnectionPath);
    assert.equal(connection.properties.status, 'Connected');
    await backendToken(credgate);
  });

  test('failing key command stops the start', async () => {
    const credgate = await newCredgate('bad-command', {
      extraArgs: ['--master-key-command', 'false'],
    });
    const { code, output } = await credgate.runUntilExit();
    assert.equal(code, 1);
    assert.match(output, /master key command false exited with status 1/);
  });
});
