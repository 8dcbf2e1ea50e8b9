// A temporary data folder per test and helpers to open a SqliteStore in it.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "store/sqlite_store.h"

namespace credgate::store {

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-store-" + std::to_string(::getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    path_ = (folder_ / "credgate.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(folder_); }

  std::unique_ptr<SqliteStore> OpenStore(
      std::span<const Migration> migrations = SqliteMigrations()) {
    auto store = SqliteStore::Open({.path = path_, .migrations = migrations});
    EXPECT_TRUE(store.ok()) << store.error().message;
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::filesystem::path folder_;
  std::string path_;
};

inline ResourceRecord Resource(std::string kind, std::string key, std::string parent_key,
                               std::string body_json = "{}") {
  return ResourceRecord{
      std::move(kind), std::move(key), std::move(parent_key), std::move(body_json), 0,
      1'700'000'000};
}

inline TokenRecord Tokens(std::string connection_key, std::string sealed_tokens) {
  return TokenRecord{std::move(connection_key), std::move(sealed_tokens), 0, 1'700'003'600,
                     1'700'000'000};
}

}  // namespace credgate::store
