// Looks for every secret value the test run used in every output file the run left behind: the
// CTest log, the end-to-end logs of credgate and the testenv servers, the test runner's report,
// and the data folders (SQLite files included). scripts/test.sh runs this file last, after the
// unit and end-to-end tests, with CREDGATE_E2E_KEEP_OUTPUT=1 so that the data folders remain.
//
// The secrets come from .test-output/secrets/*.jsonl, written by tests/e2e/lib/secrets.mjs and
// testenv/common.mjs: client secrets, the caller JWTs and backend tokens that testenv issued,
// the master keys and admin keys. A value is looked for as written and percent-encoded.
//
// Not scanned: the secret record itself, master.key, admin.key and export.key (the files that
// store those keys by design), and the *.yaml configuration files that the tests wrote as input.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const kRepoRoot = join(fileURLToPath(import.meta.url), '..', '..', '..');
const kOutputRoot = join(kRepoRoot, '.test-output');
const kSecretsDir = join(kOutputRoot, 'secrets');
const kBuildDir = join(kRepoRoot, process.env.CREDGATE_BUILD_DIR ?? 'build');

// Values shorter than this are too likely to occur by chance (for example a test password "any").
const kMinSecretLength = 12;
// Kinds that a full run must have recorded, so that the scan cannot pass with nothing to look for.
const kRequiredKinds = [
  'admin key',
  'master key',
  'backend client secret',
  'caller client secret',
  'caller JWT',
  'backend access token',
  'backend refresh token',
];

function loadSecrets() {
  const byValue = new Map();
  if (!existsSync(kSecretsDir)) return byValue;
  for (const name of readdirSync(kSecretsDir)) {
    for (const line of readFileSync(join(kSecretsDir, name), 'utf8').split('\n')) {
      if (line === '') continue;
      const { kind, value } = JSON.parse(line);
      if (value.length >= kMinSecretLength) byValue.set(value, kind);
    }
  }
  return byValue;
}

function isExcluded(path) {
  const name = basename(path);
  return (
    name === 'master.key' ||
    name === 'admin.key' ||
    name === 'export.key' ||
    name.endsWith('.yaml')
  );
}

// Returns every regular file under `dir`, skipping the secret record.
function listFiles(dir) {
  if (!existsSync(dir)) return [];
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (path === kSecretsDir) continue;
    if (entry.isDirectory()) files.push(...listFiles(path));
    else if (entry.isFile() && !isExcluded(path)) files.push(path);
  }
  return files;
}

test('test output contains no secret', () => {
  const secrets = loadSecrets();
  const kinds = new Set(secrets.values());
  for (const kind of kRequiredKinds) {
    assert.ok(kinds.has(kind), `no '${kind}' was recorded in ${kSecretsDir}: did the e2e tests run?`);
  }

  const files = [...listFiles(kOutputRoot), ...listFiles(join(kBuildDir, 'Testing'))];
  assert.ok(
    files.some((path) => path.endsWith('.log') && statSync(path).size > 0),
    'no log file to scan',
  );

  const needles = [];
  for (const [value, kind] of secrets) {
    needles.push({ kind, value, bytes: Buffer.from(value) });
    const encoded = encodeURIComponent(value);
    if (encoded !== value) needles.push({ kind, value, bytes: Buffer.from(encoded) });
  }

  const findings = [];
  for (const path of files) {
    const content = readFileSync(path);
    for (const { kind, value, bytes } of needles) {
      if (content.includes(bytes)) {
        findings.push(`${relative(kRepoRoot, path)}: ${kind} ${value.slice(0, 6)}…`);
      }
    }
  }
  assert.deepEqual(findings, [], `secrets found in test output:\n${findings.join('\n')}`);
});
