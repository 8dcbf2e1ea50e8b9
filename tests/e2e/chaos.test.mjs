// Crash safety of the refresh lease: three credgate gateways on one PostgreSQL database, and in
// each round one of them is SIGKILLed in the middle of a refresh of alice's connection. The
// round's point is one of these:
//
//   before_token_request  the victim recorded its refresh attempt and stops before it calls the
//                         token endpoint (CREDGATE_FAULT_PAUSE=before_token_request).
//   during_token_request  the backend delays the victim's refresh request (POST
//                         /admin/token-delay) and the victim dies while waiting. The backend
//                         still processes the request, so the refresh token rotates and the new
//                         one is lost.
//   after_token_response  the victim received the rotated tokens and stops before it commits
//                         them (CREDGATE_FAULT_PAUSE=after_token_response).
//
// A gateway started with CREDGATE_FAULT_PAUSE=<point> logs a line containing "fault injection:
// paused at <point>" when a refresh reaches that point, and stalls that refresh forever, so the
// test kills it exactly there. Once the victim's lease has expired (--refresh-lease-ttl 3), one
// of the two other gateways takes the refresh over with the refresh token it has. The
// connection must then either keep working (a new access token and status Connected) or be in
// Error with code RefreshTokenRotationLost, never anything else. Before the token request the
// provider never saw the refresh token, so the connection must keep working. Once the request
// has reached the provider, the takeover presents a rotated-away refresh token, the provider
// returns invalid_grant, and the connection must be RefreshTokenRotationLost. A lost connection is
// signed in again before the next round.
//
//   CREDGATE_TEST_POSTGRES_URL=$(scripts/postgres.sh start) \
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/chaos.test.mjs
//
// Skipped without CREDGATE_TEST_POSTGRES_URL, and when the binary does not exist unless
// CREDGATE_E2E_REQUIRED=1. The outcome of every round and the count of each outcome go to
// .test-output/e2e/chaos-results.json.

import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Browser } from './lib/browser.mjs';
import { Cluster } from './lib/cluster.mjs';
import { credgateBinaryExists, kCredgateBin } from './lib/credgate.mjs';
import { createTestDatabase, dropTestDatabase, kTestPostgresUrl, skipWithoutPostgres } from './lib/postgres.mjs';
import { kOutputDir, stopAll } from './lib/processes.mjs';
import { callerToken, fetchJson, sleep } from './lib/tokens.mjs';
import {
  callWhoami,
  configureWhoami,
  grantsOf,
  kAuthorizationPath,
  manageOk,
  pollUntil,
  signInAlice,
  startTestServers,
} from './lib/whoami.mjs';

const kGateways = 3;
const kAccessTokenTtlSeconds = 4;
const kLeaseTtlSeconds = 3;
// Shorter than the lease, so that the victim's delayed request is processed before another
// gateway may take over. A provider slower than the lease TTL would see the takeover first, and
// its reuse detection would then revoke the tokens the takeover got.
const kTokenDelayMs = 1500;
const kRounds = 15;
// Rounds stop starting after this long, so that a slow machine still ends within the timeout.
const kRoundsBudgetMs = 200000;
// How long the victim may take to reach its pause point: a fresh token needs half its
// lifetime before a request refreshes it.
const kPauseTimeoutMs = (kAccessTokenTtlSeconds + 8) * 1000;
// How long the takeover may take after the kill: the rest of the lease, then one refresh.
const kTakeoverTimeoutMs = (kLeaseTtlSeconds + kAccessTokenTtlSeconds + 8) * 1000;

const kPoints = ['before_token_request', 'during_token_request', 'after_token_response'];
const kExpectedOutcome = {
  before_token_request: 'working',
  during_token_request: 'rotationLost',
  after_token_response: 'rotationLost',
};

const skip =
  (!credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false) || skipWithoutPostgres('the chaos test');

// Returns kRounds points: each point equally often, in a random order per block of three.
function roundPoints() {
  const points = [];
  while (points.length < kRounds) {
    const block = [...kPoints];
    for (let i = block.length - 1; i > 0; i -= 1) {
      const j = randomInt(i + 1);
      [block[i], block[j]] = [block[j], block[i]];
    }
    points.push(...block);
  }
  return points.slice(0, kRounds);
}

describe('chaos', { skip, timeout: 360000 }, () => {
  let database;
  let cluster;
  let idp;
  let backend;
  let browser;
  let aliceJwt;
  const rounds = [];

  before(async () => {
    database = await createTestDatabase(kTestPostgresUrl, 'credgate_chaos');
    cluster = await Cluster.create({
      name: 'chaos',
      size: kGateways,
      storeUrl: database.url,
      leaseTtlSeconds: kLeaseTtlSeconds,
    });
    ({ idp, backend } = await startTestServers('chaos', {
      publicUrl: cluster.publicUrl,
      accessTokenTtlSeconds: kAccessTokenTtlSeconds,
    }));
    cluster.allowPostLoginRedirect(`${backend.apiUrl}/landed`);
    await cluster.start();
    browser = await Browser.launch();
    aliceJwt = await callerToken(idp.issuer, 'caller-alice');
    await configureWhoami(cluster.gateways[0], { idp, backend });
  });

  after(async () => {
    writeFileSync(join(kOutputDir, 'chaos-results.json'), `${JSON.stringify(summarize(rounds), null, 2)}\n`);
    await browser?.close();
    await cluster?.stop();
    await stopAll();
    if (database) await dropTestDatabase(kTestPostgresUrl, database.name);
  });

  function summarize(all) {
    const count = (list) => Object.fromEntries(
      ['working', 'rotationLost', 'unexpected', 'noPause'].map((outcome) => [outcome, list.filter((round) => round.outcome === outcome).length]),
    );
    return {
      finishedAt: new Date().toISOString(),
      gateways: kGateways,
      accessTokenTtlSeconds: kAccessTokenTtlSeconds,
      leaseTtlSeconds: kLeaseTtlSeconds,
      tokenDelayMs: kTokenDelayMs,
      rounds: all.length,
      outcomes: count(all),
      byPoint: Object.fromEntries(kPoints.map((point) => [point, count(all.filter((round) => round.point === point))])),
      maxTakeoverMs: Math.max(0, ...all.map((round) => round.takeoverMs ?? 0)),
      detail: all,
    };
  }

  async function connectionProperties(gateway) {
    return (await manageOk(gateway, 'GET', kAuthorizationPath)).properties;
  }

  async function armTokenDelay(delayMs) {
    const response = await fetchJson(`${backend.apiUrl}/admin/token-delay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ delayMs, requests: 1 }),
    });
    assert.equal(response.status, 204, response.text);
  }

  async function tokenDelayState() {
    return (await fetchJson(`${backend.apiUrl}/stats`)).json.tokenDelay;
  }

  // Sends whoami to the victim every 200 ms until `paused` resolves with a truthy value or
  // kPauseTimeoutMs passes. Returns true when the pause happened.
  async function driveUntilPaused(victim, paused) {
    let reached = false;
    paused.then((value) => {
      reached = Boolean(value);
    }, () => {});
    const deadline = Date.now() + kPauseTimeoutMs;
    while (!reached && Date.now() < deadline) {
      // Not awaited: a call that triggered the stalled refresh never returns.
      callWhoami(victim.gatewayUrl, aliceJwt, 2000);
      await sleep(200);
    }
    return reached;
  }

  async function issuedAccessTokens() {
    return new Set((await fetchJson(`${backend.apiUrl}/issued-tokens`)).json.accessTokens);
  }

  // Calls whoami on both survivors every 250 ms until the connection is in Error or a survivor
  // served an access token that the backend had not issued at the kill (`issuedAtKill`). A
  // survivor serves only committed tokens, so such a token is the takeover's. The victim's own
  // new token, when it got one, is never committed and so never served. Returns how the wait
  // ended and the status of every call.
  async function driveTakeover(survivors, issuedAtKill) {
    const calls = [];
    const done = await pollUntil(async () => {
      const round = await Promise.all(survivors.map((gateway) => callWhoami(gateway.gatewayUrl, aliceJwt, 10000)));
      calls.push(...round.map((call) => call.status));
      if (round.some((call) => call.status === 200 && !issuedAtKill.has(call.backendToken))) return 'newToken';
      const properties = await connectionProperties(survivors[0]);
      return properties.status === 'Error' ? 'error' : undefined;
    }, kTakeoverTimeoutMs, 250);
    return { calls, done };
  }

  // Classifies the connection after the takeover, as seen through both survivors. The gateway
  // that did not take over learns the result through the change feed, so the survivors get
  // the propagation bound of 1 s, plus slack, to agree.
  async function classify(survivors) {
    let seen;
    const agree = await pollUntil(async () => {
      seen = await Promise.all(survivors.map(connectionProperties));
      return seen.every((properties) =>
        properties.status === seen[0].status && properties.error?.code === seen[0].error?.code);
    }, 2000);
    const [first] = seen;
    if (!agree) return { outcome: 'unexpected', seen };
    if (first.status === 'Error' && first.error?.code === 'RefreshTokenRotationLost') {
      return { outcome: 'rotationLost', seen };
    }
    if (first.status !== 'Connected') return { outcome: 'unexpected', seen };
    const calls = await Promise.all(survivors.map((gateway) => callWhoami(gateway.gatewayUrl, aliceJwt)));
    const working = calls.every((call) => call.status === 200 && call.user === 'alice');
    return { outcome: working ? 'working' : 'unexpected', seen, calls: calls.map((call) => call.status) };
  }

  async function runRound(number, point) {
    const victimIndex = randomInt(kGateways);
    const victim = cluster.gateways[victimIndex];
    const survivors = cluster.gateways.filter((gateway) => gateway !== victim);
    const [grantBefore] = (await grantsOf(backend, 'alice')).slice(-1);
    const round = { round: number, point, victim: victim.instanceId };

    let paused;
    if (point === 'during_token_request') {
      await armTokenDelay(kTokenDelayMs);
      paused = pollUntil(async () => (await tokenDelayState()).waiting > 0, kPauseTimeoutMs, 25);
    } else {
      await cluster.restart(victimIndex, { CREDGATE_FAULT_PAUSE: point });
      paused = victim.waitForLog((line) => line.includes(`fault injection: paused at ${point}`), kPauseTimeoutMs);
    }
    const reached = await driveUntilPaused(victim, paused);
    const pausedMs = Date.now();
    await cluster.kill(victimIndex);
    round.pauseToKillMs = Date.now() - pausedMs;
    const issuedAtKill = await issuedAccessTokens();
    if (point === 'during_token_request' && (await tokenDelayState()).armedRequests > 0) {
      await armTokenDelay(0);
    }
    if (!reached) {
      round.outcome = 'noPause';
    } else {
      const killedMs = Date.now();
      const takeover = await driveTakeover(survivors, issuedAtKill);
      round.takeoverMs = Date.now() - killedMs;
      round.takeoverEnd = takeover.done ?? 'timeout';
      round.takeoverCalls = takeover.calls;
      Object.assign(round, await classify(survivors));
    }

    const [grantAfter] = (await grantsOf(backend, 'alice')).slice(-1);
    round.refreshCalls = grantAfter.refreshCalls - grantBefore.refreshCalls;
    round.reuseRejections = grantAfter.reuseRejections - grantBefore.reuseRejections;
    round.rotations = grantAfter.rotations - grantBefore.rotations;

    await cluster.restart(victimIndex);
    if (round.outcome !== 'working') {
      await signInAlice(cluster.gateways[0], browser, backend);
      round.signedInAgain = true;
    }
    return round;
  }

  test('alice signs in', async () => {
    await signInAlice(cluster.gateways[0], browser, backend);
    for (const gateway of cluster.gateways) {
      const properties = await connectionProperties(gateway);
      assert.equal(properties.status, 'Connected', gateway.name);
    }
  });

  test('killed refreshes keep or lose cleanly', async (t) => {
    const started = Date.now();
    for (const [index, point] of roundPoints().entries()) {
      if (Date.now() - started > kRoundsBudgetMs) break;
      const round = await runRound(index + 1, point);
      rounds.push(round);
      t.diagnostic(`round ${round.round}: ${round.point} on ${round.victim}: ${round.outcome} ` +
        `(takeover ${round.takeoverMs} ms, ${round.refreshCalls} refresh calls)`);
    }
    const summary = summarize(rounds);
    t.diagnostic(`outcomes: ${JSON.stringify(summary.outcomes)}; by point: ${JSON.stringify(summary.byPoint)}`);

    assert.ok(rounds.length >= 6, `only ${rounds.length} rounds ran within ${kRoundsBudgetMs} ms`);
    for (const round of rounds) {
      const where = `round ${round.round} (${round.point} on ${round.victim}): ${JSON.stringify(round)}`;
      assert.notEqual(round.outcome, 'noPause', `the victim never reached its pause point, ${where}\n${cluster.output()}`);
      assert.notEqual(round.outcome, 'unexpected', `the connection ended in another state, ${where}\n${cluster.output()}`);
      assert.equal(round.outcome, kExpectedOutcome[round.point], where);
    }
    for (const round of rounds) {
      const where = `round ${round.round} (${round.point} on ${round.victim}): ${JSON.stringify(round)}`;
      // One token request by the takeover, plus the victim's own when it reached the provider.
      const expectedCalls = round.point === 'before_token_request' ? 1 : 2;
      assert.equal(round.refreshCalls, expectedCalls, where);
      const expectedReuse = round.outcome === 'rotationLost' ? 1 : 0;
      assert.equal(round.reuseRejections, expectedReuse, where);
    }
  });
});
