// Checks the helpers of the cluster and chaos tests (lib/cluster.mjs, lib/whoami.mjs and the
// backend's per-grant counters) on what runs without PostgreSQL: a cluster of one credgate on
// SQLite. It signs alice in, runs the bounded request loops while the backend's access tokens
// expire every 4 s, and SIGKILLs and restarts the gateway.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/cluster_harness.test.mjs
//
// Skipped when the binary does not exist, unless CREDGATE_E2E_REQUIRED=1 makes that a failure.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { Browser } from './lib/browser.mjs';
import { Cluster } from './lib/cluster.mjs';
import { credgateBinaryExists, kCredgateBin } from './lib/credgate.mjs';
import { stopAll } from './lib/processes.mjs';
import { callerToken } from './lib/tokens.mjs';
import {
  callWhoami,
  configureWhoami,
  grantsOf,
  kAuthorizationPath,
  manageOk,
  runLoad,
  signInAlice,
  startTestServers,
} from './lib/whoami.mjs';

const kAccessTokenTtlSeconds = 4;
const kLoadMs = 12000;

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

describe('cluster harness', { skip, timeout: 180000 }, () => {
  let cluster;
  let idp;
  let backend;
  let browser;
  let callerJwt;

  before(async () => {
    cluster = await Cluster.create({ name: 'harness', size: 1 });
    ({ idp, backend } = await startTestServers('harness', {
      publicUrl: cluster.publicUrl,
      accessTokenTtlSeconds: kAccessTokenTtlSeconds,
    }));
    cluster.allowPostLoginRedirect(`${backend.apiUrl}/landed`);
    await cluster.start();
    browser = await Browser.launch();
  });

  after(async () => {
    await browser?.close();
    await cluster?.stop();
    await stopAll();
  });

  test('one gateway signs alice in', async () => {
    const gateway = cluster.gateways[0];
    await configureWhoami(gateway, { idp, backend });
    await signInAlice(gateway, browser, backend);
    const connection = await manageOk(gateway, 'GET', kAuthorizationPath);
    assert.equal(connection.properties.status, 'Connected');
    callerJwt = await callerToken(idp.issuer, 'caller-alice');
    const call = await callWhoami(gateway.gatewayUrl, callerJwt);
    assert.equal(call.status, 200, call.error);
    assert.equal(call.user, 'alice');
  });

  test('load loops refresh once per rotation', async () => {
    const results = await runLoad({
      targets: [cluster.gateways[0].gatewayUrl],
      callerJwt,
      durationMs: kLoadMs,
    });
    const failed = results.filter((result) => result.status !== 200);
    assert.ok(results.length > 50, `only ${results.length} calls in ${kLoadMs} ms`);
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${results.length} calls failed`);

    const [grant] = await grantsOf(backend, 'alice');
    assert.ok(grant.rotations >= 2, `${grant.rotations} rotations in ${kLoadMs} ms`);
    assert.equal(grant.refreshCalls, grant.rotations);
    assert.equal(grant.reuseRejections, 0);
    assert.equal(grant.refreshErrors, 0);
    assert.ok(grant.maxStalenessMs <= 1000, `stalest calls: ${JSON.stringify(grant.stalest)}`);
  });

  test('killed gateway restarts with its tokens', async () => {
    await cluster.kill(0);
    const unreachable = await callWhoami(cluster.gateways[0].gatewayUrl, callerJwt, 2000);
    assert.equal(unreachable.status, 0);

    await cluster.restart(0);
    const call = await callWhoami(cluster.gateways[0].gatewayUrl, callerJwt);
    assert.equal(call.status, 200, `${call.error}\n${cluster.output()}`);
    assert.equal(call.user, 'alice');
    const [grant] = await grantsOf(backend, 'alice');
    assert.equal(grant.reuseRejections, 0);
  });
});
