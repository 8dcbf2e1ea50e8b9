// The callers of bench/gateway_bench.sh: signing keys, caller JWTs, the JWKS that credgate
// trusts, and the subject map that HAProxy reads. Node 20, no packages.
//
//   node bench/callers.mjs mint --dir DIR --tokens N [--callers 10000] [--filler 10000]
//   node bench/callers.mjs grant --management-url URL --provider ID --authorization ID
//                                --dir DIR [--concurrency 8]
//
// mint writes into DIR, and reuses what is there when it was made with the same settings and at
// least N tokens, and its tokens stay valid for at least two more days. Signing 100,000 RS256
// tokens takes a minute or more on two cores.
//   rs256-private.pem, es256-private.pem   signing keys (RSA 2048, P-256)
//   rs256-public.pem, es256-public.pem     their public keys, for HAProxy's jwt_verify
//   jwks.json                              both public keys as a JWKS, served to credgate
//   RS256.tokens, ES256.tokens             N or more distinct JWTs per algorithm, one per line
//   subjects.map                           "<sub> <backend token>" lines for HAProxy's map()
//   callers.json                           the callers' object ids, for `grant`
//   settings.json                          what the files were made from
// Token i belongs to caller i mod --callers, so the first --callers lines of a token file hold
// one token per caller and the whole file holds distinct tokens spread over all callers. Every
// token has iss kIssuer, aud kAudience, tid kTenant, the caller's sub ("bench-caller-00042") and
// oid (a UUID derived from the caller's number), a unique jti, and exp 30 days after minting.
// subjects.map holds --filler subjects that no token uses, then every caller's subject.
//
// grant creates one access policy per caller (its tid and oid) on the given authorization,
// through credgate's management API, with the admin key in $CREDGATE_ADMIN_KEY.
import { createHash, generateKeyPairSync, createPrivateKey, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

export const kIssuer = 'https://issuer.bench.invalid/';
export const kAudience = 'api://credgate';
export const kTenant = 'tenant-1';
const kTokenLifetimeSeconds = 30 * 24 * 3600;
const kMinRemainingSeconds = 2 * 24 * 3600;
const kAlgorithms = ['RS256', 'ES256'];
const kUsage =
  'usage: node bench/callers.mjs mint --dir DIR --tokens N [--callers 10000] [--filler 10000]\n' +
  '       node bench/callers.mjs grant --management-url URL --provider ID --authorization ID ' +
  '--dir DIR [--concurrency 8]';

const fail = (message) => {
  process.stderr.write(`callers.mjs: ${message}\n`);
  process.exit(2);
};

export const subjectOf = (caller) => `bench-caller-${String(caller).padStart(5, '0')}`;

// A UUID-shaped object id that is the same for a caller number in every run.
export function objectIdOf(caller) {
  const hex = createHash('sha256').update(`bench-caller-oid-${caller}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const base64url = (value) => Buffer.from(value).toString('base64url');

// Signs tokens [first, first + count) of `alg` and returns them in order.
function signTokens({ alg, privatePem, kid, first, count, callers, issuedAt }) {
  const key = createPrivateKey(privatePem);
  const header = base64url(JSON.stringify({ alg, typ: 'at+jwt', kid }));
  const tokens = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const index = first + i;
    const caller = index % callers;
    const payload = base64url(
      JSON.stringify({
        iss: kIssuer,
        aud: kAudience,
        sub: subjectOf(caller),
        oid: objectIdOf(caller),
        tid: kTenant,
        azp: 'bench-client',
        scope: 'api.read',
        iat: issuedAt,
        exp: issuedAt + kTokenLifetimeSeconds,
        jti: `${alg}-${index}`,
      }),
    );
    const input = `${header}.${payload}`;
    const signature =
      alg === 'RS256'
        ? sign('sha256', Buffer.from(input), key)
        : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    tokens[i] = `${input}.${signature.toString('base64url')}`;
  }
  return tokens;
}

if (!isMainThread) {
  parentPort.postMessage(signTokens(workerData));
} else {
  await main();
}

async function main() {
  const command = process.argv[2];
  const { values } = parseArgs({
    args: process.argv.slice(3),
    options: {
      dir: { type: 'string' },
      tokens: { type: 'string' },
      callers: { type: 'string', default: '10000' },
      filler: { type: 'string', default: '10000' },
      'management-url': { type: 'string' },
      provider: { type: 'string' },
      authorization: { type: 'string' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  if (!values.dir) fail(`--dir is required\n${kUsage}`);
  if (command === 'mint') {
    const settings = {
      tokens: wholeNumber('tokens', values.tokens),
      callers: wholeNumber('callers', values.callers),
      filler: wholeNumber('filler', values.filler),
      issuer: kIssuer,
      audience: kAudience,
      tenant: kTenant,
    };
    await mint(values.dir, settings);
  } else if (command === 'grant') {
    for (const name of ['management-url', 'provider', 'authorization']) {
      if (!values[name]) fail(`--${name} is required\n${kUsage}`);
    }
    await grant(values, wholeNumber('concurrency', values.concurrency));
  } else {
    fail(kUsage);
  }
}

function wholeNumber(name, text) {
  if (!/^[0-9]+$/.test(text ?? '') || Number(text) < 1) {
    fail(`invalid --${name} "${text}": expected a whole number >= 1\n${kUsage}`);
  }
  return Number(text);
}

async function mint(dir, settings) {
  mkdirSync(dir, { recursive: true });
  const settingsPath = join(dir, 'settings.json');
  const now = Math.floor(Date.now() / 1000);
  if (existsSync(settingsPath)) {
    const previous = JSON.parse(readFileSync(settingsPath, 'utf8'));
    const { issuedAt, tokens, ...made } = previous;
    const { tokens: requested, ...expected } = settings;
    if (
      JSON.stringify(made) === JSON.stringify(expected) &&
      tokens >= requested &&
      issuedAt + kTokenLifetimeSeconds - now > kMinRemainingSeconds
    ) {
      process.stderr.write(`callers.mjs: reusing the keys and tokens in ${dir}\n`);
      return;
    }
  }
  const jwks = { keys: [] };
  const privatePems = {};
  for (const alg of kAlgorithms) {
    const { privateKey, publicKey } =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const lower = alg.toLowerCase();
    privatePems[alg] = privateKey.export({ type: 'pkcs8', format: 'pem' });
    writeFileSync(join(dir, `${lower}-private.pem`), privatePems[alg], { mode: 0o600 });
    writeFileSync(join(dir, `${lower}-public.pem`), publicKey.export({ type: 'spki', format: 'pem' }));
    jwks.keys.push({ ...publicKey.export({ format: 'jwk' }), kid: `bench-${lower}`, alg, use: 'sig' });
  }
  writeFileSync(join(dir, 'jwks.json'), `${JSON.stringify(jwks)}\n`);

  const workers = Math.max(1, Math.min(availableParallelism(), 8));
  for (const alg of kAlgorithms) {
    const started = Date.now();
    const share = Math.ceil(settings.tokens / workers);
    const parts = await Promise.all(
      Array.from({ length: workers }, (_, w) => {
        const first = w * share;
        const count = Math.max(0, Math.min(share, settings.tokens - first));
        return new Promise((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), {
            workerData: {
              alg,
              privatePem: privatePems[alg],
              kid: `bench-${alg.toLowerCase()}`,
              first,
              count,
              callers: settings.callers,
              issuedAt: now,
            },
          });
          worker.once('message', resolve);
          worker.once('error', reject);
        });
      }),
    );
    await writeLines(join(dir, `${alg}.tokens`), parts.flat());
    process.stderr.write(
      `callers.mjs: signed ${settings.tokens} ${alg} tokens in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }

  const backendToken = `bench-static-${createHash('sha256').update(String(now)).digest('hex').slice(0, 32)}`;
  const mapLines = [];
  for (let i = 0; i < settings.filler; i += 1) mapLines.push(`bench-filler-${String(i).padStart(5, '0')} ${backendToken}`);
  for (let caller = 0; caller < settings.callers; caller += 1) mapLines.push(`${subjectOf(caller)} ${backendToken}`);
  await writeLines(join(dir, 'subjects.map'), mapLines);
  const objectIds = Array.from({ length: settings.callers }, (_, caller) => objectIdOf(caller));
  writeFileSync(join(dir, 'callers.json'), `${JSON.stringify({ tenant: kTenant, objectIds })}\n`);
  writeFileSync(settingsPath, `${JSON.stringify({ ...settings, issuedAt: now })}\n`);
}

function writeLines(path, lines) {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(path);
    stream.on('error', reject);
    stream.on('finish', resolve);
    for (const line of lines) stream.write(`${line}\n`);
    stream.end();
  });
}

async function grant(values, concurrency) {
  const adminKey = process.env.CREDGATE_ADMIN_KEY;
  if (!adminKey) fail('CREDGATE_ADMIN_KEY is not set');
  const { tenant, objectIds } = JSON.parse(readFileSync(join(values.dir, 'callers.json'), 'utf8'));
  const base =
    `${values['management-url']}/authorizationProviders/${values.provider}` +
    `/authorizations/${values.authorization}/accessPolicies`;
  let next = 0;
  const started = Date.now();
  const putOne = async () => {
    while (next < objectIds.length) {
      const caller = next;
      next += 1;
      const response = await fetch(`${base}/bench-caller-${caller}?api-version=2022-08-01`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ properties: { tenantId: tenant, objectId: objectIds[caller] } }),
      });
      if (!response.ok) {
        fail(`PUT access policy bench-caller-${caller} returned HTTP ${response.status}: ${await response.text()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, putOne));
  process.stderr.write(
    `callers.mjs: created ${objectIds.length} access policies in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}
