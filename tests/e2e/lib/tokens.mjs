// OAuth and JWT helpers for the end-to-end tests, built on node:crypto and fetch.

import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { kRepoRoot } from './processes.mjs';

// The callers registered at testenv/idp.mjs, by client id.
export const kCallers = Object.fromEntries(
  JSON.parse(readFileSync(join(kRepoRoot, 'testenv', 'callers.json'), 'utf8')).callers.map(
    (caller) => [caller.clientId, caller],
  ),
);

// Gets a caller's JWT access token from the identity provider with the client_credentials
// grant (RFC 6749 §4.4). Throws with the provider's error when the request fails.
export async function callerToken(issuer, clientId, { resource } = {}) {
  const caller = kCallers[clientId];
  const body = new URLSearchParams({ grant_type: 'client_credentials' });
  if (resource) body.set('resource', resource);
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basicAuth(clientId, caller.clientSecret) },
    body,
  });
  const json = await response.json();
  if (response.status !== 200) {
    throw new Error(`token request for ${clientId} failed: ${response.status} ${JSON.stringify(json)}`);
  }
  return json.access_token;
}

// Returns the Basic credentials of RFC 6749 §2.3.1 (form-encoded id and secret).
export function basicAuth(id, secret) {
  const encode = (text) => encodeURIComponent(text).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

// Splits a JWS compact serialization into its decoded header and payload.
export function decodeJwt(token) {
  const [header, payload] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')),
  };
}

// Returns true when `token` verifies with the JWKS key named by its `kid` header.
export function verifyWithJwks(token, jwks) {
  const { header } = decodeJwt(token);
  const jwk = jwks.keys.find((key) => key.kid === header.kid);
  if (jwk === undefined) return false;
  const [encodedHeader, encodedPayload, signature] = token.split('.');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(`${encodedHeader}.${encodedPayload}`);
  // JWS ES256 signatures are the raw r||s form (RFC 7518 §3.4).
  const options = header.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key;
  return verify('sha256', data, options, Buffer.from(signature, 'base64url'));
}

// Signs `payload` as an RS256 JWT with a freshly generated key that no JWKS contains.
export function signWithForeignKey(payload) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const header = { alg: 'RS256', typ: 'at+jwt', kid: `foreign-${randomBytes(4).toString('hex')}` };
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url');
  return `${signingInput}.${signature}`;
}

// Returns a PKCE verifier and its S256 challenge (RFC 7636 §4.1, §4.2).
export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  return { verifier, challenge };
}

// Fetches JSON and returns {status, json}; `json` is undefined when the body is not JSON.
export async function fetchJson(url, init) {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers };
}

// Waits `ms` milliseconds.
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
