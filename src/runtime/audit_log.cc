#include "runtime/audit_log.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <limits>
#include <optional>

namespace credgate::runtime {

namespace {

std::shared_ptr<spdlog::logger> AuditLogger() {
  auto logger = spdlog::get("audit");
  if (logger) return logger;
  logger = spdlog::default_logger()->clone("audit");
  spdlog::register_logger(logger);
  return logger;
}

// kPlainJson[b] is true for printable ASCII other than the quote and the backslash, bytes that
// Boost.JSON's serializer writes unchanged. Any other byte sends its value through the serializer.
constexpr std::array<bool, 256> kPlainJson = [] {
  std::array<bool, 256> table{};
  for (int b = 0x20; b < 0x7f; ++b) table[b] = b != '"' && b != '\\';
  return table;
}();

// Appends `name` (plain ASCII, no escaping needed) and `value` as the JSON member
// ,"name":"value", escaping `value` as Boost.JSON's serializer does. Ids and names need no
// escaping and are copied as they are. `serializer` is made for the first value that does.
void AppendMember(std::string& line, std::string_view name, std::string_view value,
                  std::optional<boost::json::serializer>& serializer) {
  line += ",\"";
  line += name;
  line += "\":";
  const bool plain = std::all_of(value.begin(), value.end(),
                                 [](char c) { return kPlainJson[static_cast<unsigned char>(c)]; });
  if (plain) {
    line += '"';
    line += value;
    line += '"';
    return;
  }
  if (!serializer) serializer.emplace();
  serializer->reset(value);
  char chunk[256];
  while (!serializer->done()) line += serializer->read(chunk);
}

}  // namespace

boost::json::object TokenIssuedObject(const TokenIssuedEvent& event) {
  // Seven members here and "time" in Record(): reserving eight slots spares the object's
  // repeated growth as members are added.
  boost::json::object object;
  object.reserve(8);
  object["event"] = "token.issued";
  object["requestId"] = event.request_id;
  object["connection"] = event.connection;
  object["identityType"] = event.identity_type;
  object["callerTenantId"] = event.caller_tenant_id;
  object["callerObjectId"] = event.caller_object_id;
  object["callerAppId"] = event.caller_app_id;
  return object;
}

std::string FormatAuditTime(TimePoint time) {
  const auto since_epoch = time.time_since_epoch();
  const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - seconds).count());
  // Events come many per second, so each thread formats the date and time of a second once.
  thread_local int64_t cached_second = std::numeric_limits<int64_t>::min();
  thread_local char cached_prefix[64];
  if (seconds.count() != cached_second) {
    std::time_t whole = static_cast<std::time_t>(seconds.count());
    std::tm utc{};
    gmtime_r(&whole, &utc);
    std::snprintf(cached_prefix, sizeof(cached_prefix), "%04d-%02d-%02dT%02d:%02d:%02d",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec);
    cached_second = seconds.count();
  }
  std::string text(cached_prefix);
  const char fraction[] = {'.', static_cast<char>('0' + millis / 100),
                           static_cast<char>('0' + millis / 10 % 10),
                           static_cast<char>('0' + millis % 10), 'Z'};
  text.append(fraction, sizeof(fraction));
  return text;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, const Clock& clock) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kUnavailable, "failed to open audit log " + path + ": " +
                                                  std::strerror(errno) +
                                                  "; check that its folder exists and is writable");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return MakeError(ErrorCode::kFailedPrecondition,
                     "audit log " + path + " is not a regular file");
  }
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    return MakeError(
        ErrorCode::kFailedPrecondition,
        "audit log " + path + " lets group or others access it; run `chmod 600 " + path + "`");
  }
  return std::unique_ptr<AuditLog>(new AuditLog(fd, path, clock));
}

AuditLog::AuditLog(int fd, std::string path, const Clock& clock)
    : fd_(fd), path_(std::move(path)), clock_(clock) {
  writer_ = std::thread([this] { WriteLoop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
  ::close(fd_);
}

void AuditLog::Record(boost::json::object event) {
  const auto* name = event.if_contains("event");
  const bool per_request = name != nullptr && name->is_string() && name->get_string() == "token.issued";
  event["time"] = FormatAuditTime(clock_.Now());
  QueuedLine line{boost::json::serialize(event),
                  per_request ? spdlog::level::debug : spdlog::level::info};
  line.text.push_back('\n');
  Enqueue(std::move(line));
}

void AuditLog::RecordTokenIssued(const TokenIssuedEvent& event) {
  // The same line as Record(TokenIssuedObject(event)) writes, members in the same order.
  QueuedLine line{std::string(), spdlog::level::debug};
  line.text.reserve(256 + event.request_id.size() + event.connection.size() +
                    event.caller_tenant_id.size() + event.caller_object_id.size() +
                    event.caller_app_id.size());
  line.text = "{\"event\":\"token.issued\"";
  std::optional<boost::json::serializer> serializer;
  AppendMember(line.text, "requestId", event.request_id, serializer);
  AppendMember(line.text, "connection", event.connection, serializer);
  AppendMember(line.text, "identityType", event.identity_type, serializer);
  AppendMember(line.text, "callerTenantId", event.caller_tenant_id, serializer);
  AppendMember(line.text, "callerObjectId", event.caller_object_id, serializer);
  AppendMember(line.text, "callerAppId", event.caller_app_id, serializer);
  AppendMember(line.text, "time", FormatAuditTime(clock_.Now()), serializer);
  line.text += "}\n";
  Enqueue(std::move(line));
}

void AuditLog::Enqueue(QueuedLine line) {
  bool wake_now = false;
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kMaxQueuedLines) {
      ++write_failures_;
      spdlog::error("audit log queue full, event dropped path={} failures={}", path_,
                    write_failures_);
      return;
    }
    queue_.push_back(std::move(line));
    wake_now = queue_.size() == kWakeLines;
  }
  if (wake_now) wake_.notify_one();
}

void AuditLog::WriteLoop() {
  std::vector<QueuedLine> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kFlushInterval,
                     [this] { return stopping_ || queue_.size() >= kWakeLines; });
      if (queue_.empty()) {
        if (stopping_) return;  // Everything is written.
        continue;
      }
      batch.swap(queue_);
    }
    WriteBatch(batch);
    batch.clear();
  }
}

void AuditLog::WriteBatch(const std::vector<QueuedLine>& lines) {
  const std::shared_ptr<spdlog::logger> logger = AuditLogger();
  std::string text;
  for (const auto& line : lines) {
    if (logger->should_log(line.level)) {
      logger->log(line.level, "{}", std::string_view(line.text).substr(0, line.text.size() - 1));
    }
    text += line.text;
  }
  // O_APPEND makes each write(2) land at the end of the file as a unit.
  ssize_t written = ::write(fd_, text.data(), text.size());
  if (written != static_cast<ssize_t>(text.size())) {
    const char* reason = written < 0 ? std::strerror(errno) : "short write";
    std::lock_guard lock(mutex_);
    write_failures_ += lines.size();
    spdlog::error("audit log write failed path={} lines={} failures={}: {}", path_, lines.size(),
                  write_failures_, reason);
  }
}

uint64_t AuditLog::write_failures() const {
  std::lock_guard lock(mutex_);
  return write_failures_;
}

}  // namespace credgate::runtime
