// The backend for credgate's tests: an OAuth 2.0 authorization server (oidc-provider) with one
// confidential client for credgate, and an API that accepts only that server's access tokens.
//
//   node testenv/backend.mjs --redirect-uri URL [--client-id credgate] [--client-secret SECRET]
//                            [--oauth-port 4200] [--api-port 4300] [--access-token-ttl 30]
//                            [--client-auth-method any|client_secret_basic|client_secret_post]
//
// Authorization server (issuer http://127.0.0.1:<oauth-port>): authorization code grant with
// PKCE S256 required (RFC 7636), a refresh token on every code exchange whatever the scope,
// refresh token rotation (each refresh token works once; presenting a used one is rejected with
// invalid_grant and revokes the whole grant, RFC 9700 §4.14.2), and opaque access tokens that
// expire after --access-token-ttl seconds. Sign-in is oidc-provider's development login form
// (any login name and any password; the login name becomes the account id) and consent page.
//
// API (http://127.0.0.1:<api-port>): see backend_api.mjs. Test servers only: the API also
// returns every token issued so far and revokes tokens on request. Prints one JSON line
// {"ready":true,"issuer":...,"apiUrl":...} on stdout once both servers listen.

import { createServer } from 'node:http';

import Provider from 'oidc-provider';

import { createApiServer } from './backend_api.mjs';
import {
  closeOnSignals,
  cookieKey,
  generateSigningKeys,
  listenOnLoopback,
  parseCommandLine,
  parsePort,
  parseSeconds,
  printReady,
  recordSecrets,
} from './common.mjs';

const kUsage =
  'usage: node testenv/backend.mjs --redirect-uri URL [--client-id ID] [--client-secret SECRET] ' +
  '[--oauth-port 4200] [--api-port 4300] [--access-token-ttl SECONDS] ' +
  '[--client-auth-method any|client_secret_basic|client_secret_post]';
const kClientAuthMethods = ['any', 'client_secret_basic', 'client_secret_post'];
const kReusedRefreshToken = 'refresh token already used';

const args = parseCommandLine(
  {
    'oauth-port': { type: 'string', default: '4200' },
    'api-port': { type: 'string', default: '4300' },
    'client-id': { type: 'string', default: 'credgate' },
    'client-secret': { type: 'string', default: 'credgate-backend-secret-4e8a1c7d9b3f2a6e' },
    'redirect-uri': { type: 'string', multiple: true },
    'access-token-ttl': { type: 'string', default: '30' },
    'client-auth-method': { type: 'string', default: 'any' },
  },
  kUsage,
);
const oauthPort = parsePort('oauth-port', args['oauth-port']);
const apiPort = parsePort('api-port', args['api-port']);
const accessTokenTtl = parseSeconds('access-token-ttl', args['access-token-ttl']);
const redirectUris = args['redirect-uri'] ?? [];
if (redirectUris.length === 0) {
  process.stderr.write(`missing --redirect-uri: pass credgate's callback URL\n${kUsage}\n`);
  process.exit(2);
}
if (!kClientAuthMethods.includes(args['client-auth-method'])) {
  process.stderr.write(
    `invalid --client-auth-method "${args['client-auth-method']}": ` +
      `expected one of ${kClientAuthMethods.join(', ')}\n`,
  );
  process.exit(2);
}

const issuer = `http://127.0.0.1:${oauthPort}`;

// Counters that tests read from GET /stats on the API port.
const stats = {
  tokenRequests: {},
  tokenErrors: {},
  clientAuthMethods: {},
  refreshTokenReuseRejected: 0,
  apiRequests: { authorized: 0, unauthorized: 0 },
  revocations: { accessTokens: 0, grants: 0 },
};

// Every token the token endpoint issued, for tests that check credgate stores none in plaintext.
// GET /issued-tokens on the API port returns them.
const issued = { accessTokens: [], refreshTokens: [] };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: redirectUris,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method:
        args['client-auth-method'] === 'client_secret_post'
          ? 'client_secret_post'
          : 'client_secret_basic',
    },
  ],
  jwks: { keys: generateSigningKeys() },
  cookies: { keys: [cookieKey()] },
  scopes: ['openid', 'offline_access', 'profile'],
  claims: { openid: ['sub'], profile: ['name'] },
  pkce: { methods: ['S256'], required: () => true },
  // Every code exchange gets a refresh token, with or without the offline_access scope.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: () => true,
  // Tokens outlive the browser session that signed in.
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 24 * 3600,
    Grant: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
  },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, name: sub }),
  }),
  // A plain error page without external stylesheets, so the browser stays on loopback.
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    const lines = Object.entries(out).map(
      ([key, value]) => `<p><b>${escapeHtml(key)}</b>: ${escapeHtml(String(value))}</p>`,
    );
    ctx.body = `<!DOCTYPE html><title>Sign-in failed</title><h1>Sign-in failed</h1>${lines.join('')}`;
  },
});

recordSecrets('backend client secret', [args['client-secret']]);
provider.use(countTokenRequests);
provider.on('grant.error', (ctx, error) => {
  if (error.error_detail === kReusedRefreshToken) stats.refreshTokenReuseRejected += 1;
});
provider.on('server_error', (ctx, error) => {
  process.stderr.write(`backend: server error on ${ctx.method} ${ctx.path}: ${error.stack}\n`);
});

const oauthServer = createServer(provider.callback());
const apiServer = createApiServer({ provider, stats, issued });
await listenOnLoopback(oauthServer, oauthPort);
await listenOnLoopback(apiServer, apiPort);
closeOnSignals([oauthServer, apiServer]);
printReady({
  issuer,
  authorizationUrl: `${issuer}/auth`,
  tokenUrl: `${issuer}/token`,
  apiUrl: `http://127.0.0.1:${apiPort}`,
  clientId: args['client-id'],
  redirectUris,
  accessTokenTtl,
});

// Koa middleware on the token endpoint that counts requests by grant type and client
// authentication method. With --client-auth-method any it also moves client_secret_post
// credentials into an HTTP Basic header, because RFC 6749 §2.3.1 lets a client use either but
// oidc-provider accepts only the method the client registered. oidc-provider then parses the
// body from ctx.req.body, since this middleware has consumed the stream.
async function countTokenRequests(ctx, next) {
  if (ctx.method !== 'POST' || ctx.path !== '/token') {
    await next();
    return;
  }

  const raw = await readBody(ctx.req);
  const params = new URLSearchParams(raw);
  const grantType = params.get('grant_type') ?? '(missing)';
  increment(stats.tokenRequests, grantType);

  const basic = /^basic /i.test(ctx.get('authorization'));
  const method = basic ? 'client_secret_basic' : params.has('client_secret') ? 'client_secret_post' : 'none';
  increment(stats.clientAuthMethods, method);
  if (method === 'client_secret_post' && args['client-auth-method'] === 'any') {
    const id = encodeURIComponent(params.get('client_id') ?? '');
    const secret = encodeURIComponent(params.get('client_secret'));
    ctx.req.headers.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
    params.delete('client_id');
    params.delete('client_secret');
  }
  ctx.req.body = params.toString();

  await next();
  if (ctx.status >= 400) {
    increment(stats.tokenErrors, grantType);
  } else if (ctx.body?.access_token) {
    issued.accessTokens.push(ctx.body.access_token);
    if (ctx.body.refresh_token) issued.refreshTokens.push(ctx.body.refresh_token);
    recordSecrets('backend access token', [ctx.body.access_token]);
    recordSecrets('backend refresh token', [ctx.body.refresh_token]);
  }
}

async function readBody(stream) {
  const chunks = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('token request body larger than 64 KiB');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function increment(counters, key) {
  counters[key] = (counters[key] ?? 0) + 1;
}

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
