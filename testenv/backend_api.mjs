// The backend API served next to the backend's authorization server (see backend.mjs).
//
//   GET /landed   a plain "signed in" page, used as credgate's post-login redirect.
//   GET /stats    JSON counters: token endpoint requests and errors by grant type, client
//                 authentication methods, refresh token reuse rejections, API requests, the
//                 refresh delay (`tokenDelay`, see token_delay.mjs) and, under `grants`, each
//                 grant's refreshes, access token issue times and API staleness (see
//                 grant_stats.mjs).
//   GET /issued-tokens  {"accessTokens":[...],"refreshTokens":[...]}: every token issued so
//                 far, so that tests can search credgate's database for them.
//   POST /admin/revoke-access-token  {"token": access token}: revokes that access token only,
//                 as a provider does when a user signs out of one session; 204, or 404 when the
//                 token is unknown.
//   POST /admin/revoke-grant  {"token": access token}: revokes every token of that token's
//                 grant, refresh tokens included, as when a user withdraws consent; 204 or 404.
//   POST /admin/token-delay  {"delayMs": 0..600000, "requests": 1..1000}: delays each of the
//                 next `requests` refresh_token requests by delayMs before it is processed;
//                 204, or 400 for other values.
//   anything else requires `Authorization: Bearer <access token>` issued by the authorization
//                 server and not expired, and returns JSON
//                 {"user", "client_id", "scope", "method", "path", "query", "headers", "body"};
//                 otherwise 401 with a JSON error and WWW-Authenticate (RFC 6750 §3).

import { createServer } from 'node:http';

const kMaxBodyBytes = 64 * 1024;

// Creates the API server (not yet listening). `provider` is the oidc-provider instance whose
// access tokens are accepted. `stats` is the counter object that GET /stats returns and that
// this server updates, and `issued` is the object that GET /issued-tokens returns. Authorized
// requests are recorded in `grantStats` (a GrantStats), and POST /admin/token-delay arms
// `tokenDelay` (a TokenDelay).
export function createApiServer({ provider, stats, issued, grantStats, tokenDelay }) {
  const context = { provider, stats, issued, grantStats, tokenDelay };
  return createServer((req, res) => {
    handle(req, res, context).catch((error) => {
      process.stderr.write(`backend api: ${req.method} ${req.url} failed: ${error.stack}\n`);
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error', error_description: error.message });
      else res.destroy();
    });
  });
}

async function handle(req, res, { provider, stats, issued, grantStats, tokenDelay }) {
  const url = new URL(req.url, 'http://127.0.0.1');

  if (req.method === 'GET' && url.pathname === '/landed') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!DOCTYPE html><title>Signed in</title><h1>signed in</h1>');
    return;
  }
  if (req.method === 'GET' && url.pathname === '/stats') {
    sendJson(res, 200, stats);
    return;
  }
  if (req.method === 'GET' && url.pathname === '/issued-tokens') {
    sendJson(res, 200, issued);
    return;
  }
  if (req.method === 'POST' && url.pathname === '/admin/token-delay') {
    await handleTokenDelay(req, res, tokenDelay);
    return;
  }
  if (req.method === 'POST' && url.pathname.startsWith('/admin/')) {
    await handleAdmin(req, res, url.pathname, provider, stats);
    return;
  }

  const body = await readBody(req);
  const receivedAtMs = Date.now();
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (match === null) {
    stats.apiRequests.unauthorized += 1;
    sendUnauthorized(res, 'invalid_request', 'missing "Authorization: Bearer <token>" header');
    return;
  }

  // find() returns undefined for unknown, malformed or expired tokens.
  const token = await provider.AccessToken.find(match[1]);
  if (token === undefined || token.isExpired) {
    stats.apiRequests.unauthorized += 1;
    sendUnauthorized(res, 'invalid_token', 'access token is unknown, revoked or expired');
    return;
  }

  stats.apiRequests.authorized += 1;
  grantStats.recordApiRequest(match[1], receivedAtMs);
  sendJson(res, 200, {
    user: token.accountId,
    client_id: token.clientId,
    scope: token.scope,
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: req.headers,
    body,
  });
}

// Revokes tokens for the /admin/ endpoints. The body names an access token, because the API's
// answers return the access token that called it.
async function handleAdmin(req, res, path, provider, stats) {
  let token;
  try {
    token = JSON.parse(await readBody(req)).token;
  } catch {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'the body must be a JSON object' });
    return;
  }
  if (typeof token !== 'string' || token === '') {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'missing "token": send {"token": "<access token>"}' });
    return;
  }
  const accessToken = await provider.AccessToken.find(token);
  if (accessToken === undefined) {
    sendJson(res, 404, { error: 'not_found', error_description: 'unknown access token' });
    return;
  }

  if (path === '/admin/revoke-access-token') {
    await accessToken.destroy();
    stats.revocations.accessTokens += 1;
  } else if (path === '/admin/revoke-grant') {
    const { grantId } = accessToken;
    await Promise.all([
      provider.AccessToken.revokeByGrantId(grantId),
      provider.RefreshToken.revokeByGrantId(grantId),
      provider.Grant.adapter.destroy(grantId),
    ]);
    stats.revocations.grants += 1;
  } else {
    sendJson(res, 404, { error: 'not_found', error_description: `no admin endpoint ${path}` });
    return;
  }
  res.writeHead(204).end();
}

async function handleTokenDelay(req, res, tokenDelay) {
  let request;
  try {
    request = JSON.parse(await readBody(req));
  } catch {
    sendJson(res, 400, { error: 'invalid_request', error_description: 'the body must be a JSON object' });
    return;
  }
  const { delayMs, requests } = request ?? {};
  if (!Number.isInteger(delayMs) || delayMs < 0 || delayMs > 600000) {
    sendJson(res, 400, { error: 'invalid_request', error_description: '"delayMs" must be an integer in 0..600000' });
    return;
  }
  if (!Number.isInteger(requests) || requests < 1 || requests > 1000) {
    sendJson(res, 400, { error: 'invalid_request', error_description: '"requests" must be an integer in 1..1000' });
    return;
  }
  tokenDelay.arm(delayMs, requests);
  res.writeHead(204).end();
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > kMaxBodyBytes) throw new Error(`request body larger than ${kMaxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function sendUnauthorized(res, error, description) {
  res.setHeader('www-authenticate', `Bearer error="${error}", error_description="${description}"`);
  sendJson(res, 401, { error, error_description: description });
}

function sendJson(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}
