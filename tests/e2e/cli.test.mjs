// End-to-end tests of the resource subcommands (`credgate provider list`, `credgate connection
// login-link`, ...) against a running server: tables and JSON output, the sources of the server
// URL and admin key, and the exit status and message of each kind of failure.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/cli.test.mjs

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { freePort, kOutputDir, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

const kClientSecret = 'cli-test-client-secret-4b8e1f';
recordSecrets('client secret', [kClientSecret]);

let credgate;
let dataDir;
// The CLI's input files hold a client secret and the admin key, as an operator's would. They
// live outside the kept test output, which the secret scan reads, and are removed after the run.
let inputDir;

before(async () => {
  if (skip) return;
  mkdirSync(kOutputDir, { recursive: true });
  dataDir = mkdtempSync(join(kOutputDir, 'cli-'));
  inputDir = mkdtempSync(join(tmpdir(), 'credgate-cli-input-'));
  const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
  credgate = new Credgate({ gatewayPort, managementPort, dataDir, name: 'cli' });
  await credgate.start();
});

after(async () => {
  await stopAll();
  if (dataDir) removeTestDir(dataDir);
  if (inputDir) rmSync(inputDir, { recursive: true, force: true });
});

// Runs the CLI with the server and key from the environment unless `env` replaces them.
function cli(args, { env, input } = {}) {
  const result = spawnSync(kCredgateBin, args, {
    input,
    encoding: 'utf8',
    timeout: 30000,
    env: env ?? {
      PATH: process.env.PATH,
      CREDGATE_MANAGEMENT_URL: credgate.managementUrl,
      CREDGATE_ADMIN_KEY: credgate.adminKey,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function writeFile(name, content) {
  const path = join(inputDir, name);
  writeFileSync(path, content);
  return path;
}

const kProviderBody = {
  properties: {
    displayName: 'CLI provider',
    identityProvider: 'oauth2pkce',
    oauth2: {
      grantTypes: {
        authorizationCode: {
          clientId: 'cli-client',
          clientSecret: kClientSecret,
          scopes: 'read',
          authorizationUrl: 'https://127.0.0.1:9/authorize',
          tokenUrl: 'https://127.0.0.1:9/token',
        },
      },
    },
  },
};

describe('credgate resource commands', { skip }, () => {
  test('provider put, list, get and delete print tables', () => {
    const file = writeFile('provider.json', JSON.stringify(kProviderBody));
    const put = cli(['provider', 'put', 'cli-github', '--file', file]);
    assert.equal(put.status, 0, put.stderr);
    assert.match(put.stdout, /^identityProvider\s+oauth2pkce$/m);
    assert.doesNotMatch(put.stdout, new RegExp(kClientSecret));

    const list = cli(['provider', 'list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+IDENTITY PROVIDER\s+DISPLAY NAME$/m);
    assert.match(list.stdout, /^cli-github\s+oauth2pkce\s+CLI provider$/m);

    const get = cli(['provider', 'get', 'cli-github']);
    assert.equal(get.status, 0, get.stderr);
    assert.match(get.stdout, /^oauth2\.grantTypes\.authorizationCode\.clientId\s+cli-client$/m);

    const removed = cli(['provider', 'delete', 'cli-github']);
    assert.equal(removed.status, 0, removed.stderr);
    const afterDelete = cli(['provider', 'get', 'cli-github']);
    assert.equal(afterDelete.status, 1);
  });

  test('certificate put, list, get and delete', () => {
    // A self-signed PEM certificate with its key, made in the input folder that the secret scan
    // does not read.
    const key = join(inputDir, 'certificate.key');
    const certificate = join(inputDir, 'certificate.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key,
      '-out', certificate, '-subj', '/CN=cli-certificate.example', '-days', '2'], { stdio: 'pipe' });
    const data = readFileSync(certificate, 'utf8') + readFileSync(key, 'utf8');
    const file = writeFile('certificate.json', JSON.stringify({ properties: { data } }));
    const put = cli(['certificate', 'put', 'cli-certificate', '--file', file]);
    assert.equal(put.status, 0, put.stderr);
    assert.doesNotMatch(put.stdout, /PRIVATE KEY/);

    const list = cli(['certificate', 'list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+SUBJECT\s+THUMBPRINT\s+EXPIRES$/m);
    assert.match(list.stdout, /^cli-certificate\s+CN=cli-certificate\.example\s+[0-9A-F]{40}\s/m);

    const get = cli(['certificate', 'get', 'cli-certificate']);
    assert.equal(get.status, 0, get.stderr);
    assert.match(get.stdout, /^subject\s+CN=cli-certificate\.example$/m);
    assert.doesNotMatch(get.stdout, /PRIVATE KEY/);

    assert.equal(cli(['certificate', 'delete', 'cli-certificate']).status, 0);
    assert.equal(cli(['certificate', 'get', 'cli-certificate']).status, 1);
  });

  test('-o json prints the server body', () => {
    const file = writeFile('provider-json.json', JSON.stringify(kProviderBody));
    assert.equal(cli(['provider', 'put', 'cli-json', '-f', file]).status, 0);
    const list = cli(['provider', 'list', '-o', 'json']);
    assert.equal(list.status, 0, list.stderr);
    const body = JSON.parse(list.stdout);
    assert.ok(body.value.some((item) => item.name === 'cli-json'));
  });

  test('connection login-link prints a link the gateway serves', async () => {
    const file = writeFile('provider-link.json', JSON.stringify(kProviderBody));
    assert.equal(cli(['provider', 'put', 'cli-link', '-f', file]).status, 0);
    const connection = cli(['connection', 'put', 'alice', '--provider', 'cli-link', '-f', '-'], {
      input: '{"properties":{"authorizationType":"OAuth2"}}',
    });
    assert.equal(connection.status, 0, connection.stderr);
    const list = cli(['connection', 'list', '--provider', 'cli-link']);
    assert.match(list.stdout, /^alice\s+AuthorizationCode\s+Error\s+Unauthenticated$/m);

    const link = cli(['connection', 'login-link', 'alice', '--provider', 'cli-link']);
    assert.equal(link.status, 0, link.stderr);
    const url = link.stdout.trim();
    recordSecrets('login link', [url]);
    assert.ok(url.startsWith(`${credgate.gatewayUrl}/.credgate/login/`), url);
    const page = await fetch(url);
    assert.equal(page.status, 200);
  });

  test('access-policy, api, operation and policy round-trip', () => {
    const file = writeFile('provider-ap.json', JSON.stringify(kProviderBody));
    assert.equal(cli(['provider', 'put', 'cli-ap', '-f', file]).status, 0);
    assert.equal(cli(['connection', 'put', 'bob', '--provider', 'cli-ap', '-f', '-'],
      { input: '{"properties":{}}' }).status, 0);
    const policy = cli(['access-policy', 'put', 'bob', '--provider', 'cli-ap', '--connection',
      'bob', '-f', '-'], { input: '{"properties":{"tenantId":"t1","objectId":"o1"}}' });
    assert.equal(policy.status, 0, policy.stderr);
    const policies = cli(['access-policy', 'list', '--provider', 'cli-ap', '--connection', 'bob']);
    assert.match(policies.stdout, /^bob\s+t1\s+o1\s*$/m);

    const api = cli(['api', 'put', 'cli-api', '-f', '-'], {
      input: '{"properties":{"path":"cli","serviceUrl":"https://127.0.0.1:9"}}',
    });
    assert.equal(api.status, 0, api.stderr);
    const operation = cli(['operation', 'put', 'get-user', '--api', 'cli-api', '-f', '-'], {
      input: '{"properties":{"method":"GET","urlTemplate":"/users/{id}"}}',
    });
    assert.equal(operation.status, 0, operation.stderr);
    const operations = cli(['operation', 'list', '--api', 'cli-api']);
    assert.match(operations.stdout, /^get-user\s+GET\s+\/users\/\{id\}$/m);

    const xml = '<policies><inbound><base /><set-header name="x-cli" exists-action="override">' +
      '<value>1</value></set-header></inbound></policies>';
    const put = cli(['policy', 'put', '--api', 'cli-api', '-f', writeFile('policy.xml', xml)]);
    assert.equal(put.status, 0, put.stderr);
    const get = cli(['policy', 'get', '--api', 'cli-api']);
    assert.equal(get.status, 0, get.stderr);
    assert.match(get.stdout, /x-cli/);
  });

  test('a policy that does not compile exits 1 with the line and column', () => {
    const file = writeFile('bad.xml', '<policies><inbound><no-such-statement /></inbound></policies>');
    const put = cli(['policy', 'put', '-f', file]);
    assert.equal(put.status, 1);
    assert.match(put.stderr, /PUT \/policies\/policy returned HTTP 400: .*line 1, column/);
  });

  test('an unknown resource exits 1 naming the path and status', () => {
    const get = cli(['api', 'get', 'no-such-api']);
    assert.equal(get.status, 1);
    assert.match(get.stderr, /GET \/apis\/no-such-api returned HTTP 404/);
  });

  test('invalid arguments and unreadable files exit 2', () => {
    assert.equal(cli(['provider', 'put', 'x']).status, 2);
    const missing = cli(['provider', 'put', 'x', '-f', join(inputDir, 'no-such-file.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read the file/);
    const notJson = cli(['provider', 'put', 'x', '-f', '-'], { input: 'not json' });
    assert.equal(notJson.status, 2);
    assert.match(notJson.stderr, /is not a JSON object/);
  });

  test('a server that is not running exits 1', async () => {
    const port = await freePort();
    const down = cli(['api', 'list', '--management-url', `http://127.0.0.1:${port}`]);
    assert.equal(down.status, 1);
    assert.match(down.stderr, /failed to connect/);
  });

  test('the CLI config file gives the server and the key file', () => {
    const keyFile = writeFile('cli.key', `${credgate.adminKey}\n`);
    const config = writeFile('cli.yaml',
      `managementUrl: ${credgate.managementUrl}\nadminKeyFile: ${keyFile}\n`);
    const env = { PATH: process.env.PATH, CREDGATE_CLI_CONFIG: config };
    const list = cli(['api', 'list'], { env });
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+PATH\s+SERVICE URL$/m);

    const bad = writeFile('bad-cli.yaml', 'server: http://127.0.0.1:1\n');
    const rejected = cli(['api', 'list'], {
      env: { PATH: process.env.PATH, CREDGATE_CLI_CONFIG: bad },
    });
    assert.equal(rejected.status, 2);
    assert.match(rejected.stderr, /unknown key 'server'/);
  });
});
