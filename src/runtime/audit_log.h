// The audit log: one JSON object per line for every management change and every token that
// get-authorization-context hands to a caller. Events never contain a token, key or secret:
// they name who acted (an admin key id or a JWT subject), what was done and to which
// connection, when and from where.
//
// AuditLog appends each line to a file (mode 0600, opened with O_APPEND so that lines from
// several processes never interleave within a line) and also logs it through the spdlog logger
// "audit": token.issued events, one per proxied request that gets a token, at level debug, and
// every other event at info. Record() only queues the line: a writer thread writes what has queued with one
// write(2) per batch, so the request path that records a token issue makes no system call. The
// writer wakes every kFlushInterval, or at once when kWakeLines lines wait, and not for each
// line: a wake per line cost a futex call on the request path and a write(2) per request under
// load. A line therefore reaches the file within about kFlushInterval. The destructor writes
// every queued line before it returns. At most kMaxQueuedLines wait; a line beyond that is
// dropped and counted as a write failure, with an error log. Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <spdlog/common.h>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace credgate::runtime {

// A "token.issued" event: the caller and connection of one token that get-authorization-context
// handed out. The views must stay valid for the call that records it.
struct TokenIssuedEvent {
  std::string_view request_id;
  std::string_view connection;
  std::string_view identity_type;  // "jwt" or "managed".
  std::string_view caller_tenant_id;
  std::string_view caller_object_id;
  std::string_view caller_app_id;
};

// Builds `event` as a JSON object with the members in the order of its audit line: event,
// requestId, connection, identityType, callerTenantId, callerObjectId, callerAppId.
boost::json::object TokenIssuedObject(const TokenIssuedEvent& event);

// The destination of audit events. Tests capture them with their own sink.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Records `event` after adding "time" (RFC 3339 UTC with milliseconds). Returns nothing, so
  // an implementation logs and counts its own write failures.
  virtual void Record(boost::json::object event) = 0;
  // Records one token issue, the event of every proxied request that gets a token. The default
  // passes TokenIssuedObject(event) to Record(). AuditLog writes the same line without building
  // the object, which costs a hashed insert and an allocation per member.
  virtual void RecordTokenIssued(const TokenIssuedEvent& event) {
    Record(TokenIssuedObject(event));
  }
};

class AuditLog final : public AuditSink {
 public:
  static constexpr size_t kMaxQueuedLines = 100'000;
  static constexpr std::chrono::milliseconds kFlushInterval{20};
  static constexpr size_t kWakeLines = 4096;

  // Opens or creates `path` for appending. A new file gets mode 0600. Fails with
  // kFailedPrecondition when an existing file grants group or others any permission (the
  // message names the path and `chmod 600`), and with kUnavailable when it cannot be opened.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path, const Clock& clock);
  ~AuditLog() override;

  void Record(boost::json::object event) override;
  void RecordTokenIssued(const TokenIssuedEvent& event) override;

  uint64_t write_failures() const;
  const std::string& path() const { return path_; }

 private:
  AuditLog(int fd, std::string path, const Clock& clock);
  void WriteLoop();
  // One line of the file, and the level at which it is also logged.
  struct QueuedLine {
    std::string text;  // Ends in '\n'.
    spdlog::level::level_enum level;
  };
  void Enqueue(QueuedLine line);
  void WriteBatch(const std::vector<QueuedLine>& lines);

  const int fd_;
  const std::string path_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<QueuedLine> queue_;  // Guarded by mutex_.
  bool stopping_ = false;          // Guarded by mutex_.
  uint64_t write_failures_ = 0;    // Guarded by mutex_.
  std::thread writer_;
};

// Formats `time` as RFC 3339 UTC with milliseconds, for example 2026-01-02T03:04:05.678Z.
std::string FormatAuditTime(TimePoint time);

}  // namespace credgate::runtime
