#include "policy/trace.h"

#include <cctype>

namespace credgate::policy {

namespace {

// A word shorter than this is left alone: ids, names and status words are short, and tokens,
// secrets and keys are longer.
constexpr size_t kMinTokenWordLength = 20;

bool IsTokenCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '+' || c == '/' || c == '=' || c == '~';
}

}  // namespace

void PolicyTrace::Add(TraceStep step) {
  std::lock_guard lock(mutex_);
  steps_.push_back(std::move(step));
}

std::vector<TraceStep> PolicyTrace::Steps() const {
  std::lock_guard lock(mutex_);
  return steps_;
}

TraceRegistry::TraceRegistry(RandomSource& random, size_t max_open)
    : random_(random), max_open_(max_open) {}

std::optional<TraceRegistry::Opened> TraceRegistry::Open() {
  Opened opened{RandomToken(random_, 16), std::make_shared<PolicyTrace>()};
  std::lock_guard lock(mutex_);
  if (open_.size() >= max_open_) return std::nullopt;
  open_.emplace(opened.handle, opened.trace);
  return opened;
}

std::shared_ptr<PolicyTrace> TraceRegistry::Claim(std::string_view handle) {
  std::lock_guard lock(mutex_);
  auto found = open_.find(handle);
  if (found == open_.end()) return nullptr;
  std::shared_ptr<PolicyTrace> trace = std::move(found->second);
  open_.erase(found);
  return trace;
}

void TraceRegistry::Close(std::string_view handle) {
  std::lock_guard lock(mutex_);
  auto found = open_.find(handle);
  if (found != open_.end()) open_.erase(found);
}

std::string RedactTokenWords(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!IsTokenCharacter(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    size_t end = i;
    while (end < text.size() && IsTokenCharacter(text[end])) ++end;
    if (end - i >= kMinTokenWordLength) {
      out += "[redacted]";
    } else {
      out.append(text.substr(i, end - i));
    }
    i = end;
  }
  return out;
}

}  // namespace credgate::policy
