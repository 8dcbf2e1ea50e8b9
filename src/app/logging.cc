#include "app/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

namespace credgate::app {

namespace {

void AppendJsonEscaped(std::string_view text, spdlog::memory_buf_t& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    switch (c) {
      case '"':
        out.append(std::string_view("\\\""));
        break;
      case '\\':
        out.append(std::string_view("\\\\"));
        break;
      case '\n':
        out.append(std::string_view("\\n"));
        break;
      case '\r':
        out.append(std::string_view("\\r"));
        break;
      case '\t':
        out.append(std::string_view("\\t"));
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          const char escape[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 0xf], kHex[c & 0xf]};
          out.append(std::string_view(escape, sizeof(escape)));
        } else {
          out.push_back(c);
        }
    }
  }
}

// Appends `text` with every control character escaped (\n, \r, \t, \xNN), so that a value
// taken from a request or a provider response cannot start a forged log line.
void AppendTextEscaped(std::string_view text, spdlog::memory_buf_t& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out.append(std::string_view("\\n"));
    } else if (c == '\r') {
      out.append(std::string_view("\\r"));
    } else if (c == '\t') {
      out.append(std::string_view("\\t"));
    } else if (byte < 0x20 || byte == 0x7f) {
      const char escape[] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
      out.append(std::string_view(escape, sizeof(escape)));
    } else {
      out.push_back(c);
    }
  }
}

// Appends the record's time as RFC 3339 UTC with milliseconds, for example
// 2026-01-31T12:00:00.123Z.
void AppendTime(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  auto since_epoch = msg.time.time_since_epoch();
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char time_text[40];
  size_t length = std::strftime(time_text, sizeof(time_text), "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(time_text + length, sizeof(time_text) - length, ".%03dZ",
                static_cast<int>(millis % 1000));
  dest.append(std::string_view(time_text));
}

// Formats each record as "<time> <level> <message>" on one line.
class TextLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    AppendTime(msg, dest);
    dest.push_back(' ');
    auto level = spdlog::level::to_string_view(msg.level);
    dest.append(std::string_view(level.data(), level.size()));
    for (size_t i = level.size(); i < 5; ++i) dest.push_back(' ');
    dest.push_back(' ');
    AppendTextEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextLineFormatter>();
  }
};

// Formats each record as one JSON object on one line.
class JsonLineFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    dest.append(std::string_view("{\"time\":\""));
    AppendTime(msg, dest);
    dest.append(std::string_view("\",\"level\":\""));
    auto level = spdlog::level::to_string_view(msg.level);
    dest.append(std::string_view(level.data(), level.size()));
    dest.append(std::string_view("\",\"logger\":\""));
    AppendJsonEscaped(std::string_view(msg.logger_name.data(), msg.logger_name.size()), dest);
    dest.append(std::string_view("\",\"message\":\""));
    AppendJsonEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.append(std::string_view("\"}\n"));
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLineFormatter>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonLineFormatter>();
  return std::make_unique<TextLineFormatter>();
}

Result<LogFormat> ParseLogFormat(std::string_view value) {
  if (value == "text") return LogFormat::kText;
  if (value == "json") return LogFormat::kJson;
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid log format '" + std::string(value) + "': use 'text' or 'json'");
}

Status ValidateLogLevel(std::string_view level) {
  auto parsed_level = spdlog::level::from_str(std::string(level));
  if (parsed_level == spdlog::level::off && level != "off") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid log level '" + std::string(level) +
                         "': use trace, debug, info, warn, error, critical or off");
  }
  return OkStatus();
}

Status InitLogging(LogFormat format, std::string_view level) {
  CREDGATE_RETURN_IF_ERROR(ValidateLogLevel(level));
  auto parsed_level = spdlog::level::from_str(std::string(level));
  auto logger = std::make_shared<spdlog::logger>(
      "credgate", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(MakeLogFormatter(format));
  logger->set_level(parsed_level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
  return OkStatus();
}

}  // namespace credgate::app
