// Backends through ManagementService over a real SQLite store: PUT, GET, list, DELETE, sealed
// credentials, policies that name a backend, and the reload of a stored backend. Also the
// save-time check of the user-assigned identities that policies name, which works the same way.
#include "management/backends.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "management/persistence.h"
#include "runtime/state.h"
#include "service_fixture.h"

namespace credgate::management {
namespace {

constexpr char kBackendBody[] = R"({"properties":{
    "url": "https://orders.example/v2/", "protocol": "http", "description": "Orders",
    "credentials": {
      "header": {"x-api-key": ["header-secret-1", "header-secret-2"]},
      "query": {"code": ["query-secret"]},
      "authorization": {"scheme": "Basic", "parameter": "authorization-secret"}},
    "tls": {"validateCertificateChain": true, "validateCertificateName": true}}})";

std::string PolicyBody(const std::string& inbound) {
  boost::json::object properties{
      {"format", "rawxml"},
      {"value", "<policies><inbound><base/>" + inbound + "</inbound></policies>"}};
  return boost::json::serialize(boost::json::object{{"properties", std::move(properties)}});
}

class BackendsTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (!HasFatalFailure()) CreateEchoApi();
  }

  std::string StoredBody(const std::string& key) {
    auto record = StoredRecord("backend", key);
    EXPECT_TRUE(record.ok());
    return record.ok() ? record->body_json : "";
  }
};

TEST_F(BackendsTest, PutGetListDelete) {
  auto created = Call("PUT", "/backends/orders", kBackendBody);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Call("PUT", "/backends/orders", kBackendBody).status, 200);
  auto got = Call("GET", "/backends/orders");
  ASSERT_EQ(got.status, 200);
  auto body = boost::json::parse(got.body).as_object();
  EXPECT_EQ(body["id"].as_string(), "/backends/orders");
  EXPECT_EQ(body["type"].as_string(), "Microsoft.ApiManagement/service/backends");
  auto& properties = body["properties"].as_object();
  EXPECT_EQ(properties["url"].as_string(), "https://orders.example/v2");
  EXPECT_EQ(properties["description"].as_string(), "Orders");
  auto& credentials = properties["credentials"].as_object();
  EXPECT_TRUE(credentials["header"].as_object()["x-api-key"].as_array().empty());
  EXPECT_EQ(credentials["authorization"].as_object()["scheme"].as_string(), "Basic");
  EXPECT_EQ(got.body.find("secret"), std::string::npos) << got.body;

  auto list = Call("GET", "/backends");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(boost::json::parse(list.body).as_object()["value"].as_array().size(), 1u);
  EXPECT_EQ(Call("DELETE", "/backends/orders").status, 200);
  EXPECT_EQ(Call("GET", "/backends/orders").status, 404);
  EXPECT_EQ(Call("DELETE", "/backends/orders").status, 204);
}

TEST_F(BackendsTest, CredentialsStoredSealed) {
  ASSERT_EQ(Call("PUT", "/backends/orders", kBackendBody).status, 201);
  const std::string stored = StoredBody("backends/orders");
  EXPECT_NE(stored.find("sealedCredentials"), std::string::npos) << stored;
  EXPECT_EQ(stored.find("secret"), std::string::npos) << stored;
  const auto& backend = config_.Current()->backends.at("orders")->resource;
  ASSERT_EQ(backend.headers.size(), 1u);
  ASSERT_EQ(backend.headers[0].values.size(), 2u);
  EXPECT_EQ(backend.headers[0].values[1].Expose(), "header-secret-2");
  EXPECT_EQ(backend.authorization_parameter.Expose(), "authorization-secret");
}

TEST_F(BackendsTest, StoredBackendReloads) {
  ASSERT_EQ(Call("PUT", "/backends/orders", kBackendBody).status, 201);
  auto record = StoredRecord("backend", "backends/orders");
  ASSERT_TRUE(record.ok());
  runtime::ConfigState reloaded;
  services_.config = &reloaded;
  Status applied = ApplyStoredRecord(*record, services_);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  const auto& backend = reloaded.Current()->backends.at("orders")->resource;
  ASSERT_EQ(backend.query.size(), 1u);
  EXPECT_EQ(backend.query[0].values[0].Expose(), "query-secret");
  EXPECT_EQ(backend.authorization_parameter.Expose(), "authorization-secret");
  services_.config = &config_;
}

TEST_F(BackendsTest, UncompilableStoredPolicyFailsClosed) {
  ASSERT_EQ(Call("PUT", "/backends/orders", kBackendBody).status, 201);
  ASSERT_EQ(Call("PUT", "/apis/echo/policies/policy",
                 PolicyBody(R"(<set-backend-service backend-id="orders"/>)"))
                .status,
            201);
  auto record = StoredRecord("policy", "apis/echo/policies/policy");
  ASSERT_TRUE(record.ok()) << record.error().message;
  ASSERT_EQ(Call("DELETE", "/apis/echo/policies/policy").status, 200);
  ASSERT_EQ(Call("DELETE", "/backends/orders").status, 200);

  // As when another gateway deleted the backend while this policy was being saved.
  Status applied = ApplyStoredRecord(*record, services_);
  ASSERT_TRUE(applied.ok()) << applied.error().message;

  const auto& api = *config_.Current()->apis.at("echo");
  ASSERT_TRUE(api.policy.has_value());
  EXPECT_NE(api.policy->xml.find(R"(backend-id="orders")"), std::string::npos);
  ASSERT_NE(api.document, nullptr);
  const auto& inbound = api.document->sections[static_cast<size_t>(policy::Section::kInbound)];
  ASSERT_TRUE(inbound.has_value());
  ASSERT_EQ(inbound->size(), 1u);
  EXPECT_EQ(inbound->front().name, "return-response");
}

TEST_F(BackendsTest, PolicyWithMissingBackendRejected) {
  auto response = Call("PUT", "/apis/echo/policies/policy",
                       PolicyBody(R"(<set-backend-service backend-id="orders"/>)"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("names backend 'orders', which does not exist"), std::string::npos)
      << response.body;
}

TEST_F(BackendsTest, DeleteOfUsedBackendConflicts) {
  ASSERT_EQ(Call("PUT", "/backends/orders", kBackendBody).status, 201);
  ASSERT_EQ(Call("PUT", "/apis/echo/policies/policy",
                 PolicyBody(R"(<set-backend-service backend-id="orders"/>)"))
                .status,
            201);
  auto response = Call("DELETE", "/backends/orders");
  EXPECT_EQ(response.status, 409);
  EXPECT_NE(response.body.find("/apis/echo/policies/policy"), std::string::npos) << response.body;
  ASSERT_EQ(Call("DELETE", "/apis/echo/policies/policy").status, 200);
  EXPECT_EQ(Call("DELETE", "/backends/orders").status, 200);
}

TEST_F(BackendsTest, PolicyWithUnknownClientIdRejected) {
  ASSERT_TRUE(config_
                  .Update([](runtime::Snapshot& next) {
                    next.managed_identity_client_ids.insert("known-client");
                    return OkStatus();
                  })
                  .ok());
  auto rejected = Call("PUT", "/apis/echo/policies/policy",
                       PolicyBody(R"(<authentication-managed-identity resource="api://a"
                           client-id="other-client"/>)"));
  EXPECT_EQ(rejected.status, 400);
  EXPECT_NE(rejected.body.find("names client-id 'other-client'"), std::string::npos)
      << rejected.body;
  auto saved = Call("PUT", "/apis/echo/policies/policy",
                    PolicyBody(R"(<authentication-managed-identity resource="api://a"
                        client-id="known-client"/>)"));
  EXPECT_EQ(saved.status, 201) << saved.body;
}

struct RejectCase {
  std::string name;
  std::string properties;
  std::string expected;  // A substring of the error.
};

class BackendRejectTest : public BackendsTest, public testing::WithParamInterface<RejectCase> {};

TEST_P(BackendRejectTest, Rejects) {
  auto response = Call("PUT", "/backends/b", R"({"properties":{)" + GetParam().properties + "}}");
  EXPECT_EQ(response.status, 400) << response.body;
  EXPECT_NE(response.body.find(GetParam().expected), std::string::npos) << response.body;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BackendRejectTest,
    testing::Values(RejectCase{"NoUrl", R"("protocol":"http")", "'properties.url' is required"},
                    RejectCase{"Soap", R"("url":"https://a.example","protocol":"soap")",
                               "credgate sends HTTP requests only"},
                    RejectCase{"FtpUrl", R"("url":"ftp://a.example","protocol":"http")",
                               "use an absolute http or https URL"},
                    RejectCase{"ChainOff",
                               R"("url":"https://a.example","protocol":"http",
                      "tls":{"validateCertificateChain":false})",
                               "credgate always validates backend certificates"},
                    RejectCase{"ClientCertificate",
                               R"("url":"https://a.example","protocol":"http",
                      "credentials":{"certificateIds":["c"]})",
                               "does not send client certificates"},
                    RejectCase{"EmptyHeaderValues",
                               R"("url":"https://a.example","protocol":"http",
                      "credentials":{"header":{"x-key":[]}})",
                               "must be a non-empty list of strings"},
                    RejectCase{"BadHeaderName",
                               R"("url":"https://a.example","protocol":"http",
                      "credentials":{"header":{"x key":["v"]}})",
                               "invalid name 'x key'"},
                    RejectCase{"ServiceFabric",
                               R"("url":"fabric:/app/svc","protocol":"http",
                      "serviceFabricCluster":{"managementEndpoints":["https://c"]})",
                               "cannot resolve Service Fabric services"},
                    RejectCase{"Pool",
                               R"("url":"https://a.example","protocol":"http","type":"Pool")",
                               "only single backends"},
                    RejectCase{"AuthorizationWithoutParameter",
                               R"("url":"https://a.example","protocol":"http",
                      "credentials":{"authorization":{"scheme":"Bearer"}})",
                               "'properties.credentials.authorization.parameter' is required"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace credgate::management
