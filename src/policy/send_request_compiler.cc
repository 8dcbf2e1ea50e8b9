#include "policy/send_request_compiler.h"

#include "crypto/certificate.h"
#include "policy/certificates.h"
#include "policy/request_compilers.h"
#include "policy/statement_compilers.h"

namespace credgate::policy::internal {

namespace {

#define SEND_ASSIGN_OR_RETURN(name, expr)                \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

// An upper bound on `timeout`, as APIM documents for send-request.
constexpr int64_t kMaxTimeoutSeconds = 240;

// Compiles <authentication-certificate>: exactly one of certificate-id, thumbprint (both name a
// stored certificate) and body (base64 PKCS#12 or PEM, with password), as in APIM.
Result<ClientCertificateSpec> CompileClientCertificate(const ElementReader& element) {
  CREDGATE_RETURN_IF_ERROR(
      element.CheckAttributes({"certificate-id", "thumbprint", "body", "password"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  const int sources = (element.Attribute("certificate-id") ? 1 : 0) +
                      (element.Attribute("thumbprint") ? 1 : 0) +
                      (element.Attribute("body") ? 1 : 0);
  if (sources != 1) {
    return element.Fail(
        "<authentication-certificate> needs exactly one of 'certificate-id', 'thumbprint' and "
        "'body'");
  }
  if (element.Attribute("password") && !element.Attribute("body")) {
    return element.FailAt("password", "attribute 'password' on <authentication-certificate> "
                                      "belongs with 'body'; a stored certificate has its own");
  }
  ClientCertificateSpec spec;
  std::shared_ptr<const crypto::Certificate> certificate;
  if (auto id = element.Attribute("certificate-id")) {
    SEND_ASSIGN_OR_RETURN(stored, StoredCertificate(element, "certificate-id", std::string(*id)));
    certificate = std::move(stored);
  } else if (auto thumbprint = element.Attribute("thumbprint")) {
    const std::string key =
        std::string(kThumbprintPrefix) + crypto::NormalizeThumbprint(*thumbprint);
    SEND_ASSIGN_OR_RETURN(stored, StoredCertificate(element, "thumbprint", key));
    certificate = std::move(stored);
  } else {
    SEND_ASSIGN_OR_RETURN(body, element.RequiredTemplateAttribute("body"));
    SEND_ASSIGN_OR_RETURN(password, element.TemplateAttribute("password"));
    if (!body.is_expression() && (!password || !password->is_expression())) {
      Secret literal_password(password ? password->literal() : std::string());
      auto parsed = crypto::Certificate::Parse(body.literal(), literal_password);
      if (!parsed.ok()) {
        return element.FailAt("body", "invalid client certificate in attribute 'body': " +
                                          parsed.error().message);
      }
      certificate = std::move(parsed).value();
    } else {
      spec.body = std::move(body);
      spec.password = std::move(password);
    }
  }
  if (certificate && certificate->private_key() == nullptr) {
    return element.Fail("the client certificate of <authentication-certificate> has no private "
                        "key; upload it as PKCS#12 or as PEM with its key");
  }
  spec.certificate = std::move(certificate);
  return spec;
}

}  // namespace

Result<Statement> CompileAuthenticationCertificate(const ElementReader& element,
                                                   const std::string&) {
  SEND_ASSIGN_OR_RETURN(certificate, CompileClientCertificate(element));
  return element.NewStatement(AuthenticationCertificateSpec{std::move(certificate)});
}

namespace {

// Compiles <proxy url="http://..." username="..." password="..."/>.
Result<ProxySpec> CompileProxy(const ElementReader& element) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"url", "username", "password"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  SEND_ASSIGN_OR_RETURN(url, element.RequiredTemplateAttribute("url"));
  if (!url.is_expression() && !url.literal().starts_with("http://")) {
    return element.FailAt("url", "attribute 'url' on <proxy> must be an http:// URL; https "
                                 "proxies are not supported");
  }
  SEND_ASSIGN_OR_RETURN(username, element.TemplateAttribute("username"));
  SEND_ASSIGN_OR_RETURN(password, element.TemplateAttribute("password"));
  if (password && !username) {
    return element.FailAt("password", "attribute 'password' on <proxy> needs 'username'");
  }
  return ProxySpec{std::move(url), std::move(username), std::move(password)};
}

}  // namespace

Result<Statement> CompileSendRequest(const ElementReader& element, const std::string&) {
  SendRequestSpec spec;
  spec.one_way = element.name() == "send-one-way-request";
  if (spec.one_way) {
    CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"mode", "timeout"}));
  } else {
    CREDGATE_RETURN_IF_ERROR(
        element.CheckAttributes({"mode", "response-variable-name", "timeout", "ignore-error"}));
    SEND_ASSIGN_OR_RETURN(variable, element.RequiredAttribute("response-variable-name"));
    spec.response_variable_name = std::move(variable);
    SEND_ASSIGN_OR_RETURN(ignore_error, element.BoolAttribute("ignore-error", false));
    spec.ignore_error = ignore_error;
  }
  if (auto mode = element.Attribute("mode")) {
    if (*mode == "copy") {
      spec.copy_mode = true;
    } else if (*mode != "new") {
      return element.FailAt("mode", "invalid value '" + std::string(*mode) +
                                        "' for attribute 'mode' on <" +
                                        std::string(element.name()) + ">; use new or copy");
    }
  }
  SEND_ASSIGN_OR_RETURN(timeout, element.IntegerAttribute("timeout", 60, 1, kMaxTimeoutSeconds));
  spec.timeout = std::chrono::seconds(timeout);

  bool has_url = false;
  for (pugi::xml_node node : element.node().children()) {
    if (node.type() != pugi::node_element) continue;
    ElementReader child(node, element.scope());
    if (child.name() == "set-url" && !has_url) {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
      SEND_ASSIGN_OR_RETURN(url, child.TextTemplate());
      if (!url.is_expression() && !url.literal().starts_with("http://") &&
          !url.literal().starts_with("https://")) {
        return child.Fail("<set-url> must contain an absolute http or https URL");
      }
      spec.url = std::move(url);
      has_url = true;
    } else if (child.name() == "set-method" && !spec.method) {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
      SEND_ASSIGN_OR_RETURN(method, child.TextTemplate());
      spec.method = std::move(method);
    } else if (child.name() == "set-header") {
      SEND_ASSIGN_OR_RETURN(header, CompileSetHeaderSpec(child));
      spec.headers.push_back(std::move(header));
    } else if (child.name() == "set-body" && !spec.body) {
      SEND_ASSIGN_OR_RETURN(body, CompileSetBodySpec(child));
      spec.body = std::move(body);
    } else if (child.name() == "authentication-managed-identity" && !spec.managed_identity) {
      SEND_ASSIGN_OR_RETURN(identity, CompileManagedIdentitySpec(child));
      spec.managed_identity = std::move(identity);
    } else if (child.name() == "authentication-certificate" && !spec.client_certificate) {
      SEND_ASSIGN_OR_RETURN(certificate, CompileClientCertificate(child));
      spec.client_certificate = std::move(certificate);
    } else if (child.name() == "proxy" && !spec.proxy) {
      SEND_ASSIGN_OR_RETURN(proxy, CompileProxy(child));
      spec.proxy = std::move(proxy);
    } else if (child.name() == "set-url" || child.name() == "set-method" ||
               child.name() == "set-body" || child.name() == "authentication-managed-identity" ||
               child.name() == "authentication-certificate" || child.name() == "proxy") {
      return child.Fail("repeated <" + std::string(child.name()) + "> in <" +
                        std::string(element.name()) + ">; keep one");
    } else {
      return child.Fail("unknown element <" + std::string(child.name()) + "> in <" +
                        std::string(element.name()) +
                        ">; use set-url, set-method, set-header, set-body, "
                        "authentication-managed-identity, authentication-certificate or proxy");
    }
  }
  if (!has_url) {
    return element.Fail("<" + std::string(element.name()) + "> needs <set-url>");
  }
  Statement statement = element.NewStatement(std::move(spec));
  statement.is_async = true;
  return statement;
}

}  // namespace credgate::policy::internal
