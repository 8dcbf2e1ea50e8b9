// Thin RAII wrappers over the SQLite C API for SqliteStore: a connection with a cache of prepared
// statements, statements that reset themselves after use, and transactions that roll back unless
// committed. Not thread-safe: SqliteStore serializes every call with its own mutex.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"

namespace credgate::store {

class SqliteDatabase;

// A prepared statement borrowed from the connection's cache. Destroying the handle resets the
// statement and clears its bindings, which also ends any read it still holds open.
class SqliteStatement {
 public:
  SqliteStatement(SqliteDatabase& database, sqlite3_stmt* statement)
      : database_(&database), statement_(statement) {}
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameter indexes start at 1, as in sqlite3_bind_*.
  void BindText(int index, std::string_view text);
  void BindBlob(int index, std::string_view bytes);
  void BindInt64(int index, int64_t value);

  // Advances to the next row. Returns true when a row is available and false when the statement
  // is done; `operation` names the caller in error messages.
  Result<bool> Step(std::string_view operation);
  // Steps until the statement is done, for statements whose rows are not needed.
  Status Run(std::string_view operation);

  // Column indexes start at 0, as in sqlite3_column_*.
  std::string ColumnText(int index) const;
  std::string ColumnBlob(int index) const;
  int64_t ColumnInt64(int index) const;

 private:
  SqliteDatabase* database_;
  sqlite3_stmt* statement_;  // Owned by the database's cache.
};

class SqliteDatabase {
 public:
  // Opens or creates the database file at `path` with mode 0600, in WAL mode with
  // synchronous=FULL, so that a committed write survives a power loss. Fails with
  // kFailedPrecondition when an existing file is accessible to group or others, and with
  // kUnavailable when the file cannot be opened.
  static Result<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                      std::chrono::milliseconds busy_timeout);
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;
  ~SqliteDatabase();

  // Runs one or more SQL statements that return no rows.
  Status Exec(std::string_view sql, std::string_view operation);
  // Returns the cached prepared statement for `sql`, preparing it on first use.
  Result<std::unique_ptr<SqliteStatement>> Prepare(std::string_view sql,
                                                   std::string_view operation);
  // Builds the Error for SQLite result `code`: kUnavailable for busy, locked, I/O, full,
  // read-only and cannot-open conditions, kAlreadyExists for constraint violations, kInternal
  // otherwise. The message names the operation, the file and SQLite's own message.
  Error ErrorFor(int code, std::string_view operation) const;

  // Copies the WAL into the database file and truncates the WAL to zero bytes (PRAGMA
  // wal_checkpoint(TRUNCATE)). Returns false when another connection's read kept the checkpoint
  // from finishing; the WAL then keeps its frames until a later checkpoint.
  Result<bool> TruncateWal(std::string_view operation);

  const std::string& path() const { return path_; }

 private:
  SqliteDatabase(sqlite3* handle, std::string path) : handle_(handle), path_(std::move(path)) {}

  sqlite3* handle_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// BEGIN IMMEDIATE on construction (taking the write lock up front, so the transaction cannot
// fail later with SQLITE_BUSY on upgrade), ROLLBACK on destruction unless Commit succeeded.
class SqliteTransaction {
 public:
  static Result<std::unique_ptr<SqliteTransaction>> Begin(SqliteDatabase& database,
                                                          std::string_view operation);
  // A deferred BEGIN for a transaction that only reads: its statements see one state of the
  // database, and writers of other connections are not held up. Commit ends it.
  static Result<std::unique_ptr<SqliteTransaction>> BeginRead(SqliteDatabase& database,
                                                              std::string_view operation);
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();

  Status Commit();

 private:
  SqliteTransaction(SqliteDatabase& database, std::string_view operation)
      : database_(database), operation_(operation) {}

  SqliteDatabase& database_;
  std::string operation_;
  bool done_ = false;
};

}  // namespace credgate::store
