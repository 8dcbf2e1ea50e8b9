// The organisation's identity provider for credgate's tests: an oidc-provider instance that
// issues callers' JWT access tokens (RFC 9068) with the client_credentials grant.
//
//   node testenv/idp.mjs [--port 4100] [--alg RS256|ES256] [--callers FILE]
//                        [--access-token-ttl SECONDS]
//
// Issuer: http://127.0.0.1:<port>. Discovery is at /.well-known/openid-configuration and the JWKS
// at /jwks. Callers come from testenv/callers.json unless --callers names another file. A token
// carries the caller's oid, tid and groups claims, azp = the caller's client_id, and aud = the
// requested resource (RFC 8707 `resource` parameter): api://credgate when none is given, or
// api://other. Prints {"ready":true,"issuer":...,"jwksUri":...} on stdout once listening.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

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
  'usage: node testenv/idp.mjs [--port 4100] [--alg RS256|ES256] [--callers FILE] ' +
  '[--access-token-ttl SECONDS]';
const kResources = ['api://credgate', 'api://other'];
const kResourceScope = 'api.read';

const args = parseCommandLine(
  {
    port: { type: 'string', default: '4100' },
    alg: { type: 'string', default: 'RS256' },
    callers: { type: 'string', default: fileURLToPath(new URL('callers.json', import.meta.url)) },
    'access-token-ttl': { type: 'string', default: '600' },
  },
  kUsage,
);
const port = parsePort('port', args.port);
const defaultTtlSeconds = parseSeconds('access-token-ttl', args['access-token-ttl']);
if (args.alg !== 'RS256' && args.alg !== 'ES256') {
  process.stderr.write(`invalid --alg "${args.alg}": expected RS256 or ES256\n${kUsage}\n`);
  process.exit(2);
}

const callers = loadCallers(args.callers);
const callersById = new Map(callers.map((caller) => [caller.clientId, caller]));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: callers.map((caller) => ({
    client_id: caller.clientId,
    client_secret: caller.clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: generateSigningKeys() },
  cookies: { keys: [cookieKey()] },
  scopes: ['openid', kResourceScope],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf ?? kResources[0],
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resourceIndicator, client) => {
        if (!kResources.includes(resourceIndicator)) {
          throw new errors.InvalidTarget(
            `unknown resource "${resourceIndicator}": use one of ${kResources.join(', ')}`,
          );
        }
        const caller = callersById.get(client.clientId);
        return {
          scope: kResourceScope,
          audience: resourceIndicator,
          accessTokenTTL: caller?.accessTokenTtlSeconds ?? defaultTtlSeconds,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: args.alg } },
        };
      },
    },
  },
  // Adds the caller's identity claims. `azp` is the authorized party (OpenID Connect Core §2),
  // here the caller application itself.
  extraTokenClaims: async (ctx, token) => {
    const caller = callersById.get(token.clientId);
    if (caller === undefined) return undefined;
    return { oid: caller.oid, tid: caller.tid, groups: caller.groups, azp: caller.clientId };
  },
  // No interactive sign-in happens here, so accounts exist only as token subjects.
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

recordSecrets('caller client secret', callers.map((caller) => caller.clientSecret));
// Records every caller JWT the token endpoint issues.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.method === 'POST' && ctx.path === '/token' && ctx.status === 200) {
    recordSecrets('caller JWT', [ctx.body?.access_token]);
  }
});
provider.on('server_error', (ctx, error) => {
  process.stderr.write(`idp: server error on ${ctx.method} ${ctx.path}: ${error.stack}\n`);
});

const server = createServer(provider.callback());
await listenOnLoopback(server, port);
closeOnSignals([server]);
printReady({ issuer, jwksUri: `${issuer}/jwks`, alg: args.alg, callers: [...callersById.keys()] });

// Reads and checks the caller registry, exiting with status 2 and the failing field on error.
function loadCallers(path) {
  const fail = (message) => {
    process.stderr.write(`invalid callers file ${path}: ${message}\n`);
    process.exit(2);
  };
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    fail(`${error.message}; expected JSON {"callers":[{"clientId":...}]}`);
  }
  if (!Array.isArray(parsed?.callers) || parsed.callers.length === 0) {
    fail('"callers" must be a non-empty array');
  }
  parsed.callers.forEach((caller, index) => {
    for (const field of ['clientId', 'clientSecret', 'oid', 'tid']) {
      if (typeof caller[field] !== 'string' || caller[field] === '') {
        fail(`callers[${index}].${field} must be a non-empty string`);
      }
    }
    if (!Array.isArray(caller.groups)) fail(`callers[${index}].groups must be an array`);
    const ttl = caller.accessTokenTtlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1)) {
      fail(`callers[${index}].accessTokenTtlSeconds must be a whole number >= 1`);
    }
  });
  return parsed.callers;
}
