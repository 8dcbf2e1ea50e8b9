// Times access-policy writes through the management API. It starts credgate on 127.0.0.1 with a
// new SQLite data directory and creates one provider and one connection. It then sends COUNT
// access-policy PUTs one after the other, each after the previous response, and DELETEs the
// first tenth of them. It prints the wall time of each block of a tenth of the PUTs, so a
// cost that grows with the number of policies shows as growing blocks, and the CPU time that
// the credgate process spent in each phase, which other load on the machine changes less.
// Linux (reads /proc), Node 20, no packages.
//
//   node bench/policy_put_bench.mjs --credgate build/src/app/credgate [--count 10000]
//
// The provider's URLs point at port 9 of 127.0.0.1 and are never called, because no user signs
// in. The data directory is removed at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const kMaxCount = 100_000;
const kAdminKey = 'policy-put-bench-admin-key-0123456789';

const { values } = parseArgs({
  options: { credgate: { type: 'string' }, count: { type: 'string', default: '10000' } },
});
if (!values.credgate) fail('missing --credgate PATH (for example build/src/app/credgate)');
const count = Number(values.count);
if (!Number.isInteger(count) || count < 10 || count > kMaxCount || count % 10 !== 0) {
  fail(`invalid --count ${values.count}: expected a multiple of 10 from 10 to ${kMaxCount}`);
}

function fail(message) {
  console.error(`policy_put_bench: ${message}`);
  process.exit(2);
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const dataDir = mkdtempSync(join(tmpdir(), 'credgate-policy-put-'));
const gatewayPort = await freePort();
const managementPort = await freePort();
const base = `http://127.0.0.1:${managementPort}`;
const credgate = spawn(
  values.credgate,
  ['serve', '--gateway-listen', `127.0.0.1:${gatewayPort}`,
    '--management-listen', `127.0.0.1:${managementPort}`, '--data-dir', dataDir,
    '--log-level', 'warn'],
  { env: { ...process.env, CREDGATE_ADMIN_KEY: kAdminKey }, stdio: ['ignore', 'inherit', 'inherit'] },
);
const stop = () => {
  credgate.kill('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
};

// Returns the user and system CPU seconds of the credgate process, from /proc/PID/stat (fields
// 14 and 15, in clock ticks of 1/100 s on Linux).
function credgateCpuSeconds() {
  const stat = readFileSync(`/proc/${credgate.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function call(method, path, body) {
  const response = await fetch(`${base}${path}?api-version=2022-08-01`, {
    method,
    headers: { authorization: `Bearer ${kAdminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} returned HTTP ${response.status}: ${text}`);
  return text;
}

try {
  let ready = false;
  for (let attempt = 0; attempt < 200 && !ready; ++attempt) {
    ready = await fetch(`${base}/healthz`).then(() => true, () => false);
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!ready) throw new Error(`credgate did not respond at ${base}/healthz within 20 s`);

  await call('PUT', '/authorizationProviders/bench', {
    properties: {
      displayName: 'Bench', identityProvider: 'oauth2pkce',
      oauth2: {
        grantTypes: {
          authorizationCode: {
            clientId: 'bench', clientSecret: 'bench-secret', scopes: 'openid',
            authorizationUrl: 'http://127.0.0.1:9/auth', tokenUrl: 'http://127.0.0.1:9/token',
          },
        },
      },
    },
  });
  const connection = '/authorizationProviders/bench/authorizations/alice';
  await call('PUT', connection, {
    properties: { authorizationType: 'OAuth2', oauth2grantType: 'AuthorizationCode' },
  });

  const block = count / 10;
  const blocks = [];
  const putCpuStarted = credgateCpuSeconds();
  const started = performance.now();
  let blockStarted = started;
  for (let i = 0; i < count; ++i) {
    const objectId = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    await call('PUT', `${connection}/accessPolicies/policy-${i}`, {
      properties: { tenantId: 'tenant-1', objectId },
    });
    if ((i + 1) % block === 0) {
      const now = performance.now();
      blocks.push(((now - blockStarted) / 1000).toFixed(2));
      blockStarted = now;
    }
  }
  const putSeconds = (performance.now() - started) / 1000;
  const putCpu = credgateCpuSeconds() - putCpuStarted;

  const deleteCpuStarted = credgateCpuSeconds();
  const deleteStarted = performance.now();
  for (let i = 0; i < block; ++i) await call('DELETE', `${connection}/accessPolicies/policy-${i}`);
  const deleteSeconds = (performance.now() - deleteStarted) / 1000;
  const deleteCpu = credgateCpuSeconds() - deleteCpuStarted;

  const listed = JSON.parse(await call('GET', `${connection}/accessPolicies`)).value.length;
  if (listed !== count - block) throw new Error(`listed ${listed} policies, expected ${count - block}`);
  console.log(`PUT ${count} access policies: ${putSeconds.toFixed(2)} s ` +
    `(${((putSeconds * 1e6) / count).toFixed(0)} us each), credgate CPU ${putCpu.toFixed(2)} s`);
  console.log(`seconds per block of ${block} PUTs: ${blocks.join(' ')}`);
  console.log(`DELETE ${block} access policies: ${deleteSeconds.toFixed(2)} s ` +
    `(${((deleteSeconds * 1e6) / block).toFixed(0)} us each), credgate CPU ${deleteCpu.toFixed(2)} s`);
} catch (error) {
  console.error(`policy_put_bench: ${error.message}`);
  process.exitCode = 1;
} finally {
  stop();
}
