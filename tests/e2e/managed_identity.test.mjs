// End-to-end authentication-managed-identity. The gateway's own identity is a client
// credentials provider at a real OpenID provider (testenv/idp.mjs, oidc-provider), named by
// managedIdentity.tokenProvider in the configuration file. The policy's resource is sent as the
// RFC 8707 `resource` parameter (resourceParameter: resource), which the provider turns into the
// token's audience. The backend is a loopback API that verifies the token with the provider's
// JWKS. Every process listens on 127.0.0.1.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/managed_identity.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { freePort, kOutputDir, startNodeServer, stopAll } from './lib/processes.mjs';
import { removeTestDir } from './lib/secrets.mjs';
import { decodeJwt, fetchJson, kCallers, verifyWithJwks } from './lib/tokens.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

// An API that returns the bearer token of the Authorization header (or of x-token), decoded,
// and whether it verifies with the identity provider's JWKS.
async function startTokenEchoApi(jwksUrl) {
  const jwks = (await fetchJson(jwksUrl)).json;
  const server = createServer((req, res) => {
    const header = req.headers['x-token'] ?? req.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    const body = match
      ? { verified: verifyWithJwks(match[1], jwks), token: decodeJwt(match[1]).payload }
      : { verified: false, token: null };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${port}` };
}

// The user-assigned identity that managedIdentity.userAssigned maps to the provider
// "alice-identity", whose client is caller-alice.
const kUserAssignedClientId = '00000000-0000-0000-0000-00000000a11c';

describe('authentication-managed-identity', { skip, timeout: 120000 }, () => {
  let idp;
  let api;
  let credgate;
  let dataDir;

  before(async () => {
    const [idpPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 3 }, freePort),
    );
    mkdirSync(kOutputDir, { recursive: true });
    dataDir = mkdtempSync(join(kOutputDir, 'managed-identity-data-'));
    [, idp] = await startNodeServer('mi-idp', 'idp.mjs', ['--port', String(idpPort)]);
    api = await startTokenEchoApi(idp.jwksUri);
    const configFile = join(dataDir, 'credgate.yaml');
    writeFileSync(
      configFile,
      [
        'managedIdentity:',
        '  tenantId: tenant-1',
        `  objectId: ${kCallers['caller-bob'].oid}`,
        '  tokenProvider: gateway-identity',
        '  resourceParameter: resource',
        '  userAssigned:',
        `    ${kUserAssignedClientId}: alice-identity`,
        '',
      ].join('\n'),
    );
    credgate = new Credgate({ gatewayPort, managementPort, dataDir, configFile, name: 'mi' });
    await credgate.start();
    await manage('PUT', '/authorizationProviders/gateway-identity', {
      properties: {
        identityProvider: 'oauth2',
        oauth2: {
          grantTypes: {
            clientCredentials: {
              tokenUrl: `${idp.issuer}/token`,
              clientId: 'caller-bob',
              clientSecret: kCallers['caller-bob'].clientSecret,
            },
          },
        },
      },
    });
    await manage('PUT', '/authorizationProviders/alice-identity', {
      properties: {
        identityProvider: 'oauth2',
        oauth2: {
          grantTypes: {
            clientCredentials: {
              tokenUrl: `${idp.issuer}/token`,
              clientId: 'caller-alice',
              clientSecret: kCallers['caller-alice'].clientSecret,
            },
          },
        },
      },
    });
    await manage('PUT', '/apis/mi', {
      properties: { displayName: 'Managed identity', path: 'mi', serviceUrl: api.url },
    });
  });

  after(async () => {
    api?.server.close();
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

  async function putOperation(id, inbound, onError = '') {
    await manage('PUT', `/apis/mi/operations/${id}`, {
      properties: { method: 'GET', urlTemplate: `/${id}` },
    });
    await manage('PUT', `/apis/mi/operations/${id}/policies/policy`, {
      properties: {
        format: 'rawxml',
        value: `<policies><inbound>${inbound}</inbound><on-error>${onError}</on-error></policies>`,
      },
    });
  }

  test('token for the resource reaches the backend', async () => {
    await putOperation('header', '<authentication-managed-identity resource="api://other"/>');
    const response = await fetchJson(`${credgate.gatewayUrl}/mi/header`);
    assert.equal(response.status, 200, `${response.text}\n${credgate.output}`);
    assert.equal(response.json.verified, true);
    assert.equal(response.json.token.aud, 'api://other');
    assert.equal(response.json.token.azp, 'caller-bob');
  });

  test('output variable leaves Authorization alone', async () => {
    await putOperation(
      'variable',
      `<authentication-managed-identity resource="api://credgate" output-token-variable-name="mi"/>
       <set-header name="x-token" exists-action="override">
         <value>@("Bearer " + (string)context.Variables["mi"])</value>
       </set-header>`,
    );
    const response = await fetchJson(`${credgate.gatewayUrl}/mi/variable`);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.token.aud, 'api://credgate');
  });

  test('rejected resource fails with its reason', async () => {
    await putOperation(
      'unknown',
      '<authentication-managed-identity resource="api://unknown"/>',
      `<return-response><set-status code="502"/>
         <set-body>@(context.LastError.Reason)</set-body></return-response>`,
    );
    const response = await fetchJson(`${credgate.gatewayUrl}/mi/unknown`);
    assert.equal(response.status, 502, response.text);
    assert.equal(response.text, 'ManagedIdentityTokenRequestFailed');
  });

  test('client-id gets the user-assigned token', async () => {
    await putOperation(
      'user-assigned',
      `<authentication-managed-identity resource="api://other" client-id="${kUserAssignedClientId}"/>`,
    );
    const response = await fetchJson(`${credgate.gatewayUrl}/mi/user-assigned`);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.json.verified, true);
    assert.equal(response.json.token.aud, 'api://other');
    assert.equal(response.json.token.azp, 'caller-alice');
  });

  test('unknown client-id is rejected at save', async () => {
    await manage('PUT', '/apis/mi/operations/client-id', {
      properties: { method: 'GET', urlTemplate: '/client-id' },
    });
    const response = await credgate.manage('PUT', '/apis/mi/operations/client-id/policies/policy', {
      properties: {
        format: 'rawxml',
        value: `<policies><inbound><authentication-managed-identity resource="api://other"
          client-id="00000000-0000-0000-0000-000000000000"/></inbound></policies>`,
      },
    });
    assert.equal(response.status, 400, response.text);
    assert.match(response.text, /names client-id '00000000-0000-0000-0000-000000000000'/);
  });
});
