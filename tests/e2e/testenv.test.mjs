// Checks the test environment itself, without credgate: the identity provider's caller tokens,
// and the backend's authorization server, API and browser sign-in, with this test acting as the
// OAuth client in credgate's place.
//
//   node --test tests/e2e/testenv.test.mjs

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { freePort, kOutputDir, runLogin, startNodeServer, stopAll } from './lib/processes.mjs';
import {
  basicAuth,
  callerToken,
  decodeJwt,
  fetchJson,
  kCallers,
  pkcePair,
  sleep,
  verifyWithJwks,
} from './lib/tokens.mjs';

after(stopAll);

describe('idp', { timeout: 60000 }, () => {
  let issuer;
  let jwks;

  before(async () => {
    const port = await freePort();
    const [, ready] = await startNodeServer('testenv-idp', 'idp.mjs', ['--port', String(port)]);
    issuer = ready.issuer;
    jwks = (await fetchJson(`${issuer}/jwks`)).json;
  });

  test('discovery names the issuer and JWKS', async () => {
    const { json } = await fetchJson(`${issuer}/.well-known/openid-configuration`);
    assert.equal(json.issuer, issuer);
    assert.equal(json.jwks_uri, `${issuer}/jwks`);
  });

  test('alice token carries caller claims', async () => {
    const { header, payload } = decodeJwt(await callerToken(issuer, 'caller-alice'));
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'at+jwt');
    assert.equal(payload.iss, issuer);
    assert.equal(payload.aud, 'api://credgate');
    assert.equal(payload.oid, kCallers['caller-alice'].oid);
    assert.equal(payload.tid, 'tenant-1');
    assert.deepEqual(payload.groups, ['readers']);
    assert.equal(payload.azp, 'caller-alice');
  });

  test('token verifies with JWKS', async () => {
    assert.ok(verifyWithJwks(await callerToken(issuer, 'caller-bob'), jwks));
  });

  test('bob has no groups', async () => {
    const { payload } = decodeJwt(await callerToken(issuer, 'caller-bob'));
    assert.equal(payload.oid, kCallers['caller-bob'].oid);
    assert.deepEqual(payload.groups, []);
  });

  test('other resource sets audience', async () => {
    const token = await callerToken(issuer, 'caller-alice', { resource: 'api://other' });
    assert.equal(decodeJwt(token).payload.aud, 'api://other');
  });

  test('unknown resource is rejected', async () => {
    const { status, json } = await fetchJson(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: basicAuth('caller-alice', kCallers['caller-alice'].clientSecret) },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'api://nope' }),
    });
    assert.equal(status, 400);
    assert.equal(json.error, 'invalid_target');
  });

  test('shortlived token lasts 2 s', async () => {
    const { payload } = decodeJwt(await callerToken(issuer, 'caller-shortlived'));
    assert.equal(payload.exp - payload.iat, 2);
    assert.equal(payload.oid, kCallers['caller-alice'].oid);
  });

  test('ES256 flag signs with P-256', async () => {
    const port = await freePort();
    const [, ready] = await startNodeServer('testenv-idp-es256', 'idp.mjs', [
      '--port', String(port), '--alg', 'ES256',
    ]);
    const token = await callerToken(ready.issuer, 'caller-alice');
    const es256Jwks = (await fetchJson(`${ready.issuer}/jwks`)).json;
    assert.equal(decodeJwt(token).header.alg, 'ES256');
    assert.ok(verifyWithJwks(token, es256Jwks));
  });
});

describe('backend', { timeout: 120000 }, () => {
  const kClientId = 'credgate';
  const kClientSecret = 'testenv-client-secret-0123456789';
  let backend;
  let callbackUrl;
  let callbackServer;
  // Filled by the callback server with the token response of the code exchange.
  let pending;
  let tokens;

  before(async () => {
    const [oauthPort, apiPort, callbackPort] = [await freePort(), await freePort(), await freePort()];
    callbackUrl = `http://127.0.0.1:${callbackPort}/.credgate/callback`;
    [, backend] = await startNodeServer('testenv-backend', 'backend.mjs', [
      '--oauth-port', String(oauthPort),
      '--api-port', String(apiPort),
      '--client-id', kClientId,
      '--client-secret', kClientSecret,
      '--redirect-uri', callbackUrl,
      '--access-token-ttl', '3',
    ]);

    // Plays credgate's callback: exchanges the code and sends the browser to /landed.
    callbackServer = createServer(async (req, res) => {
      const url = new URL(req.url, callbackUrl);
      const result = await fetchJson(backend.tokenUrl, {
        method: 'POST',
        headers: { authorization: basicAuth(kClientId, kClientSecret) },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: url.searchParams.get('code') ?? '',
          redirect_uri: callbackUrl,
          code_verifier: pending.verifier,
        }),
      });
      tokens = { state: url.searchParams.get('state'), ...result };
      res.writeHead(302, { location: `${backend.apiUrl}/landed` }).end();
    });
    callbackServer.listen(callbackPort, '127.0.0.1');
    await once(callbackServer, 'listening');
  });

  after(() => callbackServer?.close());

  function authorizationUrl(extra = {}) {
    pending = pkcePair();
    const url = new URL(backend.authorizationUrl);
    url.search = new URLSearchParams({
      client_id: kClientId,
      response_type: 'code',
      redirect_uri: callbackUrl,
      scope: 'openid profile',
      state: 'state-1',
      code_challenge: pending.challenge,
      code_challenge_method: 'S256',
      ...extra,
    }).toString();
    return url.toString();
  }

  async function stats() {
    return (await fetchJson(`${backend.apiUrl}/stats`)).json;
  }

  async function refresh(refreshToken, { post = false } = {}) {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    const headers = {};
    if (post) {
      body.set('client_id', kClientId);
      body.set('client_secret', kClientSecret);
    } else {
      headers.authorization = basicAuth(kClientId, kClientSecret);
    }
    return fetchJson(backend.tokenUrl, { method: 'POST', headers, body });
  }

  function callApi(accessToken) {
    return fetchJson(`${backend.apiUrl}/whoami?x=1`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
  }

  test('browser login issues tokens', async () => {
    const login = await runLogin({
      link: authorizationUrl(),
      user: 'alice',
      expectPrefix: `${backend.apiUrl}/landed`,
      screenshotDir: `${kOutputDir}/testenv-login`,
    });
    assert.equal(login.code, 0, login.output);
    assert.equal(tokens.status, 200, tokens.text);
    assert.equal(tokens.state, 'state-1');
    assert.ok(tokens.json.refresh_token, 'code exchange returned no refresh token');
    assert.equal(tokens.json.expires_in, 3);
    const issued = (await fetchJson(`${backend.apiUrl}/issued-tokens`)).json;
    assert.ok(issued.refreshTokens.includes(tokens.json.refresh_token));
    assert.ok(issued.accessTokens.includes(tokens.json.access_token));
  });

  test('API names the signed-in user', async () => {
    const { status, json } = await callApi(tokens.json.access_token);
    assert.equal(status, 200);
    assert.equal(json.user, 'alice');
    assert.equal(json.client_id, kClientId);
    assert.equal(json.path, '/whoami');
    assert.deepEqual(json.query, { x: '1' });
    assert.equal(json.headers.authorization, `Bearer ${tokens.json.access_token}`);
  });

  test('API rejects unknown token', async () => {
    const { status, json } = await callApi('not-a-token');
    assert.equal(status, 401);
    assert.equal(json.error, 'invalid_token');
  });

  test('API rejects expired token', async () => {
    const response = await refresh(tokens.json.refresh_token);
    assert.equal(response.status, 200, response.text);
    tokens.json = response.json;
    await sleep(4000);
    assert.equal((await callApi(tokens.json.access_token)).status, 401);
  });

  test('refresh rotates and rejects reuse', async () => {
    const before = await stats();
    const used = tokens.json.refresh_token;
    const first = await refresh(used, { post: true });
    assert.equal(first.status, 200, first.text);
    assert.notEqual(first.json.refresh_token, used);
    assert.equal((await callApi(first.json.access_token)).status, 200);

    const reuse = await refresh(used);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.json.error, 'invalid_grant');

    const after = await stats();
    assert.equal(after.tokenRequests.refresh_token - before.tokenRequests.refresh_token, 2);
    assert.equal(after.refreshTokenReuseRejected - before.refreshTokenReuseRejected, 1);
    assert.ok(after.clientAuthMethods.client_secret_post >= 1);
  });

  // Returns the backend's per-grant counters of `user`'s newest grant.
  async function grantOf(user) {
    const grants = Object.values((await stats()).grants).filter((grant) => grant.accountId === user);
    assert.ok(grants.length > 0, `no grant of ${user} in /stats`);
    return grants.at(-1);
  }

  test('grant stats count rotations and reuse', async () => {
    const before = await grantOf('alice');
    assert.equal(before.rotations, before.refreshCalls - before.refreshErrors);
    assert.equal(before.reuseRejections, 1);
    assert.equal(before.accessTokens[0].grantType, 'authorization_code');
    assert.equal(before.accessTokens.length, before.rotations + 1);

    // The reuse above revoked the grant and oidc-provider deleted the token, but the token was
    // consumed by a rotation, so presenting it once more still counts as reuse.
    const reusedAgain = await refresh(tokens.json.refresh_token);
    assert.equal(reusedAgain.status, 400);
    assert.equal(reusedAgain.json.error, 'invalid_grant');
    const after = await grantOf('alice');
    assert.equal(after.refreshCalls, before.refreshCalls + 1);
    assert.equal(after.refreshErrors, before.refreshErrors + 1);
    assert.equal(after.reuseRejections, before.reuseRejections + 1);
    assert.equal(after.rotations, before.rotations);
  });

  test('missing PKCE is rejected', async () => {
    const url = new URL(authorizationUrl());
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const response = await fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location'), url);
    assert.equal(location.origin + location.pathname, callbackUrl);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
  });

  function revoke(kind, token) {
    return fetchJson(`${backend.apiUrl}/admin/revoke-${kind}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
  }

  test('admin revokes one access token', async () => {
    const login = await runLogin({
      link: authorizationUrl(),
      user: 'carol',
      expectPrefix: `${backend.apiUrl}/landed`,
    });
    assert.equal(login.code, 0, login.output);
    assert.equal(tokens.status, 200, tokens.text);
    const { access_token: accessToken, refresh_token: refreshToken } = tokens.json;
    assert.equal((await callApi(accessToken)).status, 200);

    assert.equal((await revoke('access-token', accessToken)).status, 204);
    assert.equal((await callApi(accessToken)).status, 401);
    assert.equal((await revoke('access-token', accessToken)).status, 404);

    // The refresh token of the grant still works.
    const refreshed = await refresh(refreshToken);
    assert.equal(refreshed.status, 200, refreshed.text);
    tokens.json = refreshed.json;
    assert.equal((await callApi(refreshed.json.access_token)).status, 200);
  });

  test('token delay holds one refresh', async () => {
    const arm = await fetchJson(`${backend.apiUrl}/admin/token-delay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delayMs: 800, requests: 1 }),
    });
    assert.equal(arm.status, 204, arm.text);

    const started = Date.now();
    const pending = refresh(tokens.json.refresh_token);
    await sleep(300);
    assert.equal((await stats()).tokenDelay.waiting, 1);
    const delayed = await pending;
    assert.equal(delayed.status, 200, delayed.text);
    assert.ok(Date.now() - started >= 800, 'the refresh returned before the delay');
    tokens.json = delayed.json;

    const undelayedStart = Date.now();
    const undelayed = await refresh(tokens.json.refresh_token);
    assert.equal(undelayed.status, 200, undelayed.text);
    assert.ok(Date.now() - undelayedStart < 800, 'a refresh after the armed one was delayed');
    tokens.json = undelayed.json;
    const { tokenDelay } = await stats();
    assert.equal(tokenDelay.delayed, 1);
    assert.equal(tokenDelay.waiting, 0);
    assert.equal(tokenDelay.armedRequests, 0);
  });

  test('token delay rejects bad values', async () => {
    const response = await fetchJson(`${backend.apiUrl}/admin/token-delay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delayMs: -1, requests: 1 }),
    });
    assert.equal(response.status, 400);
    assert.equal(response.json.error, 'invalid_request');
  });

  test('API staleness is measured', async () => {
    const old = tokens.json;
    assert.equal((await callApi(old.access_token)).status, 200);
    const before = await grantOf('carol');
    assert.equal(before.supersededRequests, 0);

    const refreshed = await refresh(old.refresh_token);
    assert.equal(refreshed.status, 200, refreshed.text);
    tokens.json = refreshed.json;
    await sleep(500);
    assert.equal((await callApi(old.access_token)).status, 200);
    assert.equal((await callApi(refreshed.json.access_token)).status, 200);

    const after = await grantOf('carol');
    assert.equal(after.apiRequests, before.apiRequests + 2);
    assert.equal(after.supersededRequests, 1);
    assert.ok(after.maxStalenessMs >= 500, `maxStalenessMs ${after.maxStalenessMs}`);
    assert.ok(after.maxStalenessMs < 3000, `maxStalenessMs ${after.maxStalenessMs}`);
    assert.equal(after.stalest[0].tokenIndex, after.accessTokens.length - 2);
    assert.equal(after.stalest[0].supersededAtMs, after.accessTokens.at(-1).issuedAtMs);
  });

  test('admin revokes a whole grant', async () => {
    const { access_token: accessToken, refresh_token: refreshToken } = tokens.json;
    assert.equal((await revoke('grant', accessToken)).status, 204);
    assert.equal((await callApi(accessToken)).status, 401);
    const refreshed = await refresh(refreshToken);
    assert.equal(refreshed.status, 400, refreshed.text);
    assert.equal(refreshed.json.error, 'invalid_grant');
    assert.equal((await stats()).revocations.grants, 1);
  });

  test('admin rejects a body without token', async () => {
    const { status, json } = await revoke('grant', '');
    assert.equal(status, 400);
    assert.equal(json.error, 'invalid_request');
  });

  test('login reports error page', async () => {
    const login = await runLogin({
      link: authorizationUrl({ client_id: 'no-such-client' }),
      user: 'alice',
      expectPrefix: `${backend.apiUrl}/landed`,
    });
    assert.equal(login.code, 1);
    assert.match(login.output, /invalid_client|client is invalid/);
  });
});
