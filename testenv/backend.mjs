// The backend for credgate's tests: an OAuth 2.0 authorization server (oidc-provider) with one
// confidential client for credgate, and an API that accepts only that server's access tokens.
//
//   node testenv/backend.mjs --redirect-uri URL [--client-id credgate] [--client-secret SECRET]
//                            [--oauth-port 4200] [--api-port 4300] [--access-token-ttl 30]
//                            [--client-auth-method any|client_secret_basic|client_secret_post]
//                            [--token-delay-ms 0]
//
// Authorization server (issuer http://127.0.0.1:<oauth-port>): authorization code grant with
// PKCE S256 required (RFC 7636), a refresh token on every code exchange whatever the scope,
// refresh token rotation, and opaque access tokens that expire after --access-token-ttl seconds.
// Every successful refresh returns a new refresh token and consumes the presented one. A
// consumed refresh token presented again is rejected with invalid_grant, and oidc-provider
// 8.8.1 then revokes the whole grant (RFC 9700 §4.14.2), so later refreshes of that grant get
// invalid_grant too. --token-delay-ms delays every refresh_token request by that many milliseconds before it is
// processed (see token_delay.mjs). Sign-in is oidc-provider's development login form
// (any login name and any password; the login name becomes the account id) and consent page.
//
// API (http://127.0.0.1:<api-port>): see backend_api.mjs. Test servers only: the API also
// returns every token issued so far and revokes tokens on request. Prints one JSON line
// {"ready":true,"issuer":...,"apiUrl":...} on stdout once both servers listen.

import { createServer } from 'node:http';

import Provider from 'oidc-provider';

import { createApiServer } from './backend_api.mjs';
import { GrantStats } from './grant_stats.mjs';
import { TokenDelay } from './token_delay.mjs';
import {
  closeOnSignals,
  cookieKey,
  generateSigningKeys,
  listenOnLoopback,
  parseCommandLine,
  parseMilliseconds,
  parsePort,
  parseSeconds,
  printReady,
  recordSecrets,
} from './common.mjs';

const kUsage =
  'usage: node testenv/backend.mjs --redirect-uri URL [--client-id ID] [--client-secret SECRET] ' +
  '[--oauth-port 4200] [--api-port 4300] [--access-token-ttl SECONDS] ' +
  '[--client-auth-method any|client_secret_basic|client_secret_post] [--token-delay-ms MS]';
const kClientAuthMethods = ['any', 'client_secret_basic', 'client_secret_post'];

const args = parseCommandLine(
  {
    'oauth-port': { type: 'string', default: '4200' },
    'api-port': { type: 'string', default: '4300' },
    'client-id': { type: 'string', default: 'credgate' },
    'client-secret': { type: 'string', default: 'credgate-backend-secret-4e8a1c7d9b3f2a6e' },
    'redirect-uri': { type: 'string', multiple: true },
    'access-token-ttl': { type: 'string', default: '30' },
    'client-auth-method': { type: 'string', default: 'any' },
    'token-delay-ms': { type: 'string', default: '0' },
  },
  kUsage,
);
const oauthPort = parsePort('oauth-port', args['oauth-port']);
const apiPort = parsePort('api-port', args['api-port']);
const accessTokenTtl = parseSeconds('access-token-ttl', args['access-token-ttl']);
const tokenDelayMs = parseMilliseconds('token-delay-ms', args['token-delay-ms']);
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

const tokenDelay = new TokenDelay(tokenDelayMs);

// Counters that tests read from GET /stats on the API port. refreshTokenReuseRejected counts
// refreshes rejected because their refresh token had been rotated away, over all grants.
const stats = {
  tokenRequests: {},
  tokenErrors: {},
  clientAuthMethods: {},
  refreshTokenReuseRejected: 0,
  apiRequests: { authorized: 0, unauthorized: 0 },
  revocations: { accessTokens: 0, grants: 0 },
  tokenDelay: tokenDelay.state,
  grants: {},
};
const grantStats = new GrantStats(stats.grants);

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
provider.on('server_error', (ctx, error) => {
  process.stderr.write(`backend: server error on ${ctx.method} ${ctx.path}: ${error.stack}\n`);
});

const oauthServer = createServer(provider.callback());
const apiServer = createApiServer({ provider, stats, issued, grantStats, tokenDelay });
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
  tokenDelayMs,
});

// Koa middleware on the token endpoint that counts requests by grant type and client
// authentication method, records each grant's refreshes and access tokens (grant_stats.mjs) and
// delays refreshes as token_delay.mjs says. With --client-auth-method any it also moves client_secret_post
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

  const presentedRefreshToken = params.get('refresh_token') ?? undefined;
  if (grantType === 'refresh_token') await tokenDelay.hold();
  await next();
  if (ctx.status >= 400) {
    increment(stats.tokenErrors, grantType);
    if (grantType === 'refresh_token' && grantStats.recordRefreshRejected(presentedRefreshToken)) {
      stats.refreshTokenReuseRejected += 1;
    }
  } else if (ctx.body?.access_token) {
    issued.accessTokens.push(ctx.body.access_token);
    if (ctx.body.refresh_token) issued.refreshTokens.push(ctx.body.refresh_token);
    await recordIssued(ctx.body, grantType, presentedRefreshToken);
    recordSecrets('backend access token', [ctx.body.access_token]);
    recordSecrets('backend refresh token', [ctx.body.refresh_token]);
  }
}

// Records a token response in grantStats, with the grant that oidc-provider stored for its
// access token. Client credentials tokens have no grant and are not recorded.
async function recordIssued(body, grantType, presentedRefreshToken) {
  const nowMs = Date.now();
  const token = await provider.AccessToken.find(body.access_token);
  if (token?.grantId === undefined) return;
  grantStats.recordIssued({
    grantId: token.grantId,
    accountId: token.accountId,
    grantType,
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    presentedRefreshToken,
    nowMs,
  });
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
