// A fresh PostgreSQL database for each test file that runs credgate on PostgreSQL, created and
// dropped with psql through the server named by CREDGATE_TEST_POSTGRES_URL (scripts/postgres.sh
// starts a throwaway server and prints such a URL).

import { randomBytes } from 'node:crypto';

import { run } from './processes.mjs';

// The server URL, postgresql://user@host:port/database, or undefined when no server is given.
export const kTestPostgresUrl = process.env.CREDGATE_TEST_POSTGRES_URL || undefined;

// The reason to skip a test file that needs PostgreSQL, or false when a server is given.
export function skipWithoutPostgres(testName) {
  return kTestPostgresUrl === undefined
    ? `${testName} needs PostgreSQL: set CREDGATE_TEST_POSTGRES_URL ` +
        '(scripts/postgres.sh start prints one)'
    : false;
}

// Creates an empty database named `<prefix>_<random hex>` on the server of `serverUrl` and
// returns {name, url}, where url is `serverUrl` with the database replaced. Throws with psql's
// output when the statement fails.
export async function createTestDatabase(serverUrl, prefix) {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await psql(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

// Drops a database made by createTestDatabase, closing the connections that are left.
export async function dropTestDatabase(serverUrl, name) {
  await psql(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

async function psql(serverUrl, statement) {
  const result = await run('psql', 'psql', [
    '--no-psqlrc',
    '--set', 'ON_ERROR_STOP=1',
    '--dbname', serverUrl,
    '--command', statement,
  ], 30000);
  if (result.code !== 0) {
    throw new Error(`psql "${statement}" failed (exit ${result.code}): ${result.output}`);
  }
}
