#include "policy/validate_jwt_compiler.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "common/encoding.h"
#include "crypto/certificate.h"
#include "identity/trusted_issuer.h"
#include "policy/validate_jwt.h"

namespace credgate::policy::internal {

namespace {

#define JWT_ASSIGN_OR_RETURN(name, expr)                 \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

// RFC 7518 §3.2: an HMAC key must be at least as long as the hash output, 32 bytes for HS256.
constexpr size_t kMinSymmetricKeyBytes = 32;

// Compiles <key certificate-id="..."/>: the stored certificate's public key verifies RS256,
// PS256 and ES256 tokens.
Status CompileCertificateKey(const ElementReader& key, JwtSigningKey signing_key, JwtCheck& check) {
  if (key.Attribute("n") || key.Attribute("e")) {
    return key.Fail("<key> takes either 'certificate-id' or 'n' and 'e', not both");
  }
  JWT_ASSIGN_OR_RETURN(id, key.RequiredAttribute("certificate-id"));
  JWT_ASSIGN_OR_RETURN(certificate, StoredCertificate(key, "certificate-id", id));
  auto public_key =
      identity::VerificationKey::FromPublicKey(signing_key.id, certificate->public_key());
  if (!public_key.ok()) {
    return key.FailAt("certificate-id", "certificate '" + id + "' cannot verify tokens: " +
                                            public_key.error().message);
  }
  signing_key.public_key = std::move(public_key).value();
  CREDGATE_RETURN_IF_ERROR(key.CheckNoChildren());
  check.signing_keys.push_back(std::move(signing_key));
  return OkStatus();
}

// Returns the public key of `bytes` when they are a DER X.509 certificate, or null.
std::shared_ptr<const identity::VerificationKey> CertificateKeyOf(std::string_view base64,
                                                                  std::string_view bytes,
                                                                  const std::string& kid) {
  // Every DER certificate starts with a SEQUENCE of two-byte length (0x30 0x82).
  if (bytes.size() < 2 || bytes[0] != '\x30' || bytes[1] != '\x82') return nullptr;
  auto certificate = crypto::Certificate::Parse(base64, Secret());
  if (!certificate.ok()) return nullptr;
  auto key = identity::VerificationKey::FromPublicKey(kid, (*certificate)->public_key());
  return key.ok() ? *key : nullptr;
}

Status CompileKey(const ElementReader& key, JwtCheck& check) {
  CREDGATE_RETURN_IF_ERROR(key.CheckAttributes({"certificate-id", "n", "e"}));
  JwtSigningKey signing_key;
  if (auto id = key.Attribute("id")) signing_key.id = *id;
  if (key.Attribute("certificate-id")) {
    return CompileCertificateKey(key, std::move(signing_key), check);
  }
  auto n = key.Attribute("n");
  auto e = key.Attribute("e");
  if (n || e) {
    if (!n || !e) return key.Fail("<key> needs both 'n' and 'e' for an RSA key");
    boost::json::object jwk{{"kty", "RSA"}, {"n", *n}, {"e", *e}, {"kid", signing_key.id}};
    auto decoded = identity::VerificationKey::FromJwk(jwk);
    if (!decoded.ok()) {
      return key.FailAt("n", "invalid RSA key on <key>: " + decoded.error().message);
    }
    signing_key.public_key = std::move(decoded).value();
    CREDGATE_RETURN_IF_ERROR(key.CheckNoChildren());
    check.signing_keys.push_back(std::move(signing_key));
    return OkStatus();
  }
  JWT_ASSIGN_OR_RETURN(text, key.TextTemplate());
  if (text.is_expression()) {
    return key.Fail("<key> must contain a base64 key, not an expression");
  }
  std::optional<std::string> bytes = Base64Decode(text.literal());
  if (!bytes || bytes->empty()) {
    return key.Fail("<key> must contain a base64-encoded symmetric key, or n and e attributes");
  }
  if (auto certificate_key = CertificateKeyOf(text.literal(), *bytes, signing_key.id)) {
    signing_key.public_key = std::move(certificate_key);
    check.signing_keys.push_back(std::move(signing_key));
    return OkStatus();
  }
  if (bytes->size() < kMinSymmetricKeyBytes) {
    return key.Fail("the symmetric key in <key> has " + std::to_string(bytes->size()) +
                    " bytes; use at least " + std::to_string(kMinSymmetricKeyBytes));
  }
  signing_key.symmetric_key = Secret(std::move(*bytes));
  check.signing_keys.push_back(std::move(signing_key));
  return OkStatus();
}

// Compiles one <key> of <decryption-keys>: a stored certificate's RSA private key for RSA-OAEP
// and RSA-OAEP-256, or a base64 symmetric key for dir and AES key wrap.
Status CompileDecryptionKey(const ElementReader& key, JwtCheck& check) {
  CREDGATE_RETURN_IF_ERROR(key.CheckAttributes({"certificate-id"}));
  auto decryption_key = std::make_shared<identity::JweKey>();
  if (auto id = key.Attribute("id")) decryption_key->id = *id;
  if (key.Attribute("certificate-id")) {
    JWT_ASSIGN_OR_RETURN(id, key.RequiredAttribute("certificate-id"));
    JWT_ASSIGN_OR_RETURN(certificate, StoredCertificate(key, "certificate-id", id));
    EVP_PKEY* private_key = certificate->private_key();
    if (private_key == nullptr || !EVP_PKEY_is_a(private_key, "RSA")) {
      return key.FailAt("certificate-id",
                        "certificate '" + id +
                            "' has no RSA private key, which RSA-OAEP decryption needs; upload "
                            "it as PKCS#12 or as PEM with its key");
    }
    EVP_PKEY_up_ref(private_key);
    decryption_key->private_key.reset(private_key);
    CREDGATE_RETURN_IF_ERROR(key.CheckNoChildren());
    check.decryption_keys.push_back(std::move(decryption_key));
    return OkStatus();
  }
  JWT_ASSIGN_OR_RETURN(text, key.TextTemplate());
  if (text.is_expression()) {
    return key.Fail("<key> in <decryption-keys> must contain a base64 key, not an expression");
  }
  std::optional<std::string> bytes = Base64Decode(text.literal());
  if (!bytes) return key.Fail("<key> in <decryption-keys> must contain a base64 symmetric key");
  // dir takes the CEK itself (16 to 64 bytes), AES key wrap a 16, 24 or 32-byte KEK.
  constexpr size_t kSizes[] = {16, 24, 32, 48, 64};
  if (std::find(std::begin(kSizes), std::end(kSizes), bytes->size()) == std::end(kSizes)) {
    return key.Fail("the key in <decryption-keys> has " + std::to_string(bytes->size()) +
                    " bytes; use 16, 24 or 32 for AES key wrap, or the CEK size of 'enc' (16, 24, "
                    "32, 48 or 64) for dir");
  }
  decryption_key->symmetric_key = Secret(std::move(*bytes));
  check.decryption_keys.push_back(std::move(decryption_key));
  return OkStatus();
}

// Reads the text of a <value>-like child (<audience>, <issuer>, <value>) as a template.
Result<ValueTemplate> ChildText(const ElementReader& child) {
  CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
  return child.TextTemplate();
}

Status CompileClaim(const ElementReader& element, JwtCheck& check) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"name", "match", "separator"}));
  RequiredClaim claim;
  JWT_ASSIGN_OR_RETURN(name, element.RequiredAttribute("name"));
  claim.name = std::move(name);
  if (auto match = element.Attribute("match")) {
    if (*match == "any") {
      claim.match_any = true;
    } else if (*match != "all") {
      return element.FailAt("match", "invalid value '" + std::string(*match) +
                                         "' for attribute 'match' on <claim>; use all or any");
    }
  }
  if (auto separator = element.Attribute("separator")) claim.separator = *separator;
  CREDGATE_RETURN_IF_ERROR(ForEachChild(element, "value", [&](const ElementReader& value) {
    auto text = ChildText(value);
    if (!text.ok()) return Status(text.error());
    claim.values.push_back(std::move(text).value());
    return OkStatus();
  }));
  check.required_claims.push_back(std::move(claim));
  return OkStatus();
}

Status CompileChild(const ElementReader& child, JwtCheck& check) {
  if (child.name() == "openid-config") {
    CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({"url"}));
    CREDGATE_RETURN_IF_ERROR(child.CheckNoChildren());
    JWT_ASSIGN_OR_RETURN(url, child.RequiredAttribute("url"));
    if (IsExpression(url)) {
      return child.FailAt("url",
                          "attribute 'url' on <openid-config> must be a literal URL, "
                          "because its keys are fetched before requests arrive");
    }
    if (!identity::IsAllowedKeyUrl(url)) {
      return child.FailAt("url",
                          "attribute 'url' on <openid-config> must be an https URL "
                          "(http only on 127.0.0.1, [::1] or localhost)");
    }
    check.openid_config_urls.push_back(std::move(url));
    return OkStatus();
  }
  if (child.name() == "issuer-signing-keys") {
    CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
    return ForEachChild(child, "key",
                        [&](const ElementReader& key) { return CompileKey(key, check); });
  }
  if (child.name() == "audiences" || child.name() == "issuers") {
    CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
    const bool audiences = child.name() == "audiences";
    auto& list = audiences ? check.audiences : check.issuers;
    return ForEachChild(child, audiences ? "audience" : "issuer", [&](const ElementReader& item) {
      auto text = ChildText(item);
      if (!text.ok()) return Status(text.error());
      list.push_back(std::move(text).value());
      return OkStatus();
    });
  }
  if (child.name() == "required-claims") {
    CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
    return ForEachChild(child, "claim",
                        [&](const ElementReader& claim) { return CompileClaim(claim, check); });
  }
  if (child.name() == "decryption-keys") {
    CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
    const size_t before = check.decryption_keys.size();
    CREDGATE_RETURN_IF_ERROR(ForEachChild(
        child, "key", [&](const ElementReader& key) { return CompileDecryptionKey(key, check); }));
    if (check.decryption_keys.size() == before) {
      return child.Fail("<decryption-keys> needs at least one <key>");
    }
    return OkStatus();
  }
  std::string message = "unknown element <" + std::string(child.name()) + "> in <validate-jwt>";
  std::string closest =
      ClosestName(child.name(), {"openid-config", "issuer-signing-keys", "decryption-keys",
                                 "audiences", "issuers", "required-claims"});
  message += closest.empty() ? "; use openid-config, issuer-signing-keys, decryption-keys, "
                               "audiences, issuers or required-claims"
                             : "; did you mean <" + closest + ">?";
  return child.Fail(message);
}

}  // namespace

Result<Statement> CompileValidateJwt(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes(
      {"header-name", "query-parameter-name", "token-value", "failed-validation-httpcode",
       "failed-validation-error-message", "require-expiration-time", "require-scheme",
       "require-signed-tokens", "clock-skew", "output-token-variable-name"}));
  auto check = std::make_shared<JwtCheck>();

  int sources = 0;
  if (auto header = element.Attribute("header-name")) {
    JWT_ASSIGN_OR_RETURN(name, element.RequiredAttribute("header-name"));
    check->source = TokenSource::kHeader;
    check->header_name = std::move(name);
    ++sources;
  }
  if (element.Attribute("query-parameter-name")) {
    JWT_ASSIGN_OR_RETURN(name, element.RequiredAttribute("query-parameter-name"));
    check->source = TokenSource::kQueryParameter;
    check->query_parameter_name = std::move(name);
    ++sources;
  }
  if (element.Attribute("token-value")) {
    JWT_ASSIGN_OR_RETURN(value, element.RequiredTemplateAttribute("token-value"));
    check->source = TokenSource::kValue;
    check->token_value = std::move(value);
    ++sources;
  }
  if (sources != 1) {
    return element.Fail(
        "<validate-jwt> needs exactly one of 'header-name', "
        "'query-parameter-name' and 'token-value'");
  }

  JWT_ASSIGN_OR_RETURN(status,
                       element.IntegerAttribute("failed-validation-httpcode", 401, 100, 599));
  check->failed_status = static_cast<int>(status);
  JWT_ASSIGN_OR_RETURN(message, element.TemplateAttribute("failed-validation-error-message"));
  check->failed_message = std::move(message);
  JWT_ASSIGN_OR_RETURN(require_exp, element.BoolAttribute("require-expiration-time", true));
  check->require_expiration_time = require_exp;
  JWT_ASSIGN_OR_RETURN(require_signed, element.BoolAttribute("require-signed-tokens", true));
  check->require_signed_tokens = require_signed;
  if (auto scheme = element.Attribute("require-scheme")) check->require_scheme = *scheme;
  JWT_ASSIGN_OR_RETURN(
      skew, element.IntegerAttribute("clock-skew", 0, 0, identity::kMaxClockSkew.count()));
  check->clock_skew = std::chrono::seconds(skew);
  if (auto variable = element.Attribute("output-token-variable-name")) {
    check->output_token_variable_name = *variable;
  }

  for (pugi::xml_node node : element.node().children()) {
    if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      if (std::string_view(node.value()).find_first_not_of(" \t\r\n") != std::string_view::npos) {
        return element.Fail("<validate-jwt> takes no text content");
      }
      continue;
    }
    if (node.type() != pugi::node_element) continue;
    CREDGATE_RETURN_IF_ERROR(CompileChild(ElementReader(node, element.scope()), *check));
  }
  if (check->require_signed_tokens && check->signing_keys.empty() &&
      check->openid_config_urls.empty()) {
    return element.Fail(
        "<validate-jwt> has no signing keys; add <openid-config url=\"...\"/> or "
        "<issuer-signing-keys>, or set require-signed-tokens=\"false\"");
  }
  // The trusted issuers' bound, so that a policy that validates the caller's token itself
  // verifies no more signatures than get-authorization-context does.
  check->verified =
      std::make_shared<identity::TokenCache>(identity::TokenCache::kDefaultMaxEntries);

  const bool is_async = !check->openid_config_urls.empty();
  Statement statement = element.NewStatement(ValidateJwtSpec{std::move(check)});
  statement.is_async = is_async;
  return statement;
}

}  // namespace credgate::policy::internal
