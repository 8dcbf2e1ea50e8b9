// End-to-end client credentials connections. credgate requests a token from a real OpenID
// provider (testenv/idp.mjs, oidc-provider) with the client credentials grant. The gateway sends
// it to an API that this test serves, which verifies the token with the provider's JWKS. Every
// process listens on 127.0.0.1.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/client_credentials.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  authorizationPolicy,
  credgateBinaryExists,
  Credgate,
  kCredgateBin,
} from './lib/credgate.mjs';
import { freePort, kOutputDir, startNodeServer, stopAll } from './lib/processes.mjs';
import { removeTestDir } from './lib/secrets.mjs';
import {
  callerToken,
  decodeJwt,
  fetchJson,
  kCallers,
  sleep,
  verifyWithJwks,
} from './lib/tokens.mjs';

const kProvider = 'daemon-idp';
const kConnection = 'bob-app';
const kShortLivedConnection = 'short-app';
const kConnectionPath = `/authorizationProviders/${kProvider}/authorizations/${kConnection}`;

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

// An API that returns the bearer token it received, decoded, and whether it verifies with the
// identity provider's JWKS.
async function startTokenEchoApi(jwksUrl) {
  const jwks = (await fetchJson(jwksUrl)).json;
  const server = createServer((req, res) => {
    const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const body = match
      ? { verified: verifyWithJwks(match[1], jwks), token: decodeJwt(match[1]).payload }
      : { verified: false, token: null };
    res.writeHead(match ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...body, path: req.url }));
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${port}` };
}

describe('client credentials', { skip, timeout: 120000 }, () => {
  let idp;
  let api;
  let credgate;
  let dataDir;

  before(async () => {
    const [idpPort, gatewayPort, managementPort] = await Promise.all(
      Array.from({ length: 3 }, freePort),
    );
    dataDir = mkdtempSync(join(kOutputDir, 'client-credentials-data-'));
    [, idp] = await startNodeServer('cc-idp', 'idp.mjs', ['--port', String(idpPort)]);
    api = await startTokenEchoApi(idp.jwksUri);
    credgate = new Credgate({ gatewayPort, managementPort, dataDir });
    await credgate.start();
  });

  after(async () => {
    api?.server.close();
    await stopAll();
    if (dataDir) removeTestDir(dataDir);
  });

  // Asserts a 2xx management response and returns its JSON body.
  async function manage(method, path, body) {
    const response = await credgate.manage(method, path, body);
    assert.ok(
      response.status >= 200 && response.status < 300,
      `${method} ${path} returned ${response.status}: ${response.text}`,
    );
    return response.json;
  }

  function clientCredentialsConnection(clientId) {
    return {
      properties: {
        authorizationType: 'OAuth2',
        oauth2grantType: 'ClientCredentials',
        parameters: { clientId, clientSecret: kCallers[clientId].clientSecret },
      },
    };
  }

  // Calls the echo API declared as `apiId` through the gateway as caller-alice.
  async function callThrough(apiId) {
    const callerJwt = await callerToken(idp.issuer, 'caller-alice');
    return credgate.call(`/${apiId}/echo`, callerJwt);
  }

  async function declareApi(apiId, connection) {
    await manage('PUT', `/apis/${apiId}`, {
      properties: { displayName: apiId, path: apiId, serviceUrl: api.url },
    });
    await manage('PUT', `/apis/${apiId}/operations/echo`, {
      properties: { method: 'GET', urlTemplate: '/echo' },
    });
    await manage('PUT', `/apis/${apiId}/policies/policy`, {
      properties: { format: 'rawxml', value: authorizationPolicy(kProvider, connection) },
    });
    const path = `/authorizationProviders/${kProvider}/authorizations/${connection}`;
    await manage('PUT', `${path}/accessPolicies/alice`, {
      properties: { tenantId: 'tenant-1', objectId: kCallers['caller-alice'].oid },
    });
  }

  test('catalogue lists the oauth2 client credentials grant', async () => {
    const entry = await manage('GET', '/identityProviders/oauth2');
    const grant = entry.properties.grantTypes.clientCredentials;
    assert.deepEqual(grant.connectionParameters, ['clientId', 'clientSecret']);
    const secret = grant.parameters.find((parameter) => parameter.name === 'clientSecret');
    assert.equal(secret.secret, true);
  });

  test('connection gets its token at PUT', async () => {
    await manage('PUT', '/trustedIssuers/idp', {
      properties: { issuer: idp.issuer, audiences: ['api://credgate'] },
    });
    const provider = await manage('PUT', `/authorizationProviders/${kProvider}`, {
      properties: {
        displayName: 'Daemon IdP',
        identityProvider: 'oauth2',
        oauth2: { grantTypes: { clientCredentials: { tokenUrl: `${idp.issuer}/token` } } },
      },
    });
    assert.equal(provider.properties.oauth2.grantTypes.clientCredentials.tokenUrl,
                 `${idp.issuer}/token`);

    const connection = await manage('PUT', kConnectionPath, clientCredentialsConnection('caller-bob'));
    assert.equal(connection.properties.oauth2grantType, 'ClientCredentials');
    assert.equal(connection.properties.status, 'Connected',
                 `${JSON.stringify(connection)}\ncredgate output:\n${credgate.output}`);
    const got = await credgate.manage('GET', kConnectionPath);
    assert.equal(got.json.properties.status, 'Connected');
    assert.ok(!got.text.includes(kCallers['caller-bob'].clientSecret), 'GET returned the secret');
    assert.ok(!got.text.includes('parameters'), 'GET returned the write-only parameters');
  });

  test('gateway sends the client token', async () => {
    await declareApi('daemon', kConnection);
    const { status, json, text } = await callThrough('daemon');
    assert.equal(status, 200, `${text}\ncredgate output:\n${credgate.output}`);
    assert.equal(json.verified, true, 'the token does not verify with the provider JWKS');
    assert.equal(json.token.iss, idp.issuer);
    assert.equal(json.token.azp, 'caller-bob');
    assert.equal(json.token.aud, 'api://credgate');
  });

  test('wrong secret records provider error', async () => {
    const path = `/authorizationProviders/${kProvider}/authorizations/wrong-secret`;
    const connection = await manage('PUT', path, {
      properties: {
        oauth2grantType: 'ClientCredentials',
        parameters: { clientId: 'caller-bob', clientSecret: 'not-the-secret' },
      },
    });
    assert.equal(connection.properties.status, 'Error');
    assert.equal(connection.properties.error.code, 'TokenRequestFailed');
    assert.match(connection.properties.error.message, /invalid_client/);
  });

  test('login link is rejected', async () => {
    const response = await credgate.manage('POST', `${kConnectionPath}/getLoginLinks`, {});
    assert.equal(response.status, 400, response.text);
    assert.match(response.json.error.message, /client credentials/);
  });

  test('expired token is requested again', async () => {
    // caller-shortlived's tokens last 2 seconds (testenv/callers.json).
    const path = `/authorizationProviders/${kProvider}/authorizations/${kShortLivedConnection}`;
    const connection = await manage('PUT', path, clientCredentialsConnection('caller-shortlived'));
    assert.equal(connection.properties.status, 'Connected', JSON.stringify(connection));
    await declareApi('short', kShortLivedConnection);

    const first = await callThrough('short');
    assert.equal(first.status, 200, first.text);
    await sleep(3000);
    const second = await callThrough('short');
    assert.equal(second.status, 200, `${second.text}\ncredgate output:\n${credgate.output}`);
    assert.equal(second.json.verified, true);
    assert.equal(second.json.token.azp, 'caller-shortlived');
    assert.notEqual(second.json.token.jti, first.json.token.jti);
    assert.ok(second.json.token.exp * 1000 > Date.now(), 'the gateway sent an expired token');
  });

  test('connection survives restart', async () => {
    await credgate.stop();
    await credgate.start();
    const got = await manage('GET', kConnectionPath);
    assert.equal(got.properties.status, 'Connected');
    const { status, json, text } = await callThrough('daemon');
    assert.equal(status, 200, `${text}\ncredgate output:\n${credgate.output}`);
    assert.equal(json.token.azp, 'caller-bob');
  });

  test('database holds no client secret', async () => {
    const databasePath = join(dataDir, 'credgate.db');
    const files = ['', '-wal', '-journal']
      .map((suffix) => `${databasePath}${suffix}`)
      .filter((path) => existsSync(path));
    assert.ok(files.length > 0, `${databasePath} does not exist`);
    const bytes = Buffer.concat(files.map((path) => readFileSync(path)));
    for (const clientId of ['caller-bob', 'caller-shortlived']) {
      const secret = kCallers[clientId].clientSecret;
      assert.equal(bytes.includes(Buffer.from(secret)), false, `${clientId}'s secret is stored`);
    }
  });
});
