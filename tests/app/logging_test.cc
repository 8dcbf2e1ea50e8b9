#include "app/logging.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <string>

namespace credgate::app {
namespace {

// Formats one info record with `message` in `format` and returns the output.
std::string FormatRecord(LogFormat format, std::string_view message) {
  spdlog::details::log_msg record("credgate", spdlog::level::info, message);
  spdlog::memory_buf_t out;
  MakeLogFormatter(format)->format(record, out);
  return std::string(out.data(), out.size());
}

TEST(LogFormatter, TextEscapesLineBreaks) {
  std::string line = FormatRecord(LogFormat::kText, "error=a\n2026-01-01T00:00:00Z info  forged");
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_NE(line.find("error=a\\n2026-01-01T00:00:00Z info  forged"), std::string::npos) << line;
}

TEST(LogFormatter, TextEscapesControlCharacters) {
  std::string line = FormatRecord(LogFormat::kText, std::string("a\rb\tc\x1b[31md\x7f", 12));
  EXPECT_NE(line.find("a\\rb\\tc\\x1b[31md\\x7f"), std::string::npos) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
}

TEST(LogFormatter, TextHasTimeLevelAndMessage) {
  std::string line = FormatRecord(LogFormat::kText, "store opened kind=sqlite");
  ASSERT_GE(line.size(), 24u);
  EXPECT_EQ(line[4], '-');
  EXPECT_EQ(line[23], 'Z');
  EXPECT_NE(line.find(" info  store opened kind=sqlite\n"), std::string::npos) << line;
}

TEST(LogFormatter, JsonEscapesLineBreaks) {
  std::string line = FormatRecord(LogFormat::kJson, "a\n\"b\"");
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_NE(line.find(R"("message":"a\n\"b\"")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("level":"info")"), std::string::npos) << line;
}

}  // namespace
}  // namespace credgate::app
