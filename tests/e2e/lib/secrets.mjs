// A record of the secret values the end-to-end tests use, which tests/secrets/ then looks for in
// every output file of the test run. Test files, the helpers in this folder and the testenv
// servers append to it, and nothing reads it during the e2e run.
//
// Each process appends JSON lines {"kind": ..., "value": ...} to .test-output/secrets/<pid>.jsonl.
// The testenv servers started by the tests inherit CREDGATE_TEST_SECRETS_DIR and write there too.

import { appendFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { kRepoRoot } from './processes.mjs';

export const kSecretsDir = join(kRepoRoot, '.test-output', 'secrets');
mkdirSync(kSecretsDir, { recursive: true });
process.env.CREDGATE_TEST_SECRETS_DIR = kSecretsDir;

// Appends `values` of `kind` (for example 'client secret') to this process's record. Empty and
// undefined values are skipped.
export function recordSecrets(kind, values) {
  const lines = values
    .filter((value) => typeof value === 'string' && value !== '')
    .map((value) => `${JSON.stringify({ kind, value })}\n`);
  if (lines.length > 0) appendFileSync(join(kSecretsDir, `${process.pid}.jsonl`), lines.join(''));
}

// Removes a folder a test created under .test-output, unless CREDGATE_E2E_KEEP_OUTPUT=1, which
// scripts/test.sh sets so that the secret scan also reads the data folders.
export function removeTestDir(dir) {
  if (process.env.CREDGATE_E2E_KEEP_OUTPUT === '1') return;
  rmSync(dir, { recursive: true, force: true });
}
