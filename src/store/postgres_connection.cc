#include "store/postgres_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace credgate::store {

namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat), stable across server versions.
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;

constexpr std::string_view kUnparsableUrl = "postgresql://(unparsable URL)";

struct ConninfoDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};
using Conninfo = std::unique_ptr<PQconninfoOption, ConninfoDeleter>;

// Returns the value of `keyword` in parsed connection options, or "".
std::string OptionValue(const PQconninfoOption* options, std::string_view keyword) {
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (keyword == option->keyword && option->val != nullptr) return option->val;
  }
  return "";
}

// Returns libpq's message on one line: libpq ends messages with a newline and puts hints on
// further lines.
std::string TrimmedMessage(const char* text) {
  std::string message;
  for (const char* c = text != nullptr ? text : ""; *c != '\0'; ++c) {
    const bool space = *c == '\n' || *c == '\t' || *c == ' ';
    if (space && (message.empty() || message.back() == ' ')) continue;
    message.push_back(space ? ' ' : *c);
  }
  if (!message.empty() && message.back() == ' ') message.pop_back();
  return message.empty() ? "no message from libpq" : message;
}

ErrorCode CodeForSqlState(std::string_view state) {
  if (state == "23505") return ErrorCode::kAlreadyExists;  // unique_violation
  if (state == "40001" || state == "40P01") return ErrorCode::kConflict;
  if (state == "57014") return ErrorCode::kDeadlineExceeded;        // query_canceled
  if (state.starts_with("22")) return ErrorCode::kInvalidArgument;  // data exception
  // Class 08: connection exception; 53: insufficient resources; 57P01-57P03: shutdown and
  // start-up of the server; 55P03: lock not available.
  if (state.starts_with("08") || state.starts_with("53") || state.starts_with("57P") ||
      state == "55P03") {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInternal;
}

void LogNotice(void* /*context*/, const char* message) {
  spdlog::warn("store: PostgreSQL: {}", TrimmedMessage(message));
}

}  // namespace

std::string RedactPostgresUrl(std::string_view url) {
  char* parse_error = nullptr;
  Conninfo options(PQconninfoParse(std::string(url).c_str(), &parse_error));
  PQfreemem(parse_error);
  if (!options) return std::string(kUnparsableUrl);

  std::string user = OptionValue(options.get(), "user");
  std::string host = OptionValue(options.get(), "host");
  if (host.empty()) host = OptionValue(options.get(), "hostaddr");
  std::string port = OptionValue(options.get(), "port");
  std::string database = OptionValue(options.get(), "dbname");
  bool has_password = !OptionValue(options.get(), "password").empty();

  std::string redacted = "postgresql://";
  if (!user.empty()) redacted += user + (has_password ? ":***@" : "@");
  redacted += host;
  if (!port.empty()) redacted += ":" + port;
  redacted += "/" + database;
  return redacted;
}

PgParam PgParam::Int64(int64_t value) {
  std::string bytes(8, '\0');
  auto bits = static_cast<uint64_t>(value);
  for (int i = 7; i >= 0; --i) {
    bytes[i] = static_cast<char>(bits & 0xFF);
    bits >>= 8;
  }
  return {Type::kInt64, std::move(bytes)};
}

std::string PgResult::Bytes(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     PQgetlength(result_.get(), row, column));
}

int64_t PgResult::Int64(int row, int column) const {
  if (IsNull(row, column) || PQgetlength(result_.get(), row, column) != 8) return 0;
  const char* bytes = PQgetvalue(result_.get(), row, column);
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = (bits << 8) | static_cast<unsigned char>(bytes[i]);
  return static_cast<int64_t>(bits);
}

int64_t PgResult::AffectedRows() const {
  const char* count = PQcmdTuples(result_.get());
  return count != nullptr && *count != '\0' ? std::stoll(count) : 0;
}

Result<std::unique_ptr<PostgresConnection>> PostgresConnection::Connect(
    const PostgresConnectOptions& options) {
  const std::string server = RedactPostgresUrl(options.url);
  char* parse_error = nullptr;
  Conninfo parsed(PQconninfoParse(options.url.c_str(), &parse_error));
  if (!parsed) {
    // libpq's parse message may quote the URL, so only the redacted form is shown.
    PQfreemem(parse_error);
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid PostgreSQL URL " + server +
                         "; expected postgresql://user[:password]@host[:port]/database");
  }
  std::string password = OptionValue(parsed.get(), "password");

  // Options before "dbname" are defaults: values in the URL override them.
  const std::string timeout_seconds =
      std::to_string(std::max<int64_t>(2, (options.connect_timeout.count() + 999) / 1000));
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {timeout_seconds.c_str(), options.application_name.c_str(),
                          options.url.c_str(), nullptr};
  PGconn* handle = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (handle == nullptr) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "connecting to PostgreSQL at " + server + " failed: out of memory");
  }
  auto connection =
      std::unique_ptr<PostgresConnection>(new PostgresConnection(handle, server, password));
  if (PQstatus(handle) != CONNECTION_OK) {
    return MakeError(ErrorCode::kUnavailable,
                     connection->Scrub("connecting to PostgreSQL at " + server +
                                       " failed: " + TrimmedMessage(PQerrorMessage(handle))));
  }

  // Server warnings go to the log instead of libpq's default, standard error; notices (such as
  // "already exists, skipping") are not sent at all.
  PQsetNoticeProcessor(handle, &LogNotice, nullptr);
  std::string setup = "SET TIME ZONE 'UTC'; SET client_min_messages TO warning";
  if (!options.schema.empty()) {
    setup += "; SET search_path TO " + connection->QuoteIdentifier(options.schema);
  }
  CREDGATE_RETURN_IF_ERROR(connection->ExecuteScript(setup, "connection set-up"));
  return connection;
}

PostgresConnection::~PostgresConnection() { PQfinish(handle_); }

Result<PgResult> PostgresConnection::Execute(std::string_view sql, std::span<const PgParam> params,
                                             std::string_view operation) {
  std::vector<Oid> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats(params.size(), 1);
  for (const PgParam& param : params) {
    switch (param.type) {
      case PgParam::Type::kText:
        types.push_back(kTextOid);
        break;
      case PgParam::Type::kBytes:
        types.push_back(kByteaOid);
        break;
      case PgParam::Type::kInt64:
        types.push_back(kInt8Oid);
        break;
    }
    values.push_back(param.value.data());
    lengths.push_back(static_cast<int>(param.value.size()));
  }

  PgResult result(PQexecParams(handle_, std::string(sql).c_str(), static_cast<int>(params.size()),
                               types.data(), values.data(), lengths.data(), formats.data(),
                               /*resultFormat=*/1));
  // A null result means libpq could not send the statement or ran out of memory.
  ExecStatusType status = PQresultStatus(result.raw());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return result;
  return ErrorFor(result.raw(), operation);
}

Status PostgresConnection::ExecuteScript(std::string_view sql, std::string_view operation) {
  PgResult result(PQexec(handle_, std::string(sql).c_str()));
  ExecStatusType status = PQresultStatus(result.raw());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return OkStatus();
  return ErrorFor(result.raw(), operation);
}

std::string PostgresConnection::QuoteIdentifier(std::string_view name) {
  char* quoted = PQescapeIdentifier(handle_, name.data(), name.size());
  if (quoted == nullptr) return "\"\"";
  std::string text = quoted;
  PQfreemem(quoted);
  return text;
}

Error PostgresConnection::ErrorFor(const PGresult* result, std::string_view operation) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message =
      primary != nullptr ? TrimmedMessage(primary) : TrimmedMessage(PQerrorMessage(handle_));
  ErrorCode code = state != nullptr ? CodeForSqlState(state) : ErrorCode::kInternal;
  if (broken()) code = ErrorCode::kUnavailable;

  std::string text = std::string(operation) + " failed on PostgreSQL " + server_;
  if (broken()) text += " (the connection was lost)";
  text += ": " + message;
  if (state != nullptr) text += " (SQLSTATE " + std::string(state) + ")";
  return MakeError(code, Scrub(std::move(text)));
}

std::string PostgresConnection::LastError() const {
  return Scrub(TrimmedMessage(PQerrorMessage(handle_)));
}

std::string PostgresConnection::Scrub(std::string message) const {
  if (password_.empty()) return message;
  for (size_t at = message.find(password_); at != std::string::npos;
       at = message.find(password_, at + 3)) {
    message.replace(at, password_.size(), "***");
  }
  return message;
}

}  // namespace credgate::store
