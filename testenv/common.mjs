// Helpers shared by the test environment's servers: command-line parsing, signing keys, the
// ready line and shutdown on signals.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// Parses process.argv against `options` (node:util parseArgs format) and exits with status 2 and
// a usage message when an option is unknown or malformed.
export function parseCommandLine(options, usage) {
  try {
    const { values } = parseArgs({ options, strict: true, allowPositionals: false });
    return values;
  } catch (error) {
    process.stderr.write(`${error.message}\n${usage}\n`);
    process.exit(2);
  }
}

// Parses a TCP port option and exits with status 2 when it is not an integer in 1..65535.
export function parsePort(name, text) {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`invalid --${name} "${text}": expected an integer port in 1..65535\n`);
    process.exit(2);
  }
  return port;
}

// Parses a positive number of seconds and exits with status 2 otherwise.
export function parseSeconds(name, text) {
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 1) {
    process.stderr.write(`invalid --${name} "${text}": expected a whole number of seconds >= 1\n`);
    process.exit(2);
  }
  return seconds;
}

// Parses a whole number of milliseconds in 0..600000 and exits with status 2 otherwise.
export function parseMilliseconds(name, text) {
  const milliseconds = Number(text);
  if (!Number.isInteger(milliseconds) || milliseconds < 0 || milliseconds > 600000) {
    process.stderr.write(`invalid --${name} "${text}": expected whole milliseconds in 0..600000\n`);
    process.exit(2);
  }
  return milliseconds;
}

// Generates fresh signing keys as private JWKs: an RSA 2048 key for RS256 and a P-256 key for
// ES256. Keys live only in this process, so every start publishes a new JWKS.
export function generateSigningKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return [
    { ...rsa.privateKey.export({ format: 'jwk' }), kid: `rs-${kidSuffix()}`, alg: 'RS256', use: 'sig' },
    { ...ec.privateKey.export({ format: 'jwk' }), kid: `es-${kidSuffix()}`, alg: 'ES256', use: 'sig' },
  ];
}

function kidSuffix() {
  return randomBytes(6).toString('hex');
}

// Returns a random key for oidc-provider's signed cookies.
export function cookieKey() {
  return randomBytes(32).toString('base64url');
}

// Writes the one-line JSON readiness message that the tests and scripts/demo.sh wait for.
export function printReady(fields) {
  process.stdout.write(`${JSON.stringify({ ready: true, ...fields })}\n`);
}

// Closes the servers and exits on SIGINT or SIGTERM. Exits after 2 s even when a connection
// keeps a server open.
export function closeOnSignals(servers) {
  const close = () => {
    for (const server of servers) {
      server.close();
      server.closeAllConnections?.();
    }
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
}

// Listens on 127.0.0.1:port and resolves once the socket is bound.
export function listenOnLoopback(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

// Appends secret values (client secrets, issued tokens) of `kind` to
// $CREDGATE_TEST_SECRETS_DIR/<pid>.jsonl when the variable is set, so that the credgate tests can
// check that no output file of their run contains them. Does nothing otherwise.
export function recordSecrets(kind, values) {
  const dir = process.env.CREDGATE_TEST_SECRETS_DIR;
  if (!dir) return;
  const lines = values
    .filter((value) => typeof value === 'string' && value !== '')
    .map((value) => `${JSON.stringify({ kind, value })}\n`);
  if (lines.length > 0) appendFileSync(join(dir, `${process.pid}.jsonl`), lines.join(''));
}
