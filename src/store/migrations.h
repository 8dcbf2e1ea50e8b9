// Versioned schema migrations for SqliteStore. Each migration is a numbered SQL script; opening a
// database applies, in order and each in its own transaction, every migration whose version is
// above the highest one recorded in the schema_migrations table. A file written by an older
// build is therefore upgraded in place, and reopening an up-to-date file changes nothing.
//
// Migrations are append-only: once released, a script is never edited, because databases that
// already applied it would not see the edit. Change the schema by appending a new version.
#pragma once

#include <span>
#include <string_view>

#include "common/result.h"
#include "store/sqlite_database.h"

namespace credgate::store {

struct Migration {
  int version;                   // 1, 2, 3, ... without gaps.
  std::string_view description;  // Recorded in schema_migrations.
  std::string_view sql;          // One or more statements.
};

// The schema of this build, oldest first.
std::span<const Migration> SqliteMigrations();

// Applies the pending migrations and returns the resulting schema version. Fails with
// kFailedPrecondition when the file records a version newer than the newest in `migrations` (a
// newer credgate wrote it), kInternal when the list is not numbered 1, 2, 3, ..., and with the
// database error when a script fails, in which case that migration is rolled back.
Result<int> ApplyMigrations(SqliteDatabase& database, std::span<const Migration> migrations);

}  // namespace credgate::store
