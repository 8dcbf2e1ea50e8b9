// Versioned schema migrations for PostgresStore, numbered as SQLite's (migrations.h) so that both
// stores report the same schema version for the same tables: version 1 holds resources, tokens
// and admin keys, and version 2 adds the refresh lease columns.
//
// Opening a store applies, in order and each in its own transaction, every migration above the
// highest version in the schema_migrations table. Each transaction first takes a
// transaction-scoped advisory lock (pg_advisory_xact_lock), so gateways that start together
// apply every migration once and wait for each other instead of racing (ConcurrentOpensMigrateOnce
// in tests/store/postgres_store_test.cc checks it).
//
// Key columns use COLLATE "C", so comparisons and ORDER BY are bytewise like SQLite's BINARY
// collation; DeleteTree's subtree range and ListAll's parents-first order rely on it.
#pragma once

#include <cstdint>
#include <span>

#include "common/result.h"
#include "store/migrations.h"
#include "store/postgres_connection.h"

namespace credgate::store {

// The key of the advisory lock that serializes migrations across processes: the bytes of
// "credgate" as a big-endian 64-bit number.
inline constexpr int64_t kMigrationLockKey = 7165901439005455461;

// The PostgreSQL schema of this build, oldest first. Append-only, like SqliteMigrations().
std::span<const Migration> PostgresMigrations();

// Creates `schema` when it is not empty, then applies the pending migrations and returns the
// resulting schema version. Fails with kFailedPrecondition when the database records a version
// newer than the newest in `migrations`, and with kInternal when the list is not numbered
// 1, 2, 3, .... When a script fails, that migration is rolled back and the call fails with the
// database error.
Result<int> ApplyPostgresMigrations(PostgresConnection& connection, std::string_view schema,
                                    std::span<const Migration> migrations);

}  // namespace credgate::store
