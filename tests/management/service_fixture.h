// ServiceTest: the fixture of the management resource tests. Each test gets a ManagementService
// over a real SQLite store in a temporary folder of its own, a keyring with one fixed master key,
// a FakeClock and the admin key kAdminKey. TearDown deletes the folder.
//
// A suite derives from ServiceTest. Its own SetUp calls ServiceTest::SetUp() first and, unless
// that had a fatal failure, creates what its cases share, for example with CreateEchoApi().
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "../credentials/run_coroutine.h"
#include "common/clock.h"
#include "crypto/keyring.h"
#include "management/service.h"
#include "runtime/state.h"
#include "store/async_store.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace credgate::management {

class ServiceTest : public ::testing::Test {
 protected:
  static constexpr char kAdminKey[] = "bootstrap-key-for-tests-0123456789";
  // The body of PUT /apis/echo, an API with the path "echo".
  static constexpr char kEchoApiBody[] =
      R"({"properties":{"displayName":"Echo","path":"echo","serviceUrl":"https://echo.example"}})";

  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() / FolderName();
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    auto sqlite = store::SqliteStore::Open({.path = DatabasePath()});
    ASSERT_TRUE(sqlite.ok()) << sqlite.error().message;
    store_ = std::make_unique<store::AsyncStore>(std::move(*sqlite));

    auto keyring = crypto::Keyring::Create({crypto::MasterKey{"k1", Secret(std::string(32, 'a'))}});
    ASSERT_TRUE(keyring.ok()) << keyring.error().message;
    keyring_.emplace(std::move(*keyring));

    services_.clock = &clock_;
    services_.config = &config_;
    services_.statuses = &statuses_;
    services_.store = store_.get();
    services_.keyring = &*keyring_;
    admin_keys_.Add(Secret(kAdminKey));
    service_ =
        std::make_unique<ManagementService>(services_, admin_keys_, ManagementSecurityOptions{});
  }

  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(folder_);
  }

  std::string DatabasePath() const { return (folder_ / "credgate.db").string(); }

  // Sends one management request with the admin key and returns the response.
  ManagementResponse Call(std::string method, std::string target, std::string body = "") {
    ManagementRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.authorization = std::string("Bearer ") + kAdminKey;
    request.body = std::move(body);
    request.client_address = "192.0.2.1";
    request.request_id = "req-1";
    return credentials::testing::RunCoroutine(service_->Handle(std::move(request)));
  }

  // Parses the response body as a JSON object.
  static boost::json::object Json(const ManagementResponse& response) {
    return boost::json::parse(response.body).as_object();
  }

  // Creates the API "echo" and fails the test unless the service returns 201.
  void CreateEchoApi() {
    auto created = Call("PUT", "/apis/echo", kEchoApiBody);
    ASSERT_EQ(created.status, 201) << created.body;
  }

  // Reads the stored record of `kind` under the store key `key` (such as "backends/orders").
  Result<store::ResourceRecord> StoredRecord(const std::string& kind, const std::string& key) {
    auto get = [kind, key](store::Store& s) { return s.Get(kind, key); };
    return credentials::testing::RunCoroutine(store_->Run(std::move(get)));
  }

  std::filesystem::path folder_;
  FakeClock clock_;
  runtime::ConfigState config_;
  runtime::ConnectionStatusTable statuses_;
  std::unique_ptr<store::AsyncStore> store_;
  std::optional<crypto::Keyring> keyring_;
  runtime::Services services_;
  AdminKeys admin_keys_;
  std::unique_ptr<ManagementService> service_;

 private:
  // "credgate-<suite>-<pid>-<test>", with the '/' of parameterized names replaced, so that
  // parallel test processes and the cases of one suite never share a folder.
  static std::string FolderName() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("credgate-") + info->test_suite_name() + "-" +
                       std::to_string(::getpid()) + "-" + info->name();
    for (char& c : name) {
      if (c == '/') c = '-';
    }
    return name;
  }
};

}  // namespace credgate::management
