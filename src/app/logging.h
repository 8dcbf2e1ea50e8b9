// Process-wide logging setup on spdlog. Modules log through spdlog's default logger; this file
// only decides the format. With LogFormat::kJson every line is one JSON object
// {"time","level","logger","message"} so that log shippers need no parsing rules. Messages carry
// ids (request id, provider, connection) as `key=value` pairs and never a secret.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace credgate::app {

enum class LogFormat { kText, kJson };

// Parses "text" or "json".
Result<LogFormat> ParseLogFormat(std::string_view value);

// Returns an error unless `level` is one of spdlog's level names (trace, debug, info, warn,
// error, critical, off).
Status ValidateLogLevel(std::string_view level);

// Returns the formatter of `format`. Both write one line per record: the text format escapes
// control characters in the message as \n, \r, \t or \xNN, and the JSON format escapes them
// as JSON does, so no logged value can start a line of its own.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

// Installs the default logger writing to stderr. `level` is one of spdlog's names (trace,
// debug, info, warn, error, critical, off).
Status InitLogging(LogFormat format, std::string_view level);

}  // namespace credgate::app
