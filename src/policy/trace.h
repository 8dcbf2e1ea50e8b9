// Policy traces for the management API's test console. A trace lists the statements that ran
// for one request: section, scope, element name, id, outcome and a detail that names what the
// statement changed. A detail never contains a value (a header's or variable's content, a
// token), and a failure's message has every token-like word replaced by "[redacted]", so that
// a trace can be shown to administrators without exposing the credentials the request used.
//
// The test console opens a trace in the TraceRegistry and sends its request to the gateway with
// the trace's random handle in the x-credgate-trace header. The gateway claims the trace by that
// handle, records into it while the request runs, and removes the header before the policies
// and the backend see the request.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"

namespace credgate::policy {

// The request header that carries a trace handle from the test console to the gateway.
inline constexpr std::string_view kTraceHeader = "x-credgate-trace";

struct TraceStep {
  std::string section;    // "inbound", "backend", "outbound" or "on-error".
  std::string scope;      // "global", "api" or "operation".
  std::string statement;  // The element name, for example "set-header".
  std::string id;         // The statement's id attribute, or "".
  std::string path;       // The statement's path in its section, for example "set-header[1]".
  std::string outcome;    // "completed", "responded" or "failed".
  std::string detail;     // The names of what the statement changed, or the failure's reason.
};

// The steps of one traced request. Thread-safe: the gateway adds steps on its thread while the
// test console waits on another.
class PolicyTrace {
 public:
  void Add(TraceStep step);
  std::vector<TraceStep> Steps() const;

 private:
  mutable std::mutex mutex_;
  std::vector<TraceStep> steps_;
};

// Traces that the test console opened and the gateway has not claimed yet. Thread-safe.
class TraceRegistry {
 public:
  struct Opened {
    std::string handle;  // 128 random bits, base64url.
    std::shared_ptr<PolicyTrace> trace;
  };

  // `max_open` bounds the traces open at once. `random` must outlive the registry.
  explicit TraceRegistry(RandomSource& random, size_t max_open = 64);

  // Opens a trace. Returns nullopt when `max_open` traces are open already.
  std::optional<Opened> Open();
  // Returns the trace of `handle` and removes the handle, so that one handle traces one
  // request. Returns nullptr for an unknown, claimed or closed handle.
  std::shared_ptr<PolicyTrace> Claim(std::string_view handle);
  // Removes `handle` when no request claimed it.
  void Close(std::string_view handle);

 private:
  RandomSource& random_;
  const size_t max_open_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<PolicyTrace>, std::less<>> open_;
};

// Returns `text` with every word of 20 or more characters from the base64, base64url and JWT
// alphabets replaced by "[redacted]".
std::string RedactTokenWords(std::string_view text);

}  // namespace credgate::policy
