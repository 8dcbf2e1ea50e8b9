// GET /metrics on a running server: the page follows Prometheus' text format (every family has
// one HELP and one TYPE line before its samples, and every sample line parses), needs no admin
// key, and its counters move with the requests the gateway and the management API reject.
//
//   CREDGATE_BIN=build/src/app/credgate node --test tests/e2e/metrics.test.mjs

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { credgateBinaryExists, Credgate, kCredgateBin } from './lib/credgate.mjs';
import { freePort, kOutputDir, stopAll } from './lib/processes.mjs';
import { removeTestDir } from './lib/secrets.mjs';

const skip =
  !credgateBinaryExists() && process.env.CREDGATE_E2E_REQUIRED !== '1'
    ? `credgate binary not found at ${kCredgateBin}: build it or set CREDGATE_BIN`
    : false;

const kSample =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|\+Inf|NaN)$/;

let credgate;
let dataDir;

before(async () => {
  if (skip) return;
  mkdirSync(kOutputDir, { recursive: true });
  dataDir = mkdtempSync(join(kOutputDir, 'metrics-'));
  const [gatewayPort, managementPort] = await Promise.all([freePort(), freePort()]);
  credgate = new Credgate({ gatewayPort, managementPort, dataDir, name: 'metrics' });
  await credgate.start();
});

after(async () => {
  await stopAll();
  if (dataDir) removeTestDir(dataDir);
});

// Fetches the page, checks its format and returns a map from "name{labels}" to the value.
async function scrape() {
  const response = await fetch(`${credgate.managementUrl}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const samples = new Map();
  const help = new Set();
  const types = new Map();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const header = line.match(/^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/);
    if (header) {
      const [, kind, name, rest] = header;
      const seen = kind === 'HELP' ? help.has(name) : types.has(name);
      assert.ok(!seen, `second ${kind} line for ${name}`);
      if (kind === 'HELP') help.add(name);
      else types.set(name, rest);
      continue;
    }
    const sample = line.match(kSample);
    assert.ok(sample, `not a sample line: ${line}`);
    const family = sample[1].replace(/_(bucket|sum|count)$/, '');
    const known = types.has(sample[1]) || types.get(family) === 'histogram';
    assert.ok(known, `sample before its TYPE line: ${line}`);
    samples.set(line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return samples;
}

describe('GET /metrics', { skip }, () => {
  test('is in Prometheus text format without an admin key', async () => {
    const samples = await scrape();
    assert.ok(samples.has('credgate_gateway_requests_received_total'));
  });

  test('counts unrouted gateway requests and rejected management calls', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i += 1) await fetch(`${credgate.gatewayUrl}/no-such-api/x`);
    await fetch(`${credgate.managementUrl}/apis`, { headers: { authorization: 'Bearer wrong' } });
    const now = await scrape();
    const noRoute = 'credgate_gateway_rejections_total{reason="NoRoute"}';
    assert.equal(now.get(noRoute) - before.get(noRoute), 3);
    const unrouted = 'credgate_gateway_requests_total{api="",operation="",code="4xx"}';
    assert.equal(now.get(unrouted) - (before.get(unrouted) ?? 0), 3);
    const latency = 'credgate_gateway_request_duration_seconds_count{api="",operation=""}';
    assert.equal(now.get(latency) - (before.get(latency) ?? 0), 3);
    const unauthenticated = 'credgate_management_rejections_total{reason="Unauthenticated"}';
    assert.equal(now.get(unauthenticated) - before.get(unauthenticated), 1);
  });

  test('counts connections by status', async () => {
    await credgate.manage('PUT', '/authorizationProviders/metrics', {
      properties: {
        identityProvider: 'oauth2pkce',
        oauth2: {
          grantTypes: {
            authorizationCode: {
              clientId: 'metrics-client',
              clientSecret: 'metrics-client-secret',
              scopes: 'read',
              authorizationUrl: 'https://127.0.0.1:9/authorize',
              tokenUrl: 'https://127.0.0.1:9/token',
            },
          },
        },
      },
    });
    await credgate.manage('PUT', '/authorizationProviders/metrics/authorizations/alice', {
      properties: {},
    });
    const samples = await scrape();
    assert.equal(samples.get('credgate_connections{status="Unauthenticated"}'), 1);
  });
});
