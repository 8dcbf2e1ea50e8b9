// Certificates through ManagementService over a real SQLite store: PUT with PKCS#12 or PEM,
// GET without the secret parts, rejected data, sealed storage, policies that name a certificate
// and the 409 while they do.
#include "management/certificates.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "../crypto/test_certificates.h"
#include "policy/document.h"
#include "runtime/state.h"
#include "service_fixture.h"

namespace credgate::management {
namespace {

std::string CertificateBody(const std::string& data, const std::string& password = "") {
  boost::json::object properties{{"data", data}};
  if (!password.empty()) properties["password"] = password;
  return boost::json::serialize(boost::json::object{{"properties", std::move(properties)}});
}

std::string PolicyBody(const std::string& xml) {
  boost::json::object properties{{"format", "rawxml"}, {"value", xml}};
  return boost::json::serialize(boost::json::object{{"properties", std::move(properties)}});
}

std::string ValidateJwt(const std::string& certificate_id) {
  return "<validate-jwt header-name=\"Authorization\"><issuer-signing-keys><key certificate-id=\"" +
         certificate_id + "\"/></issuer-signing-keys></validate-jwt>";
}

std::string NamingPolicy(const std::string& certificate_id) {
  return PolicyBody("<policies><inbound><base/>" + ValidateJwt(certificate_id) +
                    "</inbound></policies>");
}

class CertificatesTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (!HasFatalFailure()) CreateEchoApi();
  }

  std::string PfxBody(const std::string& password) {
    return CertificateBody(testing::PfxBase64(x509_.get(), key_.get(), password), password);
  }

  testing::TestKey key_ = testing::MakeRsaKey();
  testing::TestX509 x509_ = testing::MakeCertificate(key_.get(), "api.example.com", 30);
};

TEST_F(CertificatesTest, PutGetListDelete) {
  auto created = Call("PUT", "/certificates/signing", PfxBody("pfx-pass"));
  ASSERT_EQ(created.status, 201) << created.body;
  auto got = Call("GET", "/certificates/signing");
  ASSERT_EQ(got.status, 200);
  auto body = Json(got);
  EXPECT_EQ(body["id"].as_string(), "/certificates/signing");
  EXPECT_EQ(body["type"].as_string(), "Microsoft.ApiManagement/service/certificates");
  const auto& properties = body["properties"].as_object();
  EXPECT_EQ(properties.at("subject").as_string(), "CN=api.example.com");
  EXPECT_EQ(properties.at("thumbprint").as_string().size(), 40u);
  EXPECT_TRUE(properties.at("expirationDate").as_string().ends_with("Z"));
  EXPECT_FALSE(properties.contains("data"));
  EXPECT_FALSE(properties.contains("password"));
  EXPECT_EQ(got.body.find("pfx-pass"), std::string::npos);

  EXPECT_EQ(Call("PUT", "/certificates/signing", PfxBody("pfx-pass")).status, 200);
  auto list = Call("GET", "/certificates");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json(list)["value"].as_array().size(), 1u);
  EXPECT_EQ(Call("DELETE", "/certificates/signing").status, 200);
  EXPECT_EQ(Call("GET", "/certificates/signing").status, 404);
  EXPECT_EQ(Call("DELETE", "/certificates/signing").status, 204);
}

TEST_F(CertificatesTest, PemAccepted) {
  std::string pem = testing::CertificatePem(x509_.get()) + testing::PrivateKeyPem(key_.get());
  auto created = Call("PUT", "/certificates/pem", CertificateBody(pem));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Json(created)["properties"].as_object()["subject"].as_string(), "CN=api.example.com");
}

TEST_F(CertificatesTest, WrongPasswordRejected) {
  std::string data = testing::PfxBase64(x509_.get(), key_.get(), "pfx-pass");
  auto response = Call("PUT", "/certificates/signing", CertificateBody(data, "wrong"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("invalid 'properties.data': the password does not match"),
            std::string::npos)
      << response.body;
  EXPECT_EQ(Call("GET", "/certificates/signing").status, 404);
}

TEST_F(CertificatesTest, MalformedDataRejected) {
  struct Case {
    std::string body;
    std::string expected;
  };
  const Case cases[] = {
      {CertificateBody("%%%"), "neither PEM text nor base64"},
      {CertificateBody("aGVsbG8="), "neither PKCS#12"},
      {R"({"properties":{}})", "properties.data"},
      {R"({"properties":{"keyVault":{"secretIdentifier":"https://v.example/s"}}})",
       "'properties.keyVault' is not supported"},
  };
  for (const Case& c : cases) {
    auto response = Call("PUT", "/certificates/bad", c.body);
    EXPECT_EQ(response.status, 400) << c.body;
    EXPECT_NE(response.body.find(c.expected), std::string::npos) << response.body;
  }
}

TEST_F(CertificatesTest, StoredSealed) {
  ASSERT_EQ(Call("PUT", "/certificates/signing", PfxBody("pfx-pass")).status, 201);
  auto record = StoredRecord("certificate", "certificates/signing");
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(record->body_json.find("pfx-pass"), std::string::npos);
  auto body = boost::json::parse(record->body_json).as_object();
  EXPECT_FALSE(body["properties"].as_object().contains("data"));
  EXPECT_TRUE(body.contains(kSealedCertificateMember));
  auto opened = OpenCertificateRecord("signing", *record, body, *keyring_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_TRUE((*opened)->resource.password.Equals("pfx-pass"));
  EXPECT_NE((*opened)->certificate->private_key(), nullptr);
}

TEST_F(CertificatesTest, PolicyWithMissingCertificateRejected) {
  auto response = Call("PUT", "/apis/echo/policies/policy", NamingPolicy("signing"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("certificate 'signing' was not found"), std::string::npos)
      << response.body;
}

TEST_F(CertificatesTest, DeleteOfUsedCertificateConflicts) {
  ASSERT_EQ(Call("PUT", "/certificates/signing", PfxBody("pfx-pass")).status, 201);
  auto saved = Call("PUT", "/apis/echo/policies/policy", NamingPolicy("signing"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  EXPECT_TRUE(config_.Current()->apis.at("echo")->document->certificates.contains("signing"));
  auto response = Call("DELETE", "/certificates/signing");
  EXPECT_EQ(response.status, 409);
  EXPECT_NE(response.body.find("/apis/echo/policies/policy"), std::string::npos) << response.body;
  ASSERT_EQ(Call("DELETE", "/apis/echo/policies/policy").status, 200);
  EXPECT_EQ(Call("DELETE", "/certificates/signing").status, 200);
}

TEST_F(CertificatesTest, FragmentUsingCertificateConflicts) {
  ASSERT_EQ(Call("PUT", "/certificates/signing", PfxBody("pfx-pass")).status, 201);
  auto saved = Call("PUT", "/policyFragments/jwt",
                    PolicyBody("<fragment>" + ValidateJwt("signing") + "</fragment>"));
  ASSERT_EQ(saved.status, 201) << saved.body;
  auto response = Call("DELETE", "/certificates/signing");
  EXPECT_EQ(response.status, 409);
  EXPECT_NE(response.body.find("/policyFragments/jwt"), std::string::npos) << response.body;
}

TEST_F(CertificatesTest, ReplacementThatBreaksPolicyRejected) {
  ASSERT_EQ(Call("PUT", "/certificates/signing", PfxBody("pfx-pass")).status, 201);
  ASSERT_EQ(Call("PUT", "/apis/echo/policies/policy", NamingPolicy("signing")).status, 201);
  testing::TestKey secp256k1(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "secp256k1"));
  testing::TestX509 other = testing::MakeCertificate(secp256k1.get(), "k1.example");
  auto response =
      Call("PUT", "/certificates/signing", CertificateBody(testing::CertificatePem(other.get())));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("would break the policy /apis/echo/policies/policy"),
            std::string::npos)
      << response.body;
  auto got = Json(Call("GET", "/certificates/signing"));
  EXPECT_EQ(got["properties"].as_object()["subject"].as_string(), "CN=api.example.com");
}

}  // namespace
}  // namespace credgate::management
