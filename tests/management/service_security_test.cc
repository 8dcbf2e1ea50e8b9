// ManagementService's own security: admin key roles, admin key management, the failed
// authentication limit and the audit events, over a real SQLite store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>

#include "../credentials/run_coroutine.h"
#include "crypto/keyring.h"
#include "management/service.h"
#include "runtime/audit_log.h"
#include "runtime/state.h"
#include "store/async_store.h"
#include "store/sqlite_store.h"

namespace credgate::management {
namespace {

using credentials::testing::RunCoroutine;

constexpr char kBootstrapKey[] = "bootstrap-key-for-tests-0123456789";
constexpr char kApiBody[] =
    R"({"properties":{"displayName":"Echo","path":"echo","serviceUrl":"https://echo.example"}})";

class CapturingAudit final : public runtime::AuditSink {
 public:
  void Record(boost::json::object event) override { events.push_back(std::move(event)); }
  std::vector<boost::json::object> events;
};

class ServiceSecurityTest : public testing::Test {
 protected:
  void SetUp() override {
    folder_ = std::filesystem::temp_directory_path() /
              ("credgate-service-security-" + std::to_string(::getpid()) + "-" +
               testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(folder_);
    std::filesystem::create_directories(folder_);
    auto sqlite = store::SqliteStore::Open({.path = (folder_ / "credgate.db").string()});
    ASSERT_TRUE(sqlite.ok()) << sqlite.error().message;
    store_ = std::make_unique<store::AsyncStore>(std::move(*sqlite));
    auto keyring = crypto::Keyring::Create({crypto::MasterKey{"k1", Secret(std::string(32, 'a'))}});
    ASSERT_TRUE(keyring.ok());
    keyring_.emplace(std::move(*keyring));

    services_.clock = &clock_;
    services_.config = &config_;
    services_.statuses = &statuses_;
    services_.store = store_.get();
    services_.keyring = &*keyring_;
    services_.audit = &audit_;
    admin_keys_.Add(Secret(kBootstrapKey));
    ManagementSecurityOptions security;
    security.auth_failure_limits = AuthFailureLimits{3, std::chrono::seconds(60), 100};
    service_ = std::make_unique<ManagementService>(services_, admin_keys_, security);
  }
  void TearDown() override {
    service_.reset();
    store_.reset();
    std::filesystem::remove_all(folder_);
  }

  ManagementResponse Call(std::string method, std::string target, std::string key,
                          std::string body = "", std::string peer = "192.0.2.1") {
    ManagementRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.authorization = key.empty() ? "" : "Bearer " + key;
    request.body = std::move(body);
    request.client_address = std::move(peer);
    request.request_id = "req-1";
    return RunCoroutine(service_->Handle(std::move(request)));
  }

  // Creates an admin key with the bootstrap key and returns its text.
  std::string CreateKey(const std::string& id, const std::string& role) {
    auto response = Call("PUT", "/adminKeys/" + id, kBootstrapKey,
                         R"({"properties":{"role":")" + role + R"("}})");
    EXPECT_EQ(response.status, 201) << response.body;
    auto body = boost::json::parse(response.body).as_object();
    return std::string(body["properties"].as_object()["key"].as_string());
  }

  std::filesystem::path folder_;
  FakeClock clock_;
  runtime::ConfigState config_;
  runtime::ConnectionStatusTable statuses_;
  std::unique_ptr<store::AsyncStore> store_;
  std::optional<crypto::Keyring> keyring_;
  CapturingAudit audit_;
  runtime::Services services_;
  AdminKeys admin_keys_;
  std::unique_ptr<ManagementService> service_;
};

TEST_F(ServiceSecurityTest, CreatedKeyIsShownOnce) {
  std::string key = CreateKey("ci", "reader");
  EXPECT_TRUE(key.starts_with("cgk_"));
  auto list = Call("GET", "/adminKeys", kBootstrapKey);
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("\"ci\""), std::string::npos);
  EXPECT_EQ(list.body.find(key), std::string::npos);
}

TEST_F(ServiceSecurityTest, ReaderMayOnlyRead) {
  std::string key = CreateKey("viewer", "reader");
  EXPECT_EQ(Call("GET", "/apis", key).status, 200);
  auto denied = Call("PUT", "/apis/echo", key, kApiBody);
  EXPECT_EQ(denied.status, 403);
  EXPECT_NE(denied.body.find("has role 'reader'"), std::string::npos) << denied.body;
}

TEST_F(ServiceSecurityTest, OperatorMayChangeResources) {
  std::string key = CreateKey("deployer", "operator");
  EXPECT_EQ(Call("PUT", "/apis/echo", key, kApiBody).status, 201);
  EXPECT_EQ(Call("GET", "/adminKeys", key).status, 403);
  EXPECT_EQ(Call("POST", "/masterKeys/rewrap", key).status, 403);
}

TEST_F(ServiceSecurityTest, RevokedKeyIsRejected) {
  std::string key = CreateKey("temporary", "operator");
  EXPECT_EQ(Call("DELETE", "/adminKeys/temporary", kBootstrapKey).status, 200);
  EXPECT_EQ(Call("GET", "/apis", key).status, 401);
  EXPECT_EQ(Call("DELETE", "/adminKeys/temporary", kBootstrapKey).status, 204);
}

TEST_F(ServiceSecurityTest, DuplicateIdConflicts) {
  CreateKey("ci", "reader");
  auto again = Call("PUT", "/adminKeys/ci", kBootstrapKey, R"({"properties":{"role":"admin"}})");
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST_F(ServiceSecurityTest, InvalidRoleIsRejected) {
  auto response = Call("PUT", "/adminKeys/ci", kBootstrapKey, R"({"properties":{"role":"root"}})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("reader, operator or admin"), std::string::npos);
}

TEST_F(ServiceSecurityTest, BootstrapIdIsReserved) {
  auto response =
      Call("PUT", "/adminKeys/bootstrap", kBootstrapKey, R"({"properties":{"role":"admin"}})");
  EXPECT_EQ(response.status, 400);
}

TEST_F(ServiceSecurityTest, FailuresLeadToRetryAfter) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("GET", "/apis", "wrong-key").status, 401);
  auto limited = Call("GET", "/apis", kBootstrapKey);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.retry_after_seconds, 60);
  EXPECT_EQ(service_->counters().rate_limited.load(), 1u);
  EXPECT_EQ(service_->counters().unauthenticated.load(), 3u);
}

TEST_F(ServiceSecurityTest, OtherPeerIsNotLimited) {
  for (int i = 0; i < 3; ++i) Call("GET", "/apis", "wrong-key");
  EXPECT_EQ(Call("GET", "/apis", kBootstrapKey, "", "192.0.2.2").status, 200);
}

TEST_F(ServiceSecurityTest, LimitEndsAfterWindow) {
  for (int i = 0; i < 3; ++i) Call("GET", "/apis", "wrong-key");
  clock_.Advance(std::chrono::seconds(61));
  EXPECT_EQ(Call("GET", "/apis", kBootstrapKey).status, 200);
}

TEST_F(ServiceSecurityTest, ChangeIsAudited) {
  std::string key = CreateKey("deployer", "operator");
  ASSERT_EQ(Call("PUT", "/apis/echo", key, kApiBody).status, 201);
  ASSERT_EQ(audit_.events.size(), 2u);
  const auto& event = audit_.events[1];
  EXPECT_EQ(event.at("event"), "management.change");
  EXPECT_EQ(event.at("actor").at("id"), "deployer");
  EXPECT_EQ(event.at("actor").at("role"), "operator");
  EXPECT_EQ(event.at("method"), "PUT");
  EXPECT_EQ(event.at("path"), "/apis/echo");
  EXPECT_EQ(event.at("status"), 201);
  EXPECT_EQ(event.at("peer"), "192.0.2.1");
  EXPECT_EQ(event.at("requestId"), "req-1");
}

TEST_F(ServiceSecurityTest, AuditNamesConnection) {
  Call("DELETE", "/authorizationProviders/p/authorizations/a", kBootstrapKey);
  ASSERT_EQ(audit_.events.size(), 1u);
  EXPECT_EQ(audit_.events[0].at("connection"), "p/a");
  EXPECT_EQ(audit_.events[0].at("provider"), "p");
}

TEST_F(ServiceSecurityTest, DeniedChangeIsAudited) {
  std::string key = CreateKey("viewer", "reader");
  Call("DELETE", "/apis/echo", key);
  ASSERT_EQ(audit_.events.size(), 2u);
  EXPECT_EQ(audit_.events[1].at("status"), 403);
}

TEST_F(ServiceSecurityTest, AuditHoldsNoKey) {
  std::string key = CreateKey("ci", "admin");
  Call("DELETE", "/adminKeys/ci", key);
  for (const auto& event : audit_.events) {
    std::string line = boost::json::serialize(event);
    EXPECT_EQ(line.find(key), std::string::npos) << line;
    EXPECT_EQ(line.find(kBootstrapKey), std::string::npos) << line;
  }
}

TEST_F(ServiceSecurityTest, DeclaredResourceIsAudited) {
  auto applied = RunCoroutine(service_->ApplyDeclared("/apis/echo", kApiBody));
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  ASSERT_EQ(audit_.events.size(), 1u);
  EXPECT_EQ(audit_.events[0].at("actor").at("type"), "declared");
  EXPECT_EQ(audit_.events[0].at("path"), "/apis/echo");
}

TEST_F(ServiceSecurityTest, ReadsAreNotAudited) {
  Call("GET", "/apis", kBootstrapKey);
  EXPECT_TRUE(audit_.events.empty());
}

TEST_F(ServiceSecurityTest, MasterKeysListsIds) {
  auto response = Call("GET", "/masterKeys", kBootstrapKey);
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"activeKeyId":"k1","keyIds":["k1"]})");
}

}  // namespace
}  // namespace credgate::management
