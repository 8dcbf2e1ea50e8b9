// Checks the management API's OpenAPI document (GET /openapi.json) against a running server:
// every operation it lists is sent, and the status must be one the document lists for it, with a
// body that has the documented required members and types. A method that the document does not
// list for a resource path must get 405. The example bodies of the document are sent with their
// example.com URLs pointed at a closed loopback port, so nothing leaves the machine.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/openapi.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { freePort, kOutputDir, stopAll } from './lib/processes.mjs';
import { recordSecrets, removeTestDir } from './lib/secrets.mjs';
import { fetchJson } from './lib/tokens.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

// The names put into each path parameter; created resources use them, so parents exist before
// their children in the document's path order.
const kParameterValues = {
  issuerId: 'oa-issuer',
  identityProviderId: 'oauth2pkce',
  providerId: 'oa-provider',
  authorizationId: 'oa-connection',
  accessPolicyId: 'oa-policy',
  apiId: 'oa-api',
  operationId: 'oa-operation',
  fragmentId: 'oa-fragment',
  backendId: 'oa-backend',
  certificateId: 'oa-certificate',
  adminKeyId: 'oa-key',
};
const kMethods = ['get', 'put', 'post', 'delete', 'patch'];
const kSecretsInExamples = ['example-secret'];
recordSecrets('client secret', kSecretsInExamples);

let credgate;
let dataDir;
let doc;
// Bodies that replace a document example which is only a placeholder, by "method template".
const bodyOverrides = {};

before(async () => {
  if (skip) return;
  mkdirSync(kOutputDir, { recursive: true });
  dataDir = mkdtempSync(join(kOutputDir, 'openapi-'));
  const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
  // The certificate example's data is shortened, so PUT gets a real base64 DER certificate. Its
  // key stays outside the kept test output, which the secret scan reads.
  const keyDir = mkdtempSync(join(tmpdir(), 'credgate-openapi-certificate-'));
  const pem = join(keyDir, 'certificate.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout',
    join(keyDir, 'certificate.key'), '-out', pem, '-subj', '/CN=openapi.example', '-days', '2'],
  { stdio: 'pipe' });
  const der = execFileSync('openssl', ['x509', '-in', pem, '-outform', 'DER']);
  rmSync(keyDir, { recursive: true, force: true });
  bodyOverrides['put /certificates/{certificateId}'] = {
    properties: { data: der.toString('base64') },
  };
  credgate = new Credgate({ gatewayPort, managementPort, dataDir, name: 'openapi' });
  await credgate.start();
  const response = await fetchJson(`${credgate.managementUrl}/openapi.json`);
  assert.equal(response.status, 200, response.text);
  doc = response.json;
});

after(async () => {
  await stopAll();
  if (dataDir) removeTestDir(dataDir);
});

function fillPath(template) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    assert.ok(name in kParameterValues, `no test value for path parameter ${name}`);
    return kParameterValues[name];
  });
}

function resolve(schema) {
  while (schema?.$ref) {
    const name = schema.$ref.replace('#/components/schemas/', '');
    schema = doc.components.schemas[name];
    assert.ok(schema, `unresolved ${name}`);
  }
  return schema;
}

// Checks `value` against the subset of JSON Schema the document uses: type, required,
// properties, items, enum.
function checkSchema(value, schema, where) {
  schema = resolve(schema);
  if (!schema) return;
  if (value === null && schema.nullable) return;
  let actual = typeof value;
  if (Array.isArray(value)) actual = 'array';
  if (value === null) actual = 'null';
  const expected = schema.type === 'integer' ? 'number' : schema.type;
  if (expected) assert.equal(actual, expected, `${where}: expected ${schema.type}, got ${actual}`);
  if (schema.type === 'integer') assert.ok(Number.isInteger(value), `${where}: not an integer`);
  if (schema.enum) assert.ok(schema.enum.includes(value), `${where}: ${value} not in the enum`);
  for (const name of schema.required ?? []) {
    assert.ok(name in value, `${where}: required member ${name} is missing`);
  }
  for (const [name, member] of Object.entries(schema.properties ?? {})) {
    if (value && value[name] !== undefined) checkSchema(value[name], member, `${where}.${name}`);
  }
  if (schema.items && Array.isArray(value)) {
    value.forEach((item, i) => checkSchema(item, schema.items, `${where}[${i}]`));
  }
}

function exampleBody(operation) {
  const example = operation.requestBody?.content?.['application/json']?.example;
  if (example === undefined) return undefined;
  return JSON.parse(
    JSON.stringify(example).replace(/https:\/\/[a-z.]*example\.com/g, 'https://127.0.0.1:9'));
}

// Sends the operation, checks the response against the document and returns the response.
async function call(template, method, label) {
  const operation = doc.paths[template][method];
  const path = fillPath(template);
  const body = bodyOverrides[`${method} ${template}`] ?? exampleBody(operation);
  const response = await credgate.manage(method.toUpperCase(), path, body);
  const documented = operation.responses[String(response.status)];
  assert.ok(documented, `${label} ${method.toUpperCase()} ${path} answered ${response.status}, ` +
    `which the document does not list (${Object.keys(operation.responses)}): ${response.text}`);
  const schema = documented.content?.['application/json']?.schema;
  if (schema && response.status < 300) {
    checkSchema(response.json, schema, `${method.toUpperCase()} ${path}`);
  }
  if (response.json?.properties?.key) recordSecrets('admin key', [response.json.properties.key]);
  return response;
}

function operations(filter) {
  const list = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const method of kMethods) {
      if (item[method] && filter(template, method, item[method])) list.push([template, method]);
    }
  }
  return list;
}

describe('the OpenAPI document of the management API', { skip }, () => {
  test('is served without a credential and names an OpenAPI 3 version', () => {
    assert.match(doc.openapi, /^3\./);
    assert.ok(Object.keys(doc.paths).length > 20);
  });

  test('every documented operation answers as documented', async () => {
    const puts = operations((_, method) => method === 'put');
    for (const [template, method] of puts) {
      const created = await call(template, method, 'create');
      assert.equal(created.status, 201, `first PUT ${template}: ${created.text}`);
    }
    for (const [template, method] of puts) await call(template, method, 'replace');
    for (const [template, method] of operations((_, m) => m === 'get' || m === 'post')) {
      await call(template, method, 'read');
    }
    const deletes = operations((_, method) => method === 'delete').reverse();
    for (const [template, method] of deletes) {
      const deleted = await call(template, method, 'delete');
      assert.equal(deleted.status, 200, `first DELETE ${template}: ${deleted.text}`);
    }
    for (const [template, method] of deletes) await call(template, method, 'delete again');
  });

  test('every method the document does not list on a resource path gets 405', async () => {
    for (const [template, item] of Object.entries(doc.paths)) {
      const operationsHere = kMethods.filter((method) => item[method]);
      if (operationsHere.some((method) => item[method].security?.length === 0)) continue;
      for (const method of kMethods.filter((m) => !item[m])) {
        const path = fillPath(template);
        const body = method === 'get' ? undefined : {};
        const response = await credgate.manage(method.toUpperCase(), path, body);
        assert.equal(response.status, 405, `${method.toUpperCase()} ${path}: ${response.text}`);
      }
    }
  });
});
