// End-to-end tests of the management API and of `credgate serve` itself: resource CRUD, write-only
// secrets, errors, the admin and master key files, declared resources in a config file, SIGTERM
// draining and the logs. docs/management-api.md and docs/configuration.md state the contract
// that these tests check. Every process listens on 127.0.0.1 with ports picked here, and no
// test contacts the example.com URLs it stores.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/management.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  continueLoginLink,
  credgateBinaryExists,
  Credgate,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { fetchJson, sleep } from './lib/tokens.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

const kAllowedRedirect = 'https://app.example.com/connected';
const kArmPrefix =
  '/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ApiManagement/service/gw-1';
const kRequestIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;
const kCrudConnection = '/authorizationProviders/crud-parent/authorizations/crud-parent';
const kDeclaredConnection = '/authorizationProviders/declared/authorizations/alice';

const dataDirs = [];

function newDataDir(name) {
  mkdirSync(kOutputDir, { recursive: true });
  const dir = mkdtempSync(join(kOutputDir, `management-${name}-`));
  dataDirs.push(dir);
  return dir;
}

async function newCredgate(name, options = {}) {
  const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
  return new Credgate({
    gatewayPort,
    managementPort,
    dataDir: options.dataDir ?? newDataDir(name),
    postLoginRedirects: [kAllowedRedirect],
    name: `management-${name}`,
    ...options,
  });
}

after(async () => {
  await stopAll();
  for (const dir of dataDirs) removeTestDir(dir);
});

// Sends one management request. `body` is sent as given (a string) or as JSON; `key` is the
// admin key (default: the instance's), null for none.
function send(credgate, method, path, { body, key = credgate.adminKey, headers = {} } = {}) {
  const all = { ...headers };
  if (key !== null) all.authorization = `Bearer ${key}`;
  let text;
  if (body !== undefined) {
    all['content-type'] = 'application/json';
    text = typeof body === 'string' ? body : JSON.stringify(body);
  }
  return fetchJson(`${credgate.managementUrl}${path}`, { method, headers: all, body: text });
}

// Asserts a management response status and returns its JSON body.
async function expectStatus(responsePromise, status, label) {
  const response = await responsePromise;
  assert.equal(response.status, status, `${label}: ${response.text}`);
  return response.json;
}

// PUTs `body` to `path`, asserts that it created the resource (201) and returns the resource.
function create(credgate, path, body) {
  return expectStatus(credgate.manage('PUT', path, body), 201, `PUT ${path}`);
}

// Asserts an ARM error body {"error":{"code","message"}} with `status`, and that the message
// matches `pattern` when given.
function assertArmError(response, status, pattern) {
  assert.equal(response.status, status, response.text);
  assert.equal(typeof response.json?.error?.code, 'string', `no error.code in ${response.text}`);
  assert.notEqual(response.json.error.code, '');
  const message = response.json.error.message;
  assert.equal(typeof message, 'string', `no error.message in ${response.text}`);
  if (pattern) assert.match(message, pattern);
}

const kProviderClientSecret = 'provider-client-secret-5e1d7c93';
recordSecrets('client secret', [kProviderClientSecret]);

// An oauth2 provider body; `secret: null` leaves clientSecret out.
function providerBody({
  secret = kProviderClientSecret,
  displayName = 'Example',
  authorizationUrl = 'https://oauth.example.com/authorize',
  tokenUrl = 'https://oauth.example.com/token',
  refreshUrl,
} = {}) {
  const code = { clientId: 'example-client', scopes: 'read write', authorizationUrl, tokenUrl };
  if (secret !== null) code.clientSecret = secret;
  if (refreshUrl !== undefined) code.refreshUrl = refreshUrl;
  return {
    properties: {
      displayName,
      identityProvider: 'oauth2',
      oauth2: { grantTypes: { authorizationCode: code } },
    },
  };
}

const kConnectionBody = {
  properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
};

function issuerBody({
  issuer = 'https://login.example.com/tenant-1/v2.0',
  jwksUri,
  audience = 'api://credgate',
} = {}) {
  const properties = { issuer, audiences: [audience] };
  if (jwksUri !== undefined) properties.jwksUri = jwksUri;
  return { properties };
}

function apiBody(path, displayName = 'Example API', serviceUrl = 'https://api.example.com') {
  return { properties: { displayName, path, serviceUrl } };
}

function policyBody(headerValue) {
  return {
    properties: {
      format: 'rawxml',
      value:
        '<policies><inbound><set-header name="x-e2e" exists-action="override">' +
        `<value>${headerValue}</value></set-header></inbound></policies>`,
    },
  };
}

// Starts a sign-in through a login link and its confirmation page, then calls the callback as a
// provider that denied access would redirect the browser, which records a LoginFailed error on
// the connection. Contacts only the gateway.
async function failSignIn(credgate, provider, connection) {
  const path = `/authorizationProviders/${provider}/authorizations/${connection}/getLoginLinks`;
  const links = await expectStatus(credgate.manage('POST', path, {}), 200, 'getLoginLinks');
  const { state, cookie } = await continueLoginLink(credgate.gatewayUrl, links.loginLink);
  const query = new URLSearchParams({ state, error: 'access_denied', error_description: 'e2e' });
  const callback = await fetch(`${credgate.gatewayUrl}/.credgate/callback?${query}`, {
    headers: { cookie },
    redirect: 'manual',
  });
  assert.equal(callback.status, 400, 'a denied sign-in shows an error page');
}

// Log lines about one request, which must carry its request_id.
const kRequestLinePattern = new RegExp(
  '^(management (change|request)|backend request|login |code exchange|connection signed in|' +
    'response relay)',
);

// Asserts that every line of `output` is a JSON log record {time, level, logger, message} and
// that request lines carry a request_id, and returns the records.
function assertJsonLogLines(output) {
  const records = [];
  for (const line of output.split('\n').filter((text) => text !== '')) {
    let record;
    assert.doesNotThrow(() => {
      record = JSON.parse(line);
    }, `not JSON: ${line}`);
    for (const field of ['time', 'level', 'logger', 'message']) {
      assert.equal(typeof record[field], 'string', `no ${field} in ${line}`);
    }
    if (kRequestLinePattern.test(record.message)) {
      assert.match(record.message, /request_id=\S+/, `request line without request_id: ${line}`);
    }
    records.push(record);
  }
  return records;
}

// Resolves with the error code of a TCP connect to `url`'s port, or 'connected'.
function tryConnect(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error) => resolve(error.code));
  });
}

describe('management api', { skip, timeout: 60000 }, () => {
  let credgate;

  before(async () => {
    // 'admin key is required' sends 15 bad keys; the default limit of 10 would return 429.
    credgate = await newCredgate('api', { extraArgs: ['--admin-auth-failure-limit', '100'] });
    await credgate.start();
  });

  // Each resource kind with the parents it needs and the bodies that create and replace it.
  // `changed` picks the property that the replacement changes, and `expected` is its new value.
  const kKinds = [
    {
      kind: 'trusted issuer',
      parents: [],
      path: '/trustedIssuers/crud-issuer',
      collection: '/trustedIssuers',
      create: issuerBody(),
      replace: issuerBody({ audience: 'api://credgate-v2' }),
      changed: (p) => p.audiences,
      expected: ['api://credgate-v2'],
    },
    {
      kind: 'provider',
      parents: [],
      path: '/authorizationProviders/crud-provider',
      collection: '/authorizationProviders',
      create: providerBody(),
      replace: providerBody({ displayName: 'Example v2' }),
      changed: (p) => p.displayName,
      expected: 'Example v2',
    },
    {
      kind: 'connection',
      parents: [['/authorizationProviders/crud-parent', providerBody()]],
      path: '/authorizationProviders/crud-parent/authorizations/crud-connection',
      collection: '/authorizationProviders/crud-parent/authorizations',
      create: kConnectionBody,
      replace: kConnectionBody,
      changed: (p) => p.oauth2grantType,
      expected: 'AuthorizationCode',
    },
    {
      kind: 'access policy',
      parents: [
        ['/authorizationProviders/crud-parent', providerBody()],
        [kCrudConnection, kConnectionBody],
      ],
      path: `${kCrudConnection}/accessPolicies/crud-policy`,
      collection: `${kCrudConnection}/accessPolicies`,
      create: { properties: { tenantId: 'tenant-1', objectId: 'object-1' } },
      replace: { properties: { tenantId: 'tenant-1', objectId: 'object-2', appIds: ['app-1'] } },
      changed: (p) => [p.objectId, p.appIds],
      expected: ['object-2', ['app-1']],
    },
    {
      kind: 'api',
      parents: [],
      path: '/apis/crud-api',
      collection: '/apis',
      create: apiBody('crud'),
      replace: apiBody('crud', 'Example API v2'),
      changed: (p) => p.displayName,
      expected: 'Example API v2',
    },
    {
      kind: 'operation',
      parents: [['/apis/crud-parent', apiBody('crud-parent')]],
      path: '/apis/crud-parent/operations/crud-operation',
      collection: '/apis/crud-parent/operations',
      create: { properties: { method: 'GET', urlTemplate: '/items/{id}' } },
      replace: { properties: { method: 'GET', urlTemplate: '/things/{id}' } },
      changed: (p) => p.urlTemplate,
      expected: '/things/{id}',
    },
    {
      kind: 'global policy',
      parents: [],
      path: '/policies/policy',
      create: policyBody('one'),
      replace: policyBody('two'),
      changed: (p) => p.value.includes('<value>two</value>'),
      expected: true,
    },
    {
      kind: 'api policy',
      parents: [['/apis/crud-parent', apiBody('crud-parent')]],
      path: '/apis/crud-parent/policies/policy',
      create: policyBody('one'),
      replace: policyBody('two'),
      changed: (p) => p.value.includes('<value>two</value>'),
      expected: true,
    },
    {
      kind: 'operation policy',
      parents: [
        ['/apis/crud-parent', apiBody('crud-parent')],
        [
          '/apis/crud-parent/operations/crud-parent',
          { properties: { method: 'GET', urlTemplate: '/items' } },
        ],
      ],
      path: '/apis/crud-parent/operations/crud-parent/policies/policy',
      create: policyBody('one'),
      replace: policyBody('two'),
      changed: (p) => p.value.includes('<value>two</value>'),
      expected: true,
    },
  ];

  for (const kind of kKinds) {
    test(`${kind.kind} create replace get delete`, async () => {
      for (const [path, body] of kind.parents) {
        const response = await credgate.manage('PUT', path, body);
        assert.ok([200, 201].includes(response.status), `parent ${path}: ${response.text}`);
      }
      const name = kind.path.split('/').pop();

      const created = await create(credgate, kind.path, kind.create);
      assert.equal(created.id, kind.path);
      assert.equal(created.name, name);
      assert.equal(typeof created.type, 'string');
      assert.notEqual(created.type, '');
      assert.equal(typeof created.properties, 'object');

      const replace = credgate.manage('PUT', kind.path, kind.replace);
      const replaced = await expectStatus(replace, 200, 'replace');
      assert.equal(replaced.id, kind.path);
      assert.deepEqual(kind.changed(replaced.properties), kind.expected);

      const got = await expectStatus(credgate.manage('GET', kind.path), 200, 'get');
      assert.deepEqual(got, replaced);

      if (kind.collection) {
        const list = await expectStatus(credgate.manage('GET', kind.collection), 200, 'list');
        assert.deepEqual(Object.keys(list), ['value']);
        assert.ok(Array.isArray(list.value));
        assert.deepEqual(
          list.value.find((item) => item.id === kind.path),
          got,
        );
      }

      const deleted = await credgate.manage('DELETE', kind.path);
      assert.equal(deleted.status, 200, deleted.text);
      const deletedAgain = await credgate.manage('DELETE', kind.path);
      assert.equal(deletedAgain.status, 204, deletedAgain.text);
      assert.equal(deletedAgain.text, '');
      assertArmError(await credgate.manage('GET', kind.path), 404);

      for (const [path] of [...kind.parents].reverse()) await credgate.manage('DELETE', path);
    });
  }

  test('arm prefix and api-version', async () => {
    const api = `${kArmPrefix}/apis/arm-api`;
    const created = await send(credgate, 'PUT', `${api}?api-version=2022-08-01`, {
      body: apiBody('arm'),
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.id, '/apis/arm-api');

    const operation = await send(credgate, 'PUT', `${api}/operations/op?api-version=2099-01-01`, {
      body: { properties: { method: 'GET', urlTemplate: '/x' } },
    });
    assert.equal(operation.status, 201, operation.text);

    const short = await send(credgate, 'GET', '/apis/arm-api');
    assert.equal(short.status, 200, short.text);
    const long = await send(credgate, 'GET', api);
    assert.deepEqual(long.json, short.json);
    const list = await send(credgate, 'GET', `${api}/operations?api-version=2022-08-01`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.json.value.map((item) => item.id),
      ['/apis/arm-api/operations/op'],
    );

    const lowerCase = kArmPrefix.toLowerCase();
    const viaLowerCase = await send(credgate, 'GET', `${lowerCase}/apis/arm-api`);
    assert.equal(viaLowerCase.status, 200, viaLowerCase.text);

    const deleted = await send(credgate, 'DELETE', `${api}?api-version=2022-08-01`);
    assert.equal(deleted.status, 200, deleted.text);
    assert.equal((await send(credgate, 'GET', '/apis/arm-api/operations/op')).status, 404);
  });

  test('client secret is write-only', async () => {
    const secret = 'write-only-secret-8a4f2c6e1b9d';
    recordSecrets('client secret', [secret]);
    const path = '/authorizationProviders/secret-provider';

    const created = await credgate.manage('PUT', path, providerBody({ secret }));
    assert.equal(created.status, 201, created.text);
    const got = await credgate.manage('GET', path);
    const list = await credgate.manage('GET', '/authorizationProviders');
    for (const [call, response] of [['PUT', created], ['GET', got], ['list', list]]) {
      assert.ok(!response.text.includes(secret), `${call} returned the client secret`);
      assert.ok(!response.text.includes('clientSecret'), `${call} returned a clientSecret field`);
    }
    const redirectUrl = got.json.properties.oauth2.redirectUrl;
    assert.equal(redirectUrl, `${credgate.gatewayUrl}/.credgate/callback`);

    // An oauth2 (confidential) provider needs a secret, so the PUT without one succeeds only
    // because the stored secret is kept.
    const fresh = await credgate.manage(
      'PUT',
      '/authorizationProviders/secret-missing',
      providerBody({ secret: null }),
    );
    assertArmError(fresh, 400, /clientSecret/);
    const modified = got.json;
    modified.properties.displayName = 'Renamed';
    const withoutSecret = await credgate.manage('PUT', path, modified);
    assert.equal(withoutSecret.status, 200, withoutSecret.text);
    assert.equal(withoutSecret.json.properties.displayName, 'Renamed');
    assert.ok(!withoutSecret.text.includes(secret));

    // The kept secret comes from the store after a restart too.
    await credgate.stop();
    await credgate.start();
    const afterRestart = await credgate.manage('PUT', path, modified);
    assert.equal(afterRestart.status, 200, afterRestart.text);
    assert.ok(!credgate.output.includes(secret), 'the log contains the client secret');

    await credgate.manage('DELETE', path);
  });

  test('new connection is unauthenticated', async () => {
    await create(credgate, '/authorizationProviders/status', providerBody());
    const path = '/authorizationProviders/status/authorizations/fresh';
    const created = await create(credgate, path, kConnectionBody);
    const got = await expectStatus(credgate.manage('GET', path), 200, 'get');
    for (const body of [created, got]) {
      assert.equal(body.properties.status, 'Error');
      assert.equal(body.properties.error?.code, 'Unauthenticated');
      assert.equal(typeof body.properties.error?.message, 'string');
    }
    await credgate.manage('DELETE', '/authorizationProviders/status');
  });

  test('provider delete removes children', async () => {
    const provider = '/authorizationProviders/cascade';
    const children = [
      `${provider}/authorizations/one`,
      `${provider}/authorizations/one/accessPolicies/p1`,
      `${provider}/authorizations/two`,
      `${provider}/authorizations/two/accessPolicies/p2`,
    ];
    await create(credgate, provider, providerBody());
    for (const path of children) {
      const body = path.includes('accessPolicies')
        ? { properties: { tenantId: 'tenant-1', objectId: 'object-1' } }
        : kConnectionBody;
      await expectStatus(credgate.manage('PUT', path, body), 201, path);
    }

    const deleted = await credgate.manage('DELETE', provider);
    assert.equal(deleted.status, 200, deleted.text);
    for (const path of [provider, ...children]) {
      assertArmError(await credgate.manage('GET', path), 404);
    }

    // Neither a restart nor a provider of the same name brings the children back.
    await credgate.stop();
    await credgate.start();
    await create(credgate, provider, providerBody());
    for (const path of children) {
      assertArmError(await credgate.manage('GET', path), 404);
    }
    const listed = credgate.manage('GET', `${provider}/authorizations`);
    const list = await expectStatus(listed, 200, 'list');
    assert.deepEqual(list.value, []);
    await credgate.manage('DELETE', provider);
  });

  test('errors have the arm body', async () => {
    assertArmError(await send(credgate, 'GET', '/apis/none'), 404, /none/);
    assertArmError(await send(credgate, 'GET', '/noSuchCollection'), 404);
    assertArmError(await send(credgate, 'PUT', '/apis/x', { body: '{' }), 400);
    assertArmError(await send(credgate, 'GET', '/apis', { key: null }), 401);
  });

  test('malformed json is rejected', async () => {
    for (const body of ['{', '{"properties":', 'not json', '{"a":1,}']) {
      const response = await send(credgate, 'PUT', '/apis/malformed', { body });
      assertArmError(response, 400, /not valid JSON at offset \d+/);
    }
    for (const body of ['[1,2]', '"text"']) {
      const response = await send(credgate, 'PUT', '/apis/malformed', { body });
      assertArmError(response, 400, /JSON object/);
    }
    assertArmError(await send(credgate, 'PUT', '/apis/malformed', { body: '' }), 400, /empty/);
    assert.equal((await send(credgate, 'GET', '/apis/malformed')).status, 404);
  });

  test('missing properties are rejected', async () => {
    const cases = [
      ['/apis/no-properties', {}, /properties/],
      ['/apis/no-service-url', { properties: { path: 'x' } }, /serviceUrl/],
      [
        '/trustedIssuers/no-audiences',
        { properties: { issuer: 'https://login.example.com' } },
        /audiences/,
      ],
      ['/authorizationProviders/no-token-url', (() => {
        const body = providerBody();
        delete body.properties.oauth2.grantTypes.authorizationCode.tokenUrl;
        return body;
      })(), /tokenUrl/],
      ['/policies/policy', { properties: { format: 'rawxml' } }, /value/],
    ];
    for (const [path, body, pattern] of cases) {
      assertArmError(await credgate.manage('PUT', path, body), 400, pattern);
      assert.equal((await credgate.manage('GET', path)).status, 404, `${path} was stored`);
    }
  });

  test('invalid names are rejected', async () => {
    const invalidNames = ['a'.repeat(81), '-dash', '.dot', '_underscore', 'a%20b', 'a~b'];
    for (const name of invalidNames) {
      const api = await credgate.manage('PUT', `/apis/${name}`, apiBody(`n${name.length}`));
      assertArmError(api, 400, /name/);
      const issuer = await credgate.manage('PUT', `/trustedIssuers/${name}`, issuerBody());
      assertArmError(issuer, 400, /name/);
    }
    const longest = 'a'.repeat(80);
    await create(credgate, `/apis/${longest}`, apiBody('longest'));
    await expectStatus(credgate.manage('PUT', `/apis/${longest}/operations/-op`, {
      properties: { method: 'GET', urlTemplate: '/' },
    }), 400, 'operation name with leading dash');
    await credgate.manage('DELETE', `/apis/${longest}`);
  });

  test('http urls need a loopback host', async () => {
    const rejected = [
      ['tokenUrl', providerBody({ tokenUrl: 'http://oauth.example.com/token' })],
      ['authorizationUrl', providerBody({ authorizationUrl: 'http://oauth.example.com/auth' })],
      ['refreshUrl', providerBody({ refreshUrl: 'http://oauth.example.com/token' })],
      ['tokenUrl', providerBody({ tokenUrl: 'http://127.0.0.1.nip.io/token' })],
      ['tokenUrl', providerBody({ tokenUrl: 'http://127.example.com/token' })],
      ['tokenUrl', providerBody({ tokenUrl: 'http://localhost.example.com/token' })],
    ];
    for (const [field, body] of rejected) {
      const response = await credgate.manage('PUT', '/authorizationProviders/http-url', body);
      assertArmError(response, 400, new RegExp(field));
    }
    for (const issuer of [
      'http://login.example.com/t',
      'http://127.example.com/t',
      'http://127.0.0.1.nip.io/t',
    ]) {
      const body = issuerBody({ issuer });
      assertArmError(await credgate.manage('PUT', '/trustedIssuers/http-url', body), 400, /issuer/);
    }
    assertArmError(
      await credgate.manage(
        'PUT',
        '/trustedIssuers/http-url',
        issuerBody({ jwksUri: 'http://login.example.com/keys' }),
      ),
      400,
      /jwksUri/,
    );
    // An https service URL whose host name starts with an IPv4 address must not be sent to that
    // address.
    const ipv4Prefix = apiBody('ipv4', 'IPv4 prefix', 'https://10.1.2.3.example.com');
    const ipv4Response = await credgate.manage('PUT', '/apis/ipv4-prefix', ipv4Prefix);
    assertArmError(ipv4Response, 400, /serviceUrl/);

    for (const host of ['127.0.0.1:4100', 'localhost:4100', '[::1]:4100']) {
      const response = await credgate.manage(
        'PUT',
        '/authorizationProviders/loopback-url',
        providerBody({ tokenUrl: `http://${host}/token` }),
      );
      assert.ok(response.status === 200 || response.status === 201, `${host}: ${response.text}`);
    }
    await credgate.manage('DELETE', '/authorizationProviders/loopback-url');
  });

  test('policy compile error has position', async () => {
    await create(credgate, '/apis/policy-errors', apiBody('policy-errors'));
    const path = '/apis/policy-errors/policies/policy';
    const good = await create(credgate, path, policyBody('kept'));

    const invalid = [
      // <set-header> without its required name attribute, on line 3.
      '<policies>\n  <inbound>\n' +
        '    <set-header exists-action="override"><value>x</value></set-header>\n' +
        '  </inbound>\n</policies>',
      // An element that is not closed.
      '<policies>\n  <inbound>\n    <set-header name="a">\n</policies>',
      // An unknown statement.
      '<policies>\n  <inbound>\n    <no-such-policy/>\n  </inbound>\n</policies>',
    ];
    for (const value of invalid) {
      const body = { properties: { format: 'rawxml', value } };
      assertArmError(await credgate.manage('PUT', path, body), 400, /line \d+, column \d+/);
    }
    const missingName = { properties: { format: 'rawxml', value: invalid[0] } };
    assertArmError(await credgate.manage('PUT', path, missingName), 400, /line 3,/);

    const stored = await expectStatus(credgate.manage('GET', path), 200, 'get');
    assert.deepEqual(stored, good);
    await credgate.manage('DELETE', '/apis/policy-errors');
  });

  test('admin key is required', async () => {
    const basicCredentials = Buffer.from(`admin:${credgate.adminKey}`).toString('base64');
    const cases = [
      ['no header', {}],
      ['wrong key', { authorization: 'Bearer cgk_wrong_0123456789abcdefghijklmnop' }],
      ['key prefix', { authorization: `Bearer ${credgate.adminKey.slice(0, -1)}` }],
      ['basic scheme', { authorization: `Basic ${basicCredentials}` }],
      ['bare key', { authorization: credgate.adminKey }],
    ];
    for (const [what, headers] of cases) {
      for (const [method, path, body] of [
        ['GET', '/apis'],
        ['PUT', '/apis/unauthorized', apiBody('unauthorized')],
        ['DELETE', '/apis/unauthorized'],
      ]) {
        const response = await send(credgate, method, path, { key: null, headers, body });
        assertArmError(response, 401);
        assert.equal(response.status, 401, `${what} ${method} ${path}`);
      }
    }
    assert.equal((await credgate.manage('GET', '/apis/unauthorized')).status, 404);
    for (const path of ['/healthz', '/readyz']) {
      const health = await fetchJson(`${credgate.managementUrl}${path}`);
      assert.equal(health.status, 200);
      assert.deepEqual(health.json, { status: 'ok' });
    }
  });

  test('missing parent is not found', async () => {
    await create(credgate, '/authorizationProviders/parent', providerBody());
    await create(credgate, '/apis/parent', apiBody('parent'));
    const policy = { properties: { tenantId: 'tenant-1', objectId: 'object-1' } };
    const operation = { properties: { method: 'GET', urlTemplate: '/' } };
    const cases = [
      ['PUT', '/authorizationProviders/missing/authorizations/a', kConnectionBody],
      ['GET', '/authorizationProviders/missing/authorizations/a'],
      ['GET', '/authorizationProviders/missing/authorizations'],
      ['PUT', '/authorizationProviders/parent/authorizations/missing/accessPolicies/p', policy],
      ['GET', '/authorizationProviders/parent/authorizations/missing/accessPolicies'],
      ['POST', '/authorizationProviders/parent/authorizations/missing/getLoginLinks', {}],
      ['PUT', '/apis/missing/operations/op', operation],
      ['GET', '/apis/missing/operations'],
      ['PUT', '/apis/missing/policies/policy', policyBody('x')],
      ['PUT', '/apis/parent/operations/missing/policies/policy', policyBody('x')],
      ['DELETE', '/authorizationProviders/missing/authorizations/a'],
      ['DELETE', '/authorizationProviders/parent/authorizations/missing/accessPolicies/p'],
      ['DELETE', '/apis/missing/operations/op'],
      ['DELETE', '/apis/missing/policies/policy'],
      ['DELETE', '/apis/parent/operations/missing/policies/policy'],
    ];
    for (const [method, path, body] of cases) {
      const response = await credgate.manage(method, path, body);
      assertArmError(response, 404);
    }

    // Under an existing parent, deleting a missing child is 204.
    for (const path of [
      '/authorizationProviders/parent/authorizations/missing',
      '/apis/parent/operations/missing',
      '/apis/parent/policies/policy',
    ]) {
      const response = await credgate.manage('DELETE', path);
      assert.equal(response.status, 204, `${path}: ${response.text}`);
    }
    await credgate.manage('DELETE', '/authorizationProviders/parent');
    await credgate.manage('DELETE', '/apis/parent');
  });

  test('login link redirect allow-list', async () => {
    await create(credgate, '/authorizationProviders/links', providerBody());
    const connection = '/authorizationProviders/links/authorizations/alice';
    await create(credgate, connection, kConnectionBody);
    const links = `${connection}/getLoginLinks`;

    for (const url of [
      'https://evil.example.com/connected',
      `${kAllowedRedirect}/more`,
      'https://app.example.com.evil.example/connected',
      'http://app.example.com/connected',
      'javascript:alert(1)',
      'not a url',
    ]) {
      const response = await credgate.manage('POST', links, { postLoginRedirectUrl: url });
      assertArmError(response, 400, /postLoginRedirectUrl/);
    }

    const loginPrefix = `${credgate.gatewayUrl}/.credgate/login/`;
    for (const body of [{ postLoginRedirectUrl: kAllowedRedirect }, {}]) {
      const response = await credgate.manage('POST', links, body);
      assert.equal(response.status, 200, response.text);
      assert.ok(response.json.loginLink.startsWith(loginPrefix), response.json.loginLink);
    }
    await credgate.manage('DELETE', '/authorizationProviders/links');
  });

  test('request ids and json logs', async () => {
    const echoed = await send(credgate, 'PUT', '/apis/log-check', {
      body: apiBody('log-check'),
      headers: { 'x-request-id': 'e2e-log-check.1' },
    });
    assert.equal(echoed.status, 201, echoed.text);
    assert.equal(echoed.headers.get('x-request-id'), 'e2e-log-check.1');

    const generated = await send(credgate, 'GET', '/apis/log-check');
    assert.match(generated.headers.get('x-request-id') ?? '', kRequestIdPattern);
    for (const invalid of ['has space', 'x'.repeat(65), 'semi;colon']) {
      const response = await send(credgate, 'GET', '/apis/log-check', {
        headers: { 'x-request-id': invalid },
      });
      const id = response.headers.get('x-request-id') ?? '';
      assert.notEqual(id, invalid);
      assert.match(id, kRequestIdPattern);
    }
    const rejected = await send(credgate, 'GET', '/apis', {
      key: null,
      headers: { 'x-request-id': 'e2e-rejected-1' },
    });
    assert.equal(rejected.headers.get('x-request-id'), 'e2e-rejected-1');
    await credgate.manage('DELETE', '/apis/log-check');

    // A backend that refuses connections makes the gateway log a request line.
    const unreachableApi = apiBody('unreachable', 'Unreachable', 'http://127.0.0.1:1');
    await create(credgate, '/apis/unreachable', unreachableApi);
    await create(credgate, '/apis/unreachable/operations/any', {
      properties: { method: '*', urlTemplate: '/*' },
    });
    const backend = await fetch(`${credgate.gatewayUrl}/unreachable/x`, {
      headers: { 'x-request-id': 'e2e-backend-1' },
    });
    assert.equal(backend.status, 502);
    await credgate.manage('DELETE', '/apis/unreachable');
    await sleep(100);

    const messages = assertJsonLogLines(credgate.output).map((record) => record.message);
    assert.ok(messages.length > 5, 'credgate logged fewer lines than expected');
    assert.ok(messages.some((message) => message.includes('request_id=e2e-log-check.1')));
    assert.ok(messages.some((message) => message.includes('request_id=e2e-rejected-1')));
    const backendLine = /^backend request failed .*request_id=e2e-backend-1/;
    assert.ok(
      messages.some((message) => backendLine.test(message)),
      'no backend failure line with the request id',
    );
  });

  test('gateway echoes request ids', async () => {
    const response = await fetch(`${credgate.gatewayUrl}/no-such-api`, {
      headers: { 'x-request-id': 'e2e-gateway-1' },
    });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get('x-request-id'), 'e2e-gateway-1');
    const generated = await fetch(`${credgate.gatewayUrl}/no-such-api`);
    assert.match(generated.headers.get('x-request-id') ?? '', kRequestIdPattern);
  });

  test('admin key from env writes no file', () => {
    assert.ok(!existsSync(join(credgate.dataDir, 'admin.key')));
    assert.ok(!credgate.output.includes(credgate.adminKey), 'the log contains the admin key');
  });
});

describe('generated keys', { skip, timeout: 30000 }, () => {
  test('admin and master keys are generated', async () => {
    const credgate = await newCredgate('keys', { adminKey: null });
    await credgate.start();
    const adminKeyFile = join(credgate.dataDir, 'admin.key');
    const masterKeyFile = join(credgate.dataDir, 'master.key');
    assert.equal(statSync(adminKeyFile).mode & 0o777, 0o600);
    assert.equal(statSync(masterKeyFile).mode & 0o777, 0o600);

    const adminKey = credgate.readGeneratedAdminKey();
    assert.ok(adminKey.length >= 16, 'the generated admin key is shorter than 16 characters');
    assert.equal((await credgate.manage('GET', '/apis')).status, 200);
    assert.equal((await send(credgate, 'GET', '/apis', { key: `${adminKey}x` })).status, 401);

    const masterKeys = readFileSync(masterKeyFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('#'))
      .map((line) => line.slice(line.indexOf(':') + 1));
    assert.ok(masterKeys.length >= 1, 'master.key has no key line');

    // A restart reuses both files.
    const firstOutput = credgate.output;
    await credgate.stop();
    await credgate.start();
    assert.equal(readFileSync(adminKeyFile, 'utf8').trim(), adminKey);
    assert.equal((await credgate.manage('GET', '/apis')).status, 200);

    for (const output of [firstOutput, credgate.output]) {
      assert.ok(!output.includes(adminKey), 'the log contains the admin key');
      for (const key of masterKeys) {
        assert.ok(!output.includes(key), 'the log contains the master key');
      }
    }
    assert.match(firstOutput, /admin\.key/);
    assert.match(firstOutput, /master\.key/);
    assertJsonLogLines(firstOutput);
    await credgate.stop();
  });
});

describe('declared resources', { skip, timeout: 60000 }, () => {
  const kSecret = 'declared-client-secret-3b7e9f01';
  const declared = (apiDisplayName) => [
    {
      path: '/trustedIssuers/corp',
      body: issuerBody(),
    },
    {
      path: '/authorizationProviders/declared',
      body: providerBody({ secret: kSecret }),
    },
    { path: '/authorizationProviders/declared/authorizations/alice', body: kConnectionBody },
    {
      path: '/authorizationProviders/declared/authorizations/alice/accessPolicies/alice',
      body: { properties: { tenantId: 'tenant-1', objectId: 'object-1', appIds: [] } },
    },
    {
      path: '/apis/declared',
      yaml: [
        '    body:',
        '      properties:',
        `        displayName: ${apiDisplayName}`,
        '        path: declared',
        '        serviceUrl: https://api.example.com',
      ],
    },
    {
      path: '/apis/declared/operations/get-item',
      body: { properties: { displayName: 'Get item', method: 'GET', urlTemplate: '/items/{id}' } },
    },
    { path: '/apis/declared/policies/policy', body: policyBody('declared') },
  ];

  // Writes a config file that declares `resources`. A resource with `yaml` lines gets its body in
  // YAML block style, and the others get JSON, which is a subset of YAML.
  function writeConfig(file, resources) {
    const lines = ['# Declared resources of the management end-to-end test.', 'resources:'];
    for (const resource of resources) {
      lines.push(`  - path: ${resource.path}`);
      if (resource.yaml) {
        lines.push(...resource.yaml);
      } else {
        lines.push(`    body: ${JSON.stringify(resource.body)}`);
      }
    }
    writeFileSync(file, `${lines.join('\n')}\n`);
  }

  let credgate;
  let configFile;

  before(async () => {
    const dataDir = newDataDir('declared');
    configFile = join(dataDir, 'credgate.yaml');
    writeConfig(configFile, declared('Declared API'));
    credgate = await newCredgate('declared', { dataDir, configFile });
    await credgate.start();
  });

  async function getAll() {
    const bodies = {};
    for (const { path } of declared('')) {
      bodies[path] = await expectStatus(credgate.manage('GET', path), 200, `GET ${path}`);
    }
    return bodies;
  }

  test('declared resources applied at start', async () => {
    const bodies = await getAll();
    assert.deepEqual(bodies['/trustedIssuers/corp'].properties.audiences, ['api://credgate']);
    const provider = bodies['/authorizationProviders/declared'].properties;
    assert.equal(provider.displayName, 'Example');
    const code = provider.oauth2.grantTypes.authorizationCode;
    assert.equal(code.tokenUrl, 'https://oauth.example.com/token');
    const connection = bodies[kDeclaredConnection].properties;
    assert.equal(connection.status, 'Error');
    assert.equal(connection.error.code, 'Unauthenticated');
    const policy = bodies[`${kDeclaredConnection}/accessPolicies/alice`].properties;
    assert.equal(policy.objectId, 'object-1');
    assert.deepEqual(bodies['/apis/declared'].properties, {
      displayName: 'Declared API',
      path: 'declared',
      serviceUrl: 'https://api.example.com',
    });
    const operation = bodies['/apis/declared/operations/get-item'].properties;
    assert.equal(operation.urlTemplate, '/items/{id}');
    assert.match(bodies['/apis/declared/policies/policy'].properties.value, /declared/);
    assert.ok(!credgate.output.includes(kSecret), 'the log contains the declared client secret');
  });

  test('restart changes nothing', async () => {
    await failSignIn(credgate, 'declared', 'alice');
    const before = await getAll();
    const connection = before['/authorizationProviders/declared/authorizations/alice'].properties;
    assert.equal(connection.status, 'Error');
    assert.equal(connection.error.code, 'LoginFailed');

    await credgate.stop();
    await credgate.start();
    assert.deepEqual(await getAll(), before);
    assert.match(credgate.output, /declared resources applied count=7 changed=0 unchanged=7/);
    assertJsonLogLines(credgate.output);
    for (const collection of ['/apis', '/trustedIssuers', '/authorizationProviders']) {
      const list = await expectStatus(credgate.manage('GET', collection), 200, collection);
      assert.equal(list.value.length, 1, `${collection} has more than the declared resource`);
    }
  });

  test('changed declared body applied', async () => {
    writeConfig(configFile, declared('Declared API v2'));
    await credgate.stop();
    await credgate.start();
    const api = await expectStatus(credgate.manage('GET', '/apis/declared'), 200, 'api');
    assert.equal(api.properties.displayName, 'Declared API v2');
    assert.match(credgate.output, /declared resources applied count=7 changed=1 unchanged=6/);
    const connection = await expectStatus(
      credgate.manage('GET', '/authorizationProviders/declared/authorizations/alice'),
      200,
      'connection',
    );
    assert.equal(connection.properties.error.code, 'LoginFailed');
    await credgate.stop();
  });

  test('invalid declared resource stops start', async () => {
    const cases = [
      [[{ path: '/apis/broken', body: { properties: { path: 'broken' } } }], /serviceUrl/],
      [
        [
          {
            path: '/apis/nowhere/operations/op',
            body: { properties: { method: 'GET', urlTemplate: '/' } },
          },
        ],
        /nowhere/,
      ],
      [[{ path: '/noSuchCollection/x', body: { properties: {} } }], /noSuchCollection/],
    ];
    for (const [resources, pattern] of cases) {
      const dataDir = newDataDir('invalid');
      const file = join(dataDir, 'credgate.yaml');
      writeConfig(file, resources);
      const failing = await newCredgate('invalid', { dataDir, configFile: file });
      const { code, output } = await failing.runUntilExit();
      assert.notEqual(code, 0, output);
      const named = output.includes(resources[0].path);
      assert.ok(named, `the message does not name the path:\n${output}`);
      assert.match(output, pattern);
    }
  });

  test('unknown config key stops start', async () => {
    const cases = [
      ['# credgate configuration\nlogLevel: info\ngatewayListn: 127.0.0.1:9\n', 'gatewayListn', 3],
      [
        'managedIdentity:\n  tenantId: t\n  objectId: o\n  objectID: x\n',
        'managedIdentity.objectID',
        4,
      ],
      [
        'resources:\n  - path: /apis/a\n    bdy: {}\n    body: {properties: {}}\n',
        'resources.bdy',
        3,
      ],
    ];
    for (const [yaml, key, line] of cases) {
      const dataDir = newDataDir('unknown-key');
      const file = join(dataDir, 'credgate.yaml');
      writeFileSync(file, yaml);
      const failing = await newCredgate('unknown-key', { dataDir, configFile: file });
      const { code, output } = await failing.runUntilExit();
      assert.notEqual(code, 0, output);
      const named = output.includes(`unknown key '${key}'`);
      assert.ok(named, `the message does not name ${key}:\n${output}`);
      assert.match(output, new RegExp(`line ${line}\\b`));
      assert.ok(output.includes(file), `the message does not name the file:\n${output}`);
    }
  });

  test('invalid config value names its line', async () => {
    const dataDir = newDataDir('invalid-value');
    const file = join(dataDir, 'credgate.yaml');
    writeFileSync(file, 'logLevel: info\npostLoginRedirectAllowList:\n  - not a url\n');
    const failing = await newCredgate('invalid-value', { dataDir, configFile: file });
    const { code, output } = await failing.runUntilExit();
    assert.notEqual(code, 0, output);
    assert.match(output, /'postLoginRedirectAllowList' \(line 3/);
    assert.ok(output.includes(file), `the message does not name the file:\n${output}`);
  });
});

describe('serve shutdown', { skip, timeout: 30000 }, () => {
  let upstream;

  after(() => upstream?.close());

  test('sigterm drains in-flight requests', async () => {
    let received;
    const requestArrived = new Promise((resolve) => {
      received = resolve;
    });
    upstream = createServer((request, response) => {
      received();
      setTimeout(() => response.end('slow answer'), 1500);
    });
    await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;

    const credgate = await newCredgate('drain');
    await credgate.start();
    await create(credgate, '/apis/slow', apiBody('slow', 'Slow', upstreamUrl));
    await create(credgate, '/apis/slow/operations/wait', {
      properties: { method: 'GET', urlTemplate: '/wait' },
    });

    // An idle connection must not hold up the exit.
    const idle = connect({ host: '127.0.0.1', port: Number(new URL(credgate.gatewayUrl).port) });
    idle.on('error', () => {});
    await new Promise((resolve) => idle.once('connect', resolve));

    const started = Date.now();
    const inFlight = fetchJson(`${credgate.gatewayUrl}/slow/wait`);
    await requestArrived;
    credgate.child.process.kill('SIGTERM');
    await sleep(200);

    const gatewayConnect = await tryConnect(credgate.gatewayUrl);
    assert.equal(gatewayConnect, 'ECONNREFUSED', 'the gateway accepted a new connection');
    const managementConnect = await tryConnect(credgate.managementUrl);
    assert.equal(managementConnect, 'ECONNREFUSED', 'the management API accepted a new connection');

    const response = await inFlight;
    assert.equal(response.status, 200, response.text);
    assert.equal(response.text, 'slow answer');
    assert.ok(Date.now() - started >= 1400, 'the answer came before the upstream sent it');

    const answered = Date.now();
    const { code, signal } = await credgate.child.exited;
    idle.destroy();
    assert.equal(signal, null);
    assert.equal(code, 0, credgate.output);
    assert.ok(Date.now() - answered < 3000, 'credgate took more than 3 s to exit after draining');
    assert.match(credgate.output, /all requests finished/);
    assertJsonLogLines(credgate.output);
  });
});
