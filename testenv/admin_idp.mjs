// The administrators' OpenID provider for the portal's "Sign in with OpenID Connect" tests: an
// oidc-provider instance with one client for credgate's portal and interactive sign-in.
//
//   node testenv/admin_idp.mjs --redirect-uri URL [--port 4400] [--client-id credgate-portal]
//                              [--client-secret SECRET] [--role-claim roles]
//
// Issuer: http://127.0.0.1:<port>. The client uses the authorization code grant with PKCE S256
// required. Without --client-secret it is a public client (token_endpoint_auth_method none),
// with it a confidential one (client_secret_basic). Sign-in is oidc-provider's development
// login form: any login name and any password sign in, and the login name becomes `sub`.
// The ID token carries the role claim (--role-claim) for the accounts in kRoles, under the
// `profile` scope; any other login name gets no role claim. Prints
// {"ready":true,"issuer":...,"clientId":...} on stdout once listening.

import { createServer } from 'node:http';

import Provider from 'oidc-provider';

import {
  closeOnSignals,
  cookieKey,
  generateSigningKeys,
  listenOnLoopback,
  parseCommandLine,
  parsePort,
  printReady,
  recordSecrets,
} from './common.mjs';

const kUsage =
  'usage: node testenv/admin_idp.mjs --redirect-uri URL [--port 4400] [--client-id ID] ' +
  '[--client-secret SECRET] [--role-claim NAME]';

// The role claim of each known account. "nora" has an empty list, which names no role.
const kRoles = {
  alice: ['admin'],
  riley: ['reader'],
  nora: [],
};

const args = parseCommandLine(
  {
    port: { type: 'string', default: '4400' },
    'redirect-uri': { type: 'string' },
    'client-id': { type: 'string', default: 'credgate-portal' },
    'client-secret': { type: 'string' },
    'role-claim': { type: 'string', default: 'roles' },
  },
  kUsage,
);
const port = parsePort('port', args.port);
if (!args['redirect-uri']) {
  process.stderr.write(`missing --redirect-uri: pass the portal's callback URL\n${kUsage}\n`);
  process.exit(2);
}
const roleClaim = args['role-claim'];
const issuer = `http://127.0.0.1:${port}`;
const client = {
  client_id: args['client-id'],
  redirect_uris: [args['redirect-uri']],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: args['client-secret'] ? 'client_secret_basic' : 'none',
  ...(args['client-secret'] ? { client_secret: args['client-secret'] } : {}),
};

const provider = new Provider(issuer, {
  clients: [client],
  jwks: { keys: generateSigningKeys() },
  cookies: { keys: [cookieKey()] },
  scopes: ['openid', 'profile'],
  claims: { openid: ['sub'], profile: ['name', roleClaim] },
  // Puts the claims of the requested scopes in the ID token, so that the portal reads the role
  // from it. By default oidc-provider returns them only from the UserInfo endpoint when it also
  // issues an access token.
  conformIdTokenClaims: false,
  pkce: { methods: ['S256'], required: () => true },
  ttl: { AuthorizationCode: 60, IdToken: 3600, AccessToken: 600, Interaction: 600, Session: 3600 },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => {
      const claims = { sub, name: sub };
      if (Object.hasOwn(kRoles, sub)) claims[roleClaim] = kRoles[sub];
      return claims;
    },
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

if (args['client-secret']) recordSecrets('portal client secret', [args['client-secret']]);
// Records every ID token and access token the token endpoint issues, for leak checks.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200) {
    recordSecrets('portal ID token', [ctx.body?.id_token, ctx.body?.access_token]);
  }
});
provider.on('server_error', (ctx, error) => {
  process.stderr.write(`admin_idp: server error on ${ctx.method} ${ctx.path}: ${error.stack}\n`);
});

const server = createServer(provider.callback());
await listenOnLoopback(server, port);
closeOnSignals([server]);
printReady({ issuer, clientId: args['client-id'], redirectUri: args['redirect-uri'], roleClaim });

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
