// End-to-end test of moving credgate between two instances. A user signs in on instance A, and
// `credgate export` writes A's configuration and tokens to a file. `credgate import` loads it
// into instance B, which has its own data folder and master key. B's gateway then calls the
// backend with the imported connection, without a new sign-in. A corrupted document is rejected
// and leaves B unchanged.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/transfer.test.mjs

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

import {
  authorizationPolicy,
  credgateBinaryExists,
  Credgate,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, runLogin, startNodeServer, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { callerToken, fetchJson, kCallers } from './lib/tokens.mjs';

const kBackendClientId = 'credgate-transfer';
const kBackendClientSecret = 'transfer-backend-client-secret-5c1e9a7d3f20b846';
const kProvider = 'backend';
const kAuthorization = 'alice';
const kAuthorizationPath = `/authorizationProviders/${kProvider}/authorizations/${kAuthorization}`;

recordSecrets('client secret', [kBackendClientSecret]);

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

const execFileAsync = promisify(execFile);

// Runs the CLI against `instance` and resolves with {status, stdout, stderr}. The output stays in
// memory: `export-key create` prints a key, which no output file may contain.
async function cli(instance, args) {
  try {
    const { stdout, stderr } = await execFileAsync(kCredgateBin, args, {
      timeout: 60000,
      env: {
        PATH: process.env.PATH,
        CREDGATE_MANAGEMENT_URL: instance?.managementUrl ?? '',
        CREDGATE_ADMIN_KEY: instance?.adminKey ?? '',
      },
    });
    return { status: 0, stdout, stderr };
  } catch (error) {
    return { status: error.code, stdout: error.stdout ?? '', stderr: error.stderr ?? '' };
  }
}

describe('transfer', { skip, timeout: 240000 }, () => {
  let idp;
  let backend;
  let instanceA;
  let instanceB;
  let workDir;
  let keyFile;
  let documentFile;

  before(async () => {
    const ports = await Promise.all(Array.from({ length: 7 }, freePort));
    const [idpPort, oauthPort, apiPort, gatewayA, managementA, gatewayB, managementB] = ports;
    mkdirSync(kOutputDir, { recursive: true });
    workDir = mkdtempSync(join(kOutputDir, 'transfer-'));
    [, idp] = await startNodeServer('transfer-idp', 'idp.mjs', ['--port', String(idpPort)]);
    [, backend] = await startNodeServer('transfer-backend', 'backend.mjs', [
      '--oauth-port', String(oauthPort),
      '--api-port', String(apiPort),
      '--client-id', kBackendClientId,
      '--client-secret', kBackendClientSecret,
      '--redirect-uri', `http://127.0.0.1:${gatewayA}/.credgate/callback`,
    ]);
    const dataA = join(workDir, 'a');
    const dataB = join(workDir, 'b');
    mkdirSync(dataA);
    mkdirSync(dataB);
    instanceA = new Credgate({
      gatewayPort: gatewayA,
      managementPort: managementA,
      dataDir: dataA,
      name: 'transfer-a',
      postLoginRedirects: [`${backend.apiUrl}/landed`],
    });
    instanceB = new Credgate({
      gatewayPort: gatewayB,
      managementPort: managementB,
      dataDir: dataB,
      name: 'transfer-b',
    });
    await Promise.all([instanceA.start(), instanceB.start()]);
    keyFile = join(workDir, 'export.key');
    documentFile = join(workDir, 'credgate-export.json');
  });

  after(async () => {
    await stopAll();
    if (workDir) removeTestDir(workDir);
  });

  async function manage(instance, method, path, body) {
    const response = await instance.manage(method, path, body);
    assert.ok(
      response.status >= 200 && response.status < 300,
      `${method} ${path} returned ${response.status}: ${response.text}`,
    );
    return response.json;
  }

  async function callBackend(instance) {
    return instance.call('/backend/whoami', await callerToken(idp.issuer, 'caller-alice'));
  }

  // Writes a copy of the export document changed by `change` and returns its path.
  function corruptedCopy(name, change) {
    const document = JSON.parse(readFileSync(documentFile, 'utf8'));
    change(document);
    const path = join(workDir, name);
    writeFileSync(path, JSON.stringify(document));
    return path;
  }

  function entry(document, path) {
    const found = document.resources.find((resource) => resource.path === path);
    assert.ok(found, `the document has no resource ${path}`);
    return found;
  }

  async function assertEmpty(instance) {
    for (const path of ['/authorizationProviders', '/trustedIssuers', '/apis']) {
      const listed = await manage(instance, 'GET', path);
      assert.deepEqual(listed.value, [], `${path} of instance B`);
    }
  }

  test('user signs in on instance A', async () => {
    await manage(instanceA, 'PUT', '/trustedIssuers/idp', {
      properties: { issuer: idp.issuer, audiences: ['api://credgate'], clockSkewSeconds: 0 },
    });
    await manage(instanceA, 'PUT', `/authorizationProviders/${kProvider}`, {
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
              refreshUrl: backend.tokenUrl,
            },
          },
        },
      },
    });
    await manage(instanceA, 'PUT', kAuthorizationPath, {
      properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
    });
    await manage(instanceA, 'PUT', `${kAuthorizationPath}/accessPolicies/alice-caller`, {
      properties: { tenantId: 'tenant-1', objectId: kCallers['caller-alice'].oid },
    });
    await manage(instanceA, 'PUT', '/apis/backend', {
      properties: { path: 'backend', serviceUrl: backend.apiUrl },
    });
    await manage(instanceA, 'PUT', '/apis/backend/operations/whoami', {
      properties: { method: 'GET', urlTemplate: '/whoami' },
    });
    await manage(instanceA, 'PUT', '/apis/backend/policies/policy', {
      properties: { format: 'rawxml', value: authorizationPolicy(kProvider, kAuthorization) },
    });

    const { loginLink } = await manage(instanceA, 'POST', `${kAuthorizationPath}/getLoginLinks`, {
      postLoginRedirectUrl: `${backend.apiUrl}/landed`,
    });
    const login = await runLogin({
      link: loginLink,
      user: 'alice',
      expectPrefix: `${backend.apiUrl}/landed`,
    });
    assert.equal(login.code, 0, `${login.output}\ncredgate output:\n${instanceA.output}`);
    const connected = await manage(instanceA, 'GET', kAuthorizationPath);
    assert.equal(connected.properties.status, 'Connected');
  });

  test('export writes a private file with sealed secrets', async () => {
    const created = await cli(null, ['export-key', 'create']);
    assert.equal(created.status, 0, created.stderr);
    const exportKey = created.stdout.trim();
    recordSecrets('export key', [exportKey]);
    assert.equal(Buffer.from(exportKey, 'base64').length, 32);
    writeFileSync(keyFile, `${exportKey}\n`, { mode: 0o600 });

    const exported = await cli(instanceA, [
      'export', '--out', documentFile, '--export-key-file', keyFile,
    ]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(statSync(documentFile).mode & 0o777, 0o600);

    const text = readFileSync(documentFile, 'utf8');
    assert.equal(text.includes(kBackendClientSecret), false, 'the client secret is in clear');
    const document = JSON.parse(text);
    assert.equal(document.formatVersion, 1);
    assert.ok(entry(document, kAuthorizationPath).sealed.tokens);
    assert.ok(entry(document, `/authorizationProviders/${kProvider}`).sealed);
    entry(document, '/apis/backend/policies/policy');
  });

  test('document with a changed token is rejected and B stays empty', async () => {
    const path = corruptedCopy('changed-token.json', (document) => {
      const sealed = entry(document, kAuthorizationPath).sealed;
      const bytes = Buffer.from(sealed.tokens, 'base64');
      bytes[bytes.length - 20] ^= 0x01;
      sealed.tokens = bytes.toString('base64');
    });
    const imported = await cli(instanceB, ['import', '--in', path, '--export-key-file', keyFile]);
    assert.equal(imported.status, 1, imported.stdout);
    assert.match(imported.stderr, new RegExp(`${kAuthorizationPath}: sealed 'tokens'`));
    await assertEmpty(instanceB);
  });

  test('document with a token moved to another record is rejected', async () => {
    const path = corruptedCopy('moved-token.json', (document) => {
      const connection = entry(document, kAuthorizationPath);
      const provider = entry(document, `/authorizationProviders/${kProvider}`);
      const [member] = Object.keys(provider.sealed);
      provider.sealed[member] = connection.sealed.tokens;
    });
    const imported = await cli(instanceB, ['import', '--in', path, '--export-key-file', keyFile]);
    assert.equal(imported.status, 1, imported.stdout);
    assert.match(imported.stderr, new RegExp(`/authorizationProviders/${kProvider}: sealed`));
    await assertEmpty(instanceB);
  });

  test('document with an invalid body is rejected, naming the field', async () => {
    const path = corruptedCopy('invalid-body.json', (document) => {
      entry(document, '/apis/backend/operations/whoami').body.properties.urlTemplate = 'no-slash';
    });
    const imported = await cli(instanceB, ['import', '--in', path, '--export-key-file', keyFile]);
    assert.equal(imported.status, 1, imported.stdout);
    assert.match(imported.stderr, /\/apis\/backend\/operations\/whoami: .*'properties\.urlTemplate'/);
    await assertEmpty(instanceB);
  });

  test('import into B serves the connection without a new sign-in', async () => {
    const before = (await fetchJson(`${backend.apiUrl}/stats`)).json;
    const imported = await cli(instanceB, [
      'import', '--in', documentFile, '--export-key-file', keyFile,
    ]);
    assert.equal(imported.status, 0, imported.stderr);
    assert.match(imported.stdout, /7 created, 0 replaced, 1 token sets/);

    const connection = await manage(instanceB, 'GET', kAuthorizationPath);
    assert.equal(connection.properties.status, 'Connected');
    const { status, json, text } = await callBackend(instanceB);
    assert.equal(status, 200, `${text}\ncredgate B output:\n${instanceB.output}`);
    assert.equal(json.user, 'alice');
    assert.equal(json.client_id, kBackendClientId);
    const after = (await fetchJson(`${backend.apiUrl}/stats`)).json;
    assert.equal(after.tokenRequests.authorization_code, before.tokenRequests.authorization_code);
  });

  test('a second create-only import conflicts; --replace replaces', async () => {
    const again = await cli(instanceB, ['import', '--in', documentFile, '--export-key-file', keyFile]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /exists already/);
    const replaced = await cli(instanceB, [
      'import', '--in', documentFile, '--export-key-file', keyFile, '--replace',
    ]);
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.match(replaced.stdout, /0 created, 7 replaced, 1 token sets/);
    const { status, text } = await callBackend(instanceB);
    assert.equal(status, 200, text);
  });

  test('metrics count the imports by outcome', async () => {
    const response = await fetch(`${instanceB.managementUrl}/metrics`);
    const text = await response.text();
    // Three rejected documents and one create-only conflict; two imports that wrote everything.
    assert.match(text, /credgate_management_transfers_total\{call="import",outcome="failed"\} 4\n/);
    assert.match(text, /credgate_management_transfers_total\{call="import",outcome="succeeded"\} 2\n/);
  });

  test('export needs the admin role', async () => {
    const created = await manage(instanceA, 'PUT', '/adminKeys/operator-1', {
      properties: { role: 'operator' },
    });
    recordSecrets('admin key', [created.properties.key]);
    const response = await fetchJson(`${instanceA.managementUrl}/export`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${created.properties.key}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ exportKey: Buffer.alloc(32, 1).toString('base64') }),
    });
    assert.equal(response.status, 403);
  });
});
