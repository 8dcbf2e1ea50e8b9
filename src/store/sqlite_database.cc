#include "store/sqlite_database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace credgate::store {

namespace {

bool IsUnavailable(int primary_code) {
  switch (primary_code) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
      return true;
    default:
      return false;
  }
}

std::string OctalMode(mode_t mode) {
  char buffer[8];
  std::snprintf(buffer, sizeof(buffer), "%04o", static_cast<unsigned>(mode & 07777));
  return buffer;
}

// Creates the file with mode 0600 before SQLite opens it, because SQLite would create it with
// 0644 minus the umask. SQLite gives the -wal and -shm files the mode of the database file.
Status CreateOrCheckFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "failed to open database file " + path + ": " + std::strerror(errno) +
                         "; check that the data folder exists and is writable");
  }
  struct stat info;
  int stat_result = ::fstat(fd, &info);
  int stat_errno = errno;
  ::close(fd);
  if (stat_result != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "failed to stat database file " + path + ": " + std::strerror(stat_errno));
  }
  if ((info.st_mode & 077) != 0) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "database file " + path + " has mode " + OctalMode(info.st_mode) +
                         ", which lets group or others access it; run `chmod 600 " + path + "`");
  }
  return OkStatus();
}

}  // namespace

SqliteStatement::~SqliteStatement() {
  sqlite3_reset(statement_);
  sqlite3_clear_bindings(statement_);
}

void SqliteStatement::BindText(int index, std::string_view text) {
  sqlite3_bind_text64(statement_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void SqliteStatement::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob needs a non-null pointer, or SQLite binds NULL.
  sqlite3_bind_blob64(statement_, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                      SQLITE_TRANSIENT);
}

void SqliteStatement::BindInt64(int index, int64_t value) {
  sqlite3_bind_int64(statement_, index, value);
}

Result<bool> SqliteStatement::Step(std::string_view operation) {
  int code = sqlite3_step(statement_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  return database_->ErrorFor(code, operation);
}

Status SqliteStatement::Run(std::string_view operation) {
  while (true) {
    auto row = Step(operation);
    if (!row.ok()) return row.error();
    if (!*row) return OkStatus();
  }
}

std::string SqliteStatement::ColumnText(int index) const {
  const unsigned char* text = sqlite3_column_text(statement_, index);
  int size = sqlite3_column_bytes(statement_, index);
  return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
}

std::string SqliteStatement::ColumnBlob(int index) const {
  const void* bytes = sqlite3_column_blob(statement_, index);
  int size = sqlite3_column_bytes(statement_, index);
  return bytes == nullptr ? std::string() : std::string(static_cast<const char*>(bytes), size);
}

int64_t SqliteStatement::ColumnInt64(int index) const {
  return sqlite3_column_int64(statement_, index);
}

Result<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(
    const std::string& path, std::chrono::milliseconds busy_timeout) {
  CREDGATE_RETURN_IF_ERROR(CreateOrCheckFile(path));

  sqlite3* handle = nullptr;
  int code =
      sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  // sqlite3_open_v2 returns a handle even on most failures, and it must be closed.
  std::unique_ptr<SqliteDatabase> database(new SqliteDatabase(handle, path));
  if (code != SQLITE_OK) return database->ErrorFor(code, "open");

  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, static_cast<int>(busy_timeout.count()));

  // journal_mode returns the mode in effect, which is not "wal" when the file system or the
  // build cannot provide WAL. Readers then block writers, so reject the file instead.
  {
    auto mode = database->Prepare("PRAGMA journal_mode=WAL", "enable WAL");
    if (!mode.ok()) return mode.error();
    auto row = (*mode)->Step("enable WAL");
    if (!row.ok()) return row.error();
    if (!*row || (*mode)->ColumnText(0) != "wal") {
      return MakeError(ErrorCode::kFailedPrecondition,
                       "SQLite could not enable WAL journaling on " + path +
                           "; put the data folder on a local file system");
    }
  }
  // FULL syncs the WAL on every commit. Token refreshes rotate refresh tokens, and losing a
  // committed rotation would leave a connection with a token the provider has revoked.
  CREDGATE_RETURN_IF_ERROR(database->Exec("PRAGMA synchronous=FULL", "set synchronous"));
  // Deleted rows hold sealed tokens and client secrets. With secure_delete SQLite overwrites
  // their bytes with zeros instead of leaving them in free space.
  CREDGATE_RETURN_IF_ERROR(database->Exec("PRAGMA secure_delete=ON", "enable secure_delete"));
  return database;
}

SqliteDatabase::~SqliteDatabase() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close(handle_);
}

Status SqliteDatabase::Exec(std::string_view sql, std::string_view operation) {
  int code = sqlite3_exec(handle_, std::string(sql).c_str(), nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) return ErrorFor(code, operation);
  return OkStatus();
}

Result<std::unique_ptr<SqliteStatement>> SqliteDatabase::Prepare(std::string_view sql,
                                                                 std::string_view operation) {
  auto found = statements_.find(std::string(sql));
  if (found == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    int code = sqlite3_prepare_v3(handle_, sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (code != SQLITE_OK) return ErrorFor(code, operation);
    found = statements_.emplace(std::string(sql), statement).first;
  }
  return std::make_unique<SqliteStatement>(*this, found->second);
}

Result<bool> SqliteDatabase::TruncateWal(std::string_view operation) {
  auto checkpoint = Prepare("PRAGMA wal_checkpoint(TRUNCATE)", operation);
  if (!checkpoint.ok()) return checkpoint.error();
  // The one result row is (busy, WAL frames, frames checkpointed); busy is 1 when a reader
  // blocked the checkpoint.
  auto row = (*checkpoint)->Step(operation);
  if (!row.ok()) return row.error();
  bool finished = *row && (*checkpoint)->ColumnInt64(0) == 0;
  CREDGATE_RETURN_IF_ERROR((*checkpoint)->Run(operation));
  return finished;
}

Error SqliteDatabase::ErrorFor(int code, std::string_view operation) const {
  int primary = code & 0xff;
  ErrorCode error_code = ErrorCode::kInternal;
  if (IsUnavailable(primary)) error_code = ErrorCode::kUnavailable;
  if (primary == SQLITE_CONSTRAINT) error_code = ErrorCode::kAlreadyExists;

  std::string detail = handle_ != nullptr ? sqlite3_errmsg(handle_) : sqlite3_errstr(code);
  return MakeError(error_code, "SQLite " + std::string(operation) + " failed on " + path_ + ": " +
                                   detail + " (code " + std::to_string(code) + ")");
}

Result<std::unique_ptr<SqliteTransaction>> SqliteTransaction::Begin(SqliteDatabase& database,
                                                                    std::string_view operation) {
  CREDGATE_RETURN_IF_ERROR(database.Exec("BEGIN IMMEDIATE", operation));
  return std::unique_ptr<SqliteTransaction>(new SqliteTransaction(database, operation));
}

Result<std::unique_ptr<SqliteTransaction>> SqliteTransaction::BeginRead(
    SqliteDatabase& database, std::string_view operation) {
  CREDGATE_RETURN_IF_ERROR(database.Exec("BEGIN", operation));
  return std::unique_ptr<SqliteTransaction>(new SqliteTransaction(database, operation));
}

SqliteTransaction::~SqliteTransaction() {
  if (!done_) (void)database_.Exec("ROLLBACK", operation_);
}

Status SqliteTransaction::Commit() {
  CREDGATE_RETURN_IF_ERROR(database_.Exec("COMMIT", operation_));
  done_ = true;
  return OkStatus();
}

}  // namespace credgate::store
