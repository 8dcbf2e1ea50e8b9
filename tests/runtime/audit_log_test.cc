// AuditLog: lines queued from several threads all reach the file, each whole, by the time the
// log is destroyed. The file's mode is checked when it is opened.
#include "runtime/audit_log.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace credgate::runtime {
namespace {

std::string_view Text(const boost::json::value& value) { return value.as_string(); }

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/credgate-audit-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    path_ = dir_ + "/audit.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::vector<std::string> Lines() const {
    std::ifstream file(path_);
    std::vector<std::string> lines;
    for (std::string line; std::getline(file, line);) lines.push_back(line);
    return lines;
  }

  std::string dir_;
  std::string path_;
  SystemClock clock_;
};

TEST_F(AuditLogTest, EveryEventFromEveryThreadIsWritten) {
  {
    auto log = AuditLog::Open(path_, clock_);
    ASSERT_TRUE(log.ok()) << log.error().message;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 500; ++i) {
          (*log)->Record(boost::json::object{{"event", "token.issued"}, {"thread", t}, {"i", i}});
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2000u);
  for (const auto& line : lines) {
    boost::system::error_code error;
    boost::json::value event = boost::json::parse(line, error);
    ASSERT_FALSE(error) << line;
    EXPECT_TRUE(event.as_object().contains("time")) << line;
  }
}

TEST_F(AuditLogTest, LineReachesFileWhileLogRuns) {
  auto log = AuditLog::Open(path_, clock_);
  ASSERT_TRUE(log.ok()) << log.error().message;
  (*log)->Record(boost::json::object{{"event", "management.change"}});
  // The writer wakes every kFlushInterval, so the line arrives without the destructor's flush.
  for (int attempt = 0; attempt < 200 && Lines().empty(); ++attempt) {
    std::this_thread::sleep_for(AuditLog::kFlushInterval / 4);
  }
  EXPECT_EQ(Lines().size(), 1u);
}

TEST_F(AuditLogTest, NewFileHasMode0600) {
  auto log = AuditLog::Open(path_, clock_);
  ASSERT_TRUE(log.ok());
  struct stat info {};
  ASSERT_EQ(::stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
}

TEST_F(AuditLogTest, FileReadableByOthersIsRejected) {
  { std::ofstream(path_) << ""; }
  ::chmod(path_.c_str(), 0644);
  auto log = AuditLog::Open(path_, clock_);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().message.find("chmod 600"), std::string::npos);
}

TEST(FormatAuditTimeTest, PadsMillisecondsAndFollowsTheSecond) {
  const TimePoint second = TimePoint(std::chrono::seconds(1767323045));  // 2026-01-02T03:04:05Z
  EXPECT_EQ(FormatAuditTime(second + std::chrono::milliseconds(678)), "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(FormatAuditTime(second + std::chrono::milliseconds(5)), "2026-01-02T03:04:05.005Z");
  EXPECT_EQ(FormatAuditTime(second + std::chrono::milliseconds(1040)), "2026-01-02T03:04:06.040Z");
  EXPECT_EQ(FormatAuditTime(second - std::chrono::hours(24)), "2026-01-01T03:04:05.000Z");
}

TEST_F(AuditLogTest, TokenEventsAreLoggedAtDebugOnly) {
  auto ring = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  auto logger = std::make_shared<spdlog::logger>("audit", ring);
  logger->set_level(spdlog::level::info);
  spdlog::drop("audit");
  spdlog::register_logger(logger);
  {
    auto log = AuditLog::Open(path_, clock_);
    ASSERT_TRUE(log.ok()) << log.error().message;
    (*log)->Record(boost::json::object{{"event", "token.issued"}});
    (*log)->Record(boost::json::object{{"event", "management.change"}});
  }
  spdlog::drop("audit");
  const std::vector<std::string> logged = ring->last_formatted();
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_NE(logged[0].find("management.change"), std::string::npos) << logged[0];
  EXPECT_EQ(Lines().size(), 2u);
}

TEST_F(AuditLogTest, TokenIssuedLineMatchesObjectLine) {
  // Quotes, backslashes, control characters and UTF-8 must be escaped as Boost.JSON does.
  const std::string long_id(300, 'x');
  const std::string odd = "a\"b\\c\nd\x01e\x7f f\xc3\xa9";
  TokenIssuedEvent event;
  event.request_id = "req-1";
  event.connection = "github/alice";
  event.identity_type = "jwt";
  event.caller_tenant_id = odd;
  event.caller_object_id = "";
  event.caller_app_id = long_id;
  FakeClock clock;
  {
    auto log = AuditLog::Open(path_, clock);
    ASSERT_TRUE(log.ok()) << log.error().message;
    (*log)->RecordTokenIssued(event);
    (*log)->Record(TokenIssuedObject(event));
  }
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], lines[1]);
  const boost::json::object parsed = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(Text(parsed.at("event")), "token.issued");
  EXPECT_EQ(Text(parsed.at("callerTenantId")), odd);
  EXPECT_EQ(Text(parsed.at("callerAppId")), long_id);
  EXPECT_EQ(Text(parsed.at("time")), FormatAuditTime(clock.Now()));
}

TEST_F(AuditLogTest, TokenIssuedValuesEscapeAsBoostJson) {
  // Each value goes once through the line writer and once through boost::json::serialize.
  // The writer copies printable ASCII without the serializer, and `printable` has every such byte.
  std::string printable;
  for (char c = 0x20; c < 0x7f; ++c) printable.push_back(c);
  const std::string values[] = {
      "plain",  "",         "quote\"", "back\\slash",   "ctl\x01",
      "tab\t",  "unit\x1f", "del\x7f", "utf8 \xc3\xa9", std::string("nul\0x", 5),
      printable};
  FakeClock clock;
  {
    auto log = AuditLog::Open(path_, clock);
    ASSERT_TRUE(log.ok()) << log.error().message;
    for (const std::string& value : values) {
      TokenIssuedEvent event;
      event.caller_object_id = value;
      (*log)->RecordTokenIssued(event);
      (*log)->Record(TokenIssuedObject(event));
    }
  }
  const std::vector<std::string> lines = Lines();
  ASSERT_EQ(lines.size(), 2 * std::size(values));
  for (size_t i = 0; i < std::size(values); ++i) {
    EXPECT_EQ(lines[2 * i], lines[2 * i + 1]) << "value " << i;
    const boost::json::object parsed = boost::json::parse(lines[2 * i]).as_object();
    EXPECT_EQ(Text(parsed.at("callerObjectId")), values[i]) << "value " << i;
  }
}

TEST_F(AuditLogTest, DefaultSinkReceivesTokenIssuedObject) {
  struct Capture final : AuditSink {
    void Record(boost::json::object event) override { events.push_back(std::move(event)); }
    std::vector<boost::json::object> events;
  } sink;
  TokenIssuedEvent event;
  event.request_id = "req-2";
  event.connection = "github/bob";
  event.identity_type = "managed";
  sink.RecordTokenIssued(event);
  ASSERT_EQ(sink.events.size(), 1u);
  EXPECT_EQ(Text(sink.events[0].at("event")), "token.issued");
  EXPECT_EQ(Text(sink.events[0].at("connection")), "github/bob");
  EXPECT_EQ(Text(sink.events[0].at("identityType")), "managed");
  EXPECT_EQ(sink.events[0].size(), 7u);
}

}  // namespace
}  // namespace credgate::runtime
