// The whoami scenario that the cluster, chaos and cluster harness tests share: the caller
// identity provider and the backend of testenv/, credgate configured through a management API
// so that GET <gateway>/backend/whoami sends alice's backend token to the backend, sign-ins in
// headless chromium, bounded request loops, and the backend's per-grant counters
// (testenv/grant_stats.mjs).

import { authorizationPolicy } from './credgate.mjs';
import { freePort, startNodeServer } from './processes.mjs';
import { fetchJson, kCallers, sleep } from './tokens.mjs';

export const kProvider = 'backend';
export const kAuthorization = 'alice';
export const kAuthorizationPath = `/authorizationProviders/${kProvider}/authorizations/${kAuthorization}`;
const kBackendClientId = 'credgate-cluster';
const kBackendClientSecret = 'cluster-backend-client-secret-3c7e1a9d5b2f8046';

// Starts the identity provider and the backend. `publicUrl` is the gateways' --public-url, whose
// callback the backend accepts; `accessTokenTtlSeconds` and `tokenDelayMs` go to backend.mjs.
// Resolves with {idp, backend}, their ready lines.
export async function startTestServers(name, { publicUrl, accessTokenTtlSeconds, tokenDelayMs = 0 }) {
  const [idpPort, oauthPort, apiPort] = await Promise.all(Array.from({ length: 3 }, freePort));
  const [, idp] = await startNodeServer(`${name}-idp`, 'idp.mjs', ['--port', String(idpPort)]);
  const [, backend] = await startNodeServer(`${name}-backend`, 'backend.mjs', [
    '--oauth-port', String(oauthPort),
    '--api-port', String(apiPort),
    '--client-id', kBackendClientId,
    '--client-secret', kBackendClientSecret,
    '--redirect-uri', `${publicUrl}/.credgate/callback`,
    '--access-token-ttl', String(accessTokenTtlSeconds),
    '--token-delay-ms', String(tokenDelayMs),
  ]);
  return { idp, backend };
}

// Calls `gateway`'s management API and throws unless the status is 2xx. Returns the JSON body.
export async function manageOk(gateway, method, path, body) {
  const response = await gateway.manage(method, path, body);
  if (response.status < 200 || response.status >= 300) {
    throw new Error(`${method} ${path} on ${gateway.name} returned ${response.status}: ${response.text}`);
  }
  return response.json;
}

// Configures, through `gateway`'s management API, the trusted issuer, the backend provider, the
// connection alice with an access policy for caller-alice, and the API `backend` with the
// operation GET /whoami and the policy that sends alice's token.
export async function configureWhoami(gateway, { idp, backend }) {
  await manageOk(gateway, 'PUT', '/trustedIssuers/idp', {
    properties: { issuer: idp.issuer, audiences: ['api://credgate'], clockSkewSeconds: 0 },
  });
  await manageOk(gateway, 'PUT', `/authorizationProviders/${kProvider}`, {
    properties: {
      displayName: 'Backend',
      identityProvider: 'oauth2pkce',
      oauth2: {
        grantTypes: {
          authorizationCode: {
            clientId: kBackendClientId,
            clientSecret: kBackendClientSecret,
            scopes: 'openid profile',
            authorizationUrl: backend.authorizationUrl,
            tokenUrl: backend.tokenUrl,
          },
        },
      },
    },
  });
  await manageOk(gateway, 'PUT', kAuthorizationPath, {
    properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
  });
  await manageOk(gateway, 'PUT', `${kAuthorizationPath}/accessPolicies/alice-caller`, {
    properties: { tenantId: 'tenant-1', objectId: kCallers['caller-alice'].oid },
  });
  await manageOk(gateway, 'PUT', '/apis/backend', {
    properties: { displayName: 'Backend', path: 'backend', serviceUrl: backend.apiUrl },
  });
  await manageOk(gateway, 'PUT', '/apis/backend/operations/whoami', {
    properties: { method: 'GET', urlTemplate: '/whoami' },
  });
  await manageOk(gateway, 'PUT', '/apis/backend/policies/policy', {
    properties: { format: 'rawxml', value: authorizationPolicy(kProvider, kAuthorization) },
  });
}

// Signs alice in to the connection through a login link that `gateway` creates, in a new
// context of `browser` (lib/browser.mjs). Throws with the page's text unless the browser lands
// on the backend's /landed page.
export async function signInAlice(gateway, browser, backend) {
  const landed = `${backend.apiUrl}/landed`;
  const { loginLink } = await manageOk(gateway, 'POST', `${kAuthorizationPath}/getLoginLinks`, {
    postLoginRedirectUrl: landed,
  });
  const context = await browser.newContext();
  try {
    const outcome = await context.signIn(loginLink, { user: 'alice' });
    if (!outcome.url.startsWith(landed)) {
      throw new Error(`sign-in ended at ${outcome.url} (HTTP ${outcome.status}): ${outcome.text.slice(0, 400)}`);
    }
  } finally {
    await context.close();
  }
}

// Sends GET /backend/whoami to `gatewayUrl` as `callerJwt`, giving up after `timeoutMs`.
// Resolves with {status, user, backendToken, error, startedMs, endedMs}; status is 0 when the
// request failed or timed out, and `error` then contains the reason.
export async function callWhoami(gatewayUrl, callerJwt, timeoutMs = 10000) {
  const startedMs = Date.now();
  try {
    const response = await fetchJson(`${gatewayUrl}/backend/whoami`, {
      headers: { authorization: `Bearer ${callerJwt}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      status: response.status,
      user: response.json?.user,
      backendToken: response.json?.headers?.authorization?.replace(/^Bearer /, ''),
      error: response.status === 200 ? undefined : response.text.slice(0, 300),
      startedMs,
      endedMs: Date.now(),
    };
  } catch (error) {
    return { status: 0, error: error.message, startedMs, endedMs: Date.now() };
  }
}

// Calls whoami in `loopsPerTarget` concurrent loops per gateway URL in `targets` until
// `durationMs` has passed, each loop pausing `pauseMs` between calls. Every loop also stops
// after `maxCallsPerLoop` calls. Resolves with every call's result and its target URL.
export async function runLoad({ targets, callerJwt, durationMs, loopsPerTarget = 2, pauseMs = 50, maxCallsPerLoop = 5000 }) {
  const deadline = Date.now() + durationMs;
  const results = [];
  const loop = async (target) => {
    for (let calls = 0; calls < maxCallsPerLoop && Date.now() < deadline; calls += 1) {
      results.push({ target, ...(await callWhoami(target, callerJwt)) });
      await sleep(pauseMs);
    }
  };
  const loops = targets.flatMap((target) => Array.from({ length: loopsPerTarget }, () => loop(target)));
  await Promise.all(loops);
  return results;
}

// Returns the backend's GET /stats.
export async function backendStats(backend) {
  return (await fetchJson(`${backend.apiUrl}/stats`)).json;
}

// Returns the per-grant counters of every grant of `user`, oldest first.
export async function grantsOf(backend, user) {
  const stats = await backendStats(backend);
  return Object.values(stats.grants).filter((grant) => grant.accountId === user);
}

// Polls `check` every `intervalMs` until it returns a truthy value, which it resolves with, or
// until `timeoutMs` has passed, when it resolves with undefined.
export async function pollUntil(check, timeoutMs, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}
