// PostgresConnection: one libpq connection, with parameterised statements, results read in
// binary format, and libpq's failures turned into credgate Errors. PostgresPool hands these out
// to PostgresStore; PostgresChangeFeed keeps one of its own. A connection is used by one thread
// at a time.
//
// Error messages name the operation and the server as a URL without its password, and never
// contain the password of the connection URL.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::store {

struct PostgresConnectOptions {
  // A libpq connection URI: postgresql://user[:password]@host[:port]/database[?param=value&...].
  std::string url;
  // When set, the session's search_path, so that credgate's tables live in this schema; empty
  // keeps the server's default (normally "public").
  std::string schema;
  // Reported in pg_stat_activity.application_name.
  std::string application_name = "credgate";
  // How long connecting may take. libpq counts whole seconds, at least 2; a connect_timeout in
  // the URL takes precedence.
  std::chrono::milliseconds connect_timeout{5000};
};

// Returns `url` with the password, if any, replaced by "***", for messages and logs. Returns a
// fixed placeholder when `url` cannot be parsed.
std::string RedactPostgresUrl(std::string_view url);

// A statement parameter, sent in binary format with an explicit type.
struct PgParam {
  enum class Type { kText, kBytes, kInt64 };
  static PgParam Text(std::string_view text) { return {Type::kText, std::string(text)}; }
  static PgParam Bytes(std::string_view bytes) { return {Type::kBytes, std::string(bytes)}; }
  static PgParam Int64(int64_t value);

  Type type;
  std::string value;  // kInt64: 8 bytes, big-endian, as PostgreSQL's binary format wants.
};

// The rows of a successful statement, in binary format. Row and column indexes start at 0.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  int rows() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  // TEXT and BYTEA columns: the raw bytes.
  std::string Bytes(int row, int column) const;
  // BIGINT columns; 0 for NULL.
  int64_t Int64(int row, int column) const;
  // The number of rows an INSERT, UPDATE or DELETE changed.
  int64_t AffectedRows() const;

  const PGresult* raw() const { return result_.get(); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class PostgresConnection {
 public:
  // Connects and sets up the session (search_path, a UTC time zone). Fails with kUnavailable
  // when the server cannot be reached or rejects the connection, and with kInvalidArgument for
  // a malformed URL.
  static Result<std::unique_ptr<PostgresConnection>> Connect(const PostgresConnectOptions& options);
  PostgresConnection(const PostgresConnection&) = delete;
  PostgresConnection& operator=(const PostgresConnection&) = delete;
  ~PostgresConnection();

  // Runs one statement and waits for its result. Fails with the error that ErrorFor describes;
  // `operation` names the caller in the message.
  Result<PgResult> Execute(std::string_view sql, std::span<const PgParam> params,
                           std::string_view operation);
  Result<PgResult> Execute(std::string_view sql, std::string_view operation) {
    return Execute(sql, {}, operation);
  }
  // Runs one or more statements without parameters, for migrations.
  Status ExecuteScript(std::string_view sql, std::string_view operation);

  // Quotes `name` as an SQL identifier.
  std::string QuoteIdentifier(std::string_view name);

  // True once the connection to the server is lost. A broken connection stays broken; the
  // pool discards it and connects anew.
  bool broken() const { return PQstatus(handle_) == CONNECTION_BAD; }

  // libpq's last error message on this connection, without the password.
  std::string LastError() const;

  PGconn* handle() { return handle_; }
  // The server as a URL without the password.
  const std::string& server() const { return server_; }

 private:
  PostgresConnection(PGconn* handle, std::string server, std::string password)
      : handle_(handle), server_(std::move(server)), password_(std::move(password)) {}

  // Builds the Error for a failed statement. The code is kUnavailable when the connection is
  // lost or the server is shutting down or out of resources, and kAlreadyExists for a unique
  // violation. It is kConflict for a serialization failure or a deadlock, kDeadlineExceeded for
  // a cancelled statement, kInvalidArgument for a value the server rejects (such as a NUL byte
  // in text), and kInternal otherwise.
  Error ErrorFor(const PGresult* result, std::string_view operation) const;
  std::string Scrub(std::string message) const;

  PGconn* handle_;
  std::string server_;
  std::string password_;  // Only to remove it from server messages.
};

}  // namespace credgate::store
