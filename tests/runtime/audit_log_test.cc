// AuditLog: lines queued from several threads all reach the file, each whole, by the time the
// log is destroyed. The file's mode is checked when it is opened.
#include "runtime/audit_log.h"

#include <gtest/gtest.h>
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

}  // namespace
}  // namespace credgate::runtime
