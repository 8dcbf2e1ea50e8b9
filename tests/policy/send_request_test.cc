#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cctype>
#include <optional>
#include <set>

#include "../crypto/test_certificates.h"
#include "crypto/certificate.h"
#include "policy/document.h"
#include "policy/executor.h"

namespace credgate::policy {
namespace {

class HttpServices : public PolicyServices {
 public:
  boost::asio::awaitable<Result<Value>> GetAuthorizationContext(const AuthorizationContextRequest&,
                                                                PolicyContext&) override {
    co_return MakeError(ErrorCode::kInternal, "not used");
  }
  boost::asio::awaitable<Result<http::ClientResponse>> SendRequest(
      http::ClientRequest request) override {
    sent.push_back(request);
    co_return response;
  }
  boost::asio::awaitable<void> SendOneWayRequest(http::ClientRequest request) override {
    one_way.push_back(std::move(request));
    co_return;
  }

  boost::asio::awaitable<Result<Secret>> GetManagedIdentityToken(std::string resource,
                                                                  std::string client_id) override {
    resources.push_back(resource);
    client_ids.push_back(client_id);
    co_return managed_token;
  }

  std::vector<http::ClientRequest> sent;
  std::vector<http::ClientRequest> one_way;
  std::vector<std::string> resources;
  std::vector<std::string> client_ids;
  Result<Secret> managed_token = Secret(std::string("mi-token"));
  Result<http::ClientResponse> response = http::ClientResponse{
      201, {{"Content-Type", "application/json"}, {"x-a", "1"}, {"X-A", "2"}}, R"({"ok":true})"};
};

class SendRequestTest : public ::testing::Test {
 protected:
  SendRequestTest() {
    context_.request.method = "PUT";
    context_.request.headers.Set("Host", "gateway.example");
    context_.request.headers.Set("X-Trace", "t1");
    context_.request.body = "original";
  }

  ExecutionOutcome Run(const std::string& xml, const CertificateLookup& certificates = nullptr) {
    auto document = CompilePolicyDocument(xml, PolicyScope::kGlobal, nullptr, certificates);
    EXPECT_TRUE(document.ok()) << document.error().message;
    if (!document.ok()) return ExecutionOutcome::kContinue;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    pipeline_ = ComposePipeline(shared, nullptr, nullptr).value();
    boost::asio::io_context io;
    std::optional<ExecutionOutcome> outcome;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          outcome = co_await Execute(*pipeline_, Section::kInbound, context_, services_);
        },
        boost::asio::detached);
    io.run();
    return outcome.value_or(ExecutionOutcome::kContinue);
  }

  std::string CompileError(const std::string& inbound) {
    auto document = CompilePolicyDocument("<policies><inbound>" + inbound + "</inbound></policies>",
                                          PolicyScope::kGlobal);
    return document.ok() ? "<compiled>" : document.error().message;
  }

  static std::string Header(const http::ClientRequest& request, std::string_view name) {
    for (const auto& [key, value] : request.headers) {
      if (key == name) return value;
    }
    return "<absent>";
  }

  PolicyContext context_;
  HttpServices services_;
  std::shared_ptr<const CompiledPipeline> pipeline_;
};

TEST_F(SendRequestTest, NewModeBuildsRequest) {
  EXPECT_EQ(Run(R"x(<policies><inbound>
    <send-request mode="new" response-variable-name="r" timeout="5">
      <set-url>@("https://lookup.example/users/" + context.Request.Method)</set-url>
      <set-method>POST</set-method>
      <set-header name="Content-Type" exists-action="override"><value>application/json</value></set-header>
      <set-body>{"q":1}</set-body>
    </send-request>
    <set-variable name="body" value="@(((IResponse)context.Variables[&quot;r&quot;]).Body.As&lt;string&gt;())" />
    <set-variable name="x-a" value="@(((IResponse)context.Variables[&quot;r&quot;]).Headers.GetValueOrDefault(&quot;x-a&quot;, &quot;&quot;))" />
    </inbound></policies>)x"),
            ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.sent.size(), 1u);
  const http::ClientRequest& sent = services_.sent[0];
  EXPECT_EQ(sent.url, "https://lookup.example/users/PUT");
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(Header(sent, "Content-Type"), "application/json");
  EXPECT_EQ(Header(sent, "X-Trace"), "<absent>");
  EXPECT_EQ(sent.body, R"({"q":1})");
  EXPECT_EQ(sent.timeout, std::chrono::seconds(5));

  const Value& response = context_.variables.at("r");
  ASSERT_TRUE(response.is_object());
  EXPECT_EQ(response.AsObject().GetMember("StatusCode")->AsInt(), 201);
  EXPECT_EQ(context_.variables.at("body").AsString(), R"({"ok":true})");
  EXPECT_EQ(context_.variables.at("x-a").AsString(), "1,2");
}

TEST_F(SendRequestTest, CopyModeCopiesRequest) {
  Run(R"(<policies><inbound><send-request mode="copy" response-variable-name="r">
      <set-url>https://audit.example/copy</set-url></send-request></inbound></policies>)");
  ASSERT_EQ(services_.sent.size(), 1u);
  EXPECT_EQ(services_.sent[0].method, "PUT");
  EXPECT_EQ(Header(services_.sent[0], "X-Trace"), "t1");
  EXPECT_EQ(Header(services_.sent[0], "Host"), "<absent>");
  EXPECT_EQ(services_.sent[0].body, "original");
}

TEST_F(SendRequestTest, FailureRunsOnError) {
  services_.response = MakeError(ErrorCode::kDeadlineExceeded, "timed out");
  EXPECT_EQ(Run(R"(<policies><inbound><send-request response-variable-name="r">
      <set-url>https://slow.example/</set-url></send-request></inbound>
      <on-error><set-body>@(context.LastError.Reason + "|" + context.LastError.Source)</set-body></on-error></policies>)"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 504);
  EXPECT_EQ(context_.response.body, "Timeout|send-request");
}

TEST_F(SendRequestTest, IgnoreErrorStoresNull) {
  services_.response = MakeError(ErrorCode::kUnavailable, "refused");
  EXPECT_EQ(Run(R"(<policies><inbound><send-request response-variable-name="r" ignore-error="true">
      <set-url>https://down.example/</set-url></send-request></inbound></policies>)"),
            ExecutionOutcome::kContinue);
  EXPECT_TRUE(context_.variables.at("r").is_null());
}

TEST_F(SendRequestTest, OneWayDoesNotWait) {
  EXPECT_EQ(Run(R"(<policies><inbound><send-one-way-request mode="new">
      <set-url>https://hook.example/</set-url><set-method>POST</set-method>
      <set-body>event</set-body></send-one-way-request></inbound></policies>)"),
            ExecutionOutcome::kContinue);
  EXPECT_TRUE(services_.sent.empty());
  ASSERT_EQ(services_.one_way.size(), 1u);
  EXPECT_EQ(services_.one_way[0].body, "event");
}

TEST_F(SendRequestTest, RejectsAtSave) {
  EXPECT_NE(CompileError(R"(<send-request response-variable-name="r"/>)").find("needs <set-url>"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(<send-request><set-url>https://a.example/</set-url></send-request>)")
                .find("missing required attribute 'response-variable-name'"),
            std::string::npos);
  EXPECT_NE(
      CompileError(
          R"(<send-request response-variable-name="r" mode="clone"><set-url>https://a.example/</set-url></send-request>)")
          .find("use new or copy"),
      std::string::npos);
  EXPECT_NE(
      CompileError(
          R"(<send-request response-variable-name="r"><set-url>https://a.example/</set-url><proxy url="https://p"/></send-request>)")
          .find("must be an http:// URL"),
      std::string::npos);
  EXPECT_NE(
      CompileError(
          R"(<send-one-way-request ignore-error="true"><set-url>https://a.example/</set-url></send-one-way-request>)")
          .find("unknown attribute 'ignore-error' on <send-one-way-request>"),
      std::string::npos);
  EXPECT_NE(
      CompileError(
          R"(<send-request response-variable-name="r"><set-url>ftp://a</set-url></send-request>)")
          .find("absolute http or https URL"),
      std::string::npos);
}

// <authentication-certificate> and <proxy> inside send-request.
class SendRequestCertificateTest : public SendRequestTest {
 protected:
  ExecutionOutcome RunWith(const std::string& children, const CertificateLookup& certificates) {
    const std::string xml =
        "<policies><inbound><send-request response-variable-name=\"r\">"
        "<set-url>https://a.example/</set-url>" + children + "</send-request></inbound></policies>";
    auto document = CompilePolicyDocument(xml, PolicyScope::kGlobal, nullptr, certificates);
    EXPECT_TRUE(document.ok()) << document.error().message;
    if (!document.ok()) return ExecutionOutcome::kContinue;
    compiled_certificates_ = document->certificates;
    auto shared = std::make_shared<const CompiledDocument>(std::move(document).value());
    pipeline_ = ComposePipeline(shared, nullptr, nullptr).value();
    boost::asio::io_context io;
    std::optional<ExecutionOutcome> outcome;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
          outcome = co_await Execute(*pipeline_, Section::kInbound, context_, services_);
        },
        boost::asio::detached);
    io.run();
    return outcome.value_or(ExecutionOutcome::kContinue);
  }

  std::string CompileErrorWith(const std::string& children, const CertificateLookup& certificates) {
    const std::string xml =
        "<policies><inbound><send-request response-variable-name=\"r\">"
        "<set-url>https://a.example/</set-url>" + children + "</send-request></inbound></policies>";
    auto document = CompilePolicyDocument(xml, PolicyScope::kGlobal, nullptr, certificates);
    return document.ok() ? "<compiled>" : document.error().message;
  }

  CertificateLookup Stored() const {
    return [this](std::string_view id) -> std::shared_ptr<const crypto::Certificate> {
      if (id == "client" || id == "thumbprint:" + with_key_->thumbprint()) return with_key_;
      if (id == "public") return without_key_;
      return nullptr;
    };
  }

  testing::TestKey key_ = testing::MakeRsaKey();
  testing::TestX509 x509_ = testing::MakeCertificate(key_.get(), "client.example");
  std::string pem_ = testing::CertificatePem(x509_.get()) + testing::PrivateKeyPem(key_.get());
  std::shared_ptr<const crypto::Certificate> with_key_ =
      crypto::Certificate::Parse(pem_, Secret()).value();
  std::shared_ptr<const crypto::Certificate> without_key_ =
      crypto::Certificate::Parse(testing::CertificatePem(x509_.get()), Secret()).value();
  std::set<std::string> compiled_certificates_;
};

TEST_F(SendRequestCertificateTest, CertificateIdSetsClientCertificate) {
  EXPECT_EQ(RunWith(R"(<authentication-certificate certificate-id="client"/>)", Stored()),
            ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.sent.size(), 1u);
  EXPECT_EQ(services_.sent[0].client_certificate, with_key_);
  EXPECT_EQ(compiled_certificates_, std::set<std::string>{"client"});
}

TEST_F(SendRequestCertificateTest, ThumbprintFindsStoredCertificate) {
  std::string thumbprint = with_key_->thumbprint();
  for (char& c : thumbprint) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(RunWith("<authentication-certificate thumbprint=\"" + thumbprint + "\"/>", Stored()),
            ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.sent.size(), 1u);
  EXPECT_EQ(services_.sent[0].client_certificate, with_key_);
}

TEST_F(SendRequestCertificateTest, LiteralBodyParsedAtSave) {
  std::string pfx = testing::PfxBase64(x509_.get(), key_.get(), "p1");
  EXPECT_EQ(RunWith("<authentication-certificate body=\"" + pfx + "\" password=\"p1\"/>",
                    nullptr),
            ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.sent.size(), 1u);
  ASSERT_NE(services_.sent[0].client_certificate, nullptr);
  EXPECT_EQ(services_.sent[0].client_certificate->thumbprint(), with_key_->thumbprint());
  std::string error =
      CompileErrorWith("<authentication-certificate body=\"" + pfx + "\" password=\"no\"/>",
                       nullptr);
  EXPECT_NE(error.find("password does not match"), std::string::npos) << error;
}

TEST_F(SendRequestCertificateTest, ExpressionBodyParsedPerRequest) {
  context_.variables["certificate"] = Value(testing::PfxBase64(x509_.get(), key_.get(), "p1"));
  EXPECT_EQ(RunWith(R"xml(<authentication-certificate body="@((string)context.Variables[&quot;certificate&quot;])" password="p1"/>)xml",
                    nullptr),
            ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.sent.size(), 1u);
  ASSERT_NE(services_.sent[0].client_certificate, nullptr);
}

TEST_F(SendRequestCertificateTest, RejectedAtSave) {
  struct Case {
    std::string children;
    std::string expected;
  };
  const Case cases[] = {
      {R"(<authentication-certificate certificate-id="absent"/>)",
       "certificate 'absent' was not found"},
      {R"(<authentication-certificate thumbprint="00FF"/>)",
       "no stored certificate has the thumbprint 00FF"},
      {R"(<authentication-certificate certificate-id="public"/>)", "has no private key"},
      {R"(<authentication-certificate/>)", "exactly one of"},
      {R"(<authentication-certificate certificate-id="client" thumbprint="00"/>)",
       "exactly one of"},
      {R"(<authentication-certificate certificate-id="client" password="x"/>)",
       "belongs with 'body'"},
      {R"(<authentication-certificate body="bm90IGEgY2VydA=="/>)",
       "invalid client certificate in attribute 'body'"},
      {R"(<proxy url="http://p.example" password="x"/>)", "needs 'username'"},
      {R"(<proxy/>)", "'url'"},
  };
  for (const Case& c : cases) {
    std::string error = CompileErrorWith(c.children, Stored());
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.children << ": " << error;
  }
}

TEST_F(SendRequestCertificateTest, ProxySetsSettings) {
  EXPECT_EQ(RunWith(R"(<proxy url="http://127.0.0.1:3128" username="u" password="p"/>)", nullptr),
            ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.sent.size(), 1u);
  ASSERT_TRUE(services_.sent[0].proxy.has_value());
  EXPECT_EQ(services_.sent[0].proxy->url, "http://127.0.0.1:3128");
  EXPECT_EQ(services_.sent[0].proxy->username, "u");
  EXPECT_TRUE(services_.sent[0].proxy->password.Equals("p"));
}

// <authentication-certificate> as an inbound statement: the certificate of the backend call.
class BackendCertificateTest : public SendRequestCertificateTest {
 protected:
  Result<CompiledDocument> CompileInbound(const std::string& section,
                                          const std::string& statement) {
    return CompilePolicyDocument(
        "<policies><" + section + ">" + statement + "</" + section + "></policies>",
        PolicyScope::kGlobal, nullptr, Stored());
  }

  ExecutionOutcome RunInbound(const std::string& statement) {
    return Run("<policies><inbound>" + statement + "</inbound></policies>", Stored());
  }
};

TEST_F(BackendCertificateTest, StoredCertificateGoesToBackendCall) {
  EXPECT_EQ(RunInbound(R"(<authentication-certificate certificate-id="client"/>)"),
            ExecutionOutcome::kContinue);
  EXPECT_EQ(context_.backend_client_certificate, with_key_);
  EXPECT_TRUE(services_.sent.empty());
}

TEST_F(BackendCertificateTest, ExpressionBodyParsedPerRequest) {
  context_.variables["certificate"] = Value(testing::PfxBase64(x509_.get(), key_.get(), "p1"));
  EXPECT_EQ(RunInbound(R"xml(<authentication-certificate body="@((string)context.Variables[&quot;certificate&quot;])" password="p1"/>)xml"),
            ExecutionOutcome::kContinue);
  ASSERT_NE(context_.backend_client_certificate, nullptr);
  EXPECT_EQ(context_.backend_client_certificate->thumbprint(), with_key_->thumbprint());
}

TEST_F(BackendCertificateTest, InvalidBodyRunsOnError) {
  context_.variables["certificate"] = Value(std::string("bm90IGEgY2VydA=="));
  EXPECT_EQ(RunInbound(R"xml(<authentication-certificate body="@((string)context.Variables[&quot;certificate&quot;])"/>)xml"),
            ExecutionOutcome::kRespond);
  ASSERT_TRUE(context_.last_error.has_value());
  EXPECT_EQ(context_.last_error->reason, "ExpressionValueEvaluationFailure");
  EXPECT_EQ(context_.backend_client_certificate, nullptr);
}

TEST_F(BackendCertificateTest, OnlyInbound) {
  auto document =
      CompileInbound("backend", R"(<authentication-certificate certificate-id="client"/>)");
  ASSERT_FALSE(document.ok());
  EXPECT_NE(document.error().message.find("not allowed in <backend>"), std::string::npos)
      << document.error().message;
  auto missing = CompileInbound("inbound", R"(<authentication-certificate certificate-id="absent"/>)");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("certificate 'absent' was not found"), std::string::npos)
      << missing.error().message;
}

TEST_F(SendRequestTest, ReturnResponseFromVariable) {
  services_.response = http::ClientResponse{
      404, {{"Content-Type", "text/plain"}, {"Content-Length", "9"}, {"x-a", "1"}}, "not found"};
  EXPECT_EQ(Run(R"(<policies><inbound><send-request response-variable-name="r">
      <set-url>https://lookup.example/</set-url></send-request>
      <return-response response-variable-name="r">
        <set-header name="x-b" exists-action="override"><value>2</value></set-header>
      </return-response></inbound></policies>)"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 404);
  EXPECT_EQ(context_.response.body, "not found");
  EXPECT_EQ(context_.response.headers.Get("Content-Type"), "text/plain");
  EXPECT_EQ(context_.response.headers.Get("x-a"), "1");
  EXPECT_EQ(context_.response.headers.Get("x-b"), "2");
  EXPECT_FALSE(context_.response.headers.Contains("Content-Length"));
}

TEST_F(SendRequestTest, ReturnResponseStatusOverridesVariable) {
  Run(R"(<policies><inbound><send-request response-variable-name="r">
      <set-url>https://lookup.example/</set-url></send-request>
      <return-response response-variable-name="r"><set-status code="202"/></return-response>
      </inbound></policies>)");
  EXPECT_EQ(context_.response.status_code, 202);
  EXPECT_EQ(context_.response.body, R"({"ok":true})");
}

TEST_F(SendRequestTest, ReturnResponseReadsCurrentResponse) {
  context_.response.status_code = 418;
  EXPECT_EQ(Run(R"x(<policies><inbound><return-response>
      <set-status code="@(context.Response.StatusCode)"/>
      <set-body>@("was " + context.Response.StatusCode)</set-body>
      </return-response></inbound></policies>)x"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 418);
  EXPECT_EQ(context_.response.body, "was 418");
}

TEST_F(SendRequestTest, ReturnResponseWithoutResponseFails) {
  EXPECT_EQ(Run(R"(<policies><inbound><set-variable name="r" value="text"/>
      <return-response response-variable-name="r"/></inbound>
      <on-error><set-body>@(context.LastError.Reason)</set-body></on-error></policies>)"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 500);
  EXPECT_EQ(context_.response.body, "ExpressionValueEvaluationFailure");
}

TEST_F(SendRequestTest, ManagedIdentitySetsAuthorization) {
  context_.request.headers.Set("Authorization", "Bearer caller");
  EXPECT_EQ(Run(R"x(<policies><inbound>
      <authentication-managed-identity resource="@("https://" + "vault.example")"/>
      </inbound></policies>)x"),
            ExecutionOutcome::kContinue);
  ASSERT_EQ(services_.resources.size(), 1u);
  EXPECT_EQ(services_.resources[0], "https://vault.example");
  EXPECT_EQ(context_.request.headers.Get("Authorization"), "Bearer mi-token");
  EXPECT_TRUE(context_.authorization_set);
}

TEST_F(SendRequestTest, ManagedIdentityOutputVariable) {
  context_.request.headers.Set("Authorization", "Bearer caller");
  Run(R"(<policies><inbound><authentication-managed-identity resource="api://backend"
      output-token-variable-name="msi"/></inbound></policies>)");
  EXPECT_EQ(context_.variables.at("msi").AsString(), "mi-token");
  EXPECT_EQ(context_.request.headers.Get("Authorization"), "Bearer caller");
}

TEST_F(SendRequestTest, ManagedIdentityFailureRunsOnError) {
  services_.managed_token = MakeError(ErrorCode::kUnavailable, "the token request failed",
                                      "ManagedIdentityTokenRequestFailed");
  EXPECT_EQ(Run(R"(<policies><inbound><authentication-managed-identity resource="api://b"/>
      </inbound><on-error><set-body>@(context.LastError.Reason)</set-body></on-error></policies>)"),
            ExecutionOutcome::kRespond);
  EXPECT_EQ(context_.response.status_code, 503);
  EXPECT_EQ(context_.response.body, "ManagedIdentityTokenRequestFailed");
}

TEST_F(SendRequestTest, ManagedIdentityIgnoreError) {
  services_.managed_token = MakeError(ErrorCode::kUnavailable, "down");
  EXPECT_EQ(Run(R"(<policies><inbound><authentication-managed-identity resource="api://b"
      ignore-error="true"/></inbound></policies>)"),
            ExecutionOutcome::kContinue);
  EXPECT_FALSE(context_.request.headers.Contains("Authorization"));
}

TEST_F(SendRequestTest, ManagedIdentityInsideSendRequest) {
  Run(R"(<policies><inbound><send-request response-variable-name="r">
      <set-url>https://vault.example/secrets/a</set-url>
      <set-header name="Authorization" exists-action="override"><value>old</value></set-header>
      <authentication-managed-identity resource="https://vault.example"/>
      </send-request></inbound></policies>)");
  ASSERT_EQ(services_.sent.size(), 1u);
  EXPECT_EQ(Header(services_.sent[0], "Authorization"), "Bearer mi-token");
  EXPECT_FALSE(context_.request.headers.Contains("Authorization"));
}

TEST_F(SendRequestTest, ManagedIdentityClientId) {
  Run(R"(<policies><inbound><authentication-managed-identity resource="api://b"
      client-id="11111111-2222-3333-4444-555555555555"/></inbound></policies>)");
  ASSERT_EQ(services_.client_ids.size(), 1u);
  EXPECT_EQ(services_.client_ids[0], "11111111-2222-3333-4444-555555555555");
}

TEST_F(SendRequestTest, ManagedIdentityClientIdsListed) {
  auto document = CompilePolicyDocument(
      R"(<policies><inbound><authentication-managed-identity resource="a" client-id="one"/>
      <send-request response-variable-name="r"><set-url>https://a.example</set-url>
      <authentication-managed-identity resource="a" client-id="two"/></send-request>
      <authentication-managed-identity resource="a"/></inbound></policies>)",
      PolicyScope::kGlobal);
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->managed_identity_client_ids, (std::set<std::string>{"one", "two"}));
}

TEST_F(SendRequestTest, ManagedIdentityRejectsAtSave) {
  EXPECT_NE(CompileError(
                R"x(<authentication-managed-identity resource="a" client-id="@(&quot;c&quot;)"/>)x")
                .find("needs the literal client id of a user-assigned identity"),
            std::string::npos);
  EXPECT_NE(CompileError(R"(<authentication-managed-identity/>)")
                .find("missing required attribute 'resource'"),
            std::string::npos);
  auto outbound = CompilePolicyDocument(
      R"(<policies><outbound><authentication-managed-identity resource="a"/></outbound></policies>)",
      PolicyScope::kGlobal);
  ASSERT_FALSE(outbound.ok());
  EXPECT_NE(outbound.error().message.find("is not allowed in <outbound>"), std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
