#include "policy/send_request_compiler.h"

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
    } else if (child.name() == "authentication-certificate" || child.name() == "proxy") {
      return child.Fail("<" + std::string(child.name()) + "> in <" + std::string(element.name()) +
                        "> is not supported; set the Authorization header with <set-header>");
    } else if (child.name() == "set-url" || child.name() == "set-method" ||
               child.name() == "set-body" || child.name() == "authentication-managed-identity") {
      return child.Fail("repeated <" + std::string(child.name()) + "> in <" +
                        std::string(element.name()) + ">; keep one");
    } else {
      return child.Fail("unknown element <" + std::string(child.name()) + "> in <" +
                        std::string(element.name()) +
                        ">; use set-url, set-method, set-header, set-body or "
                        "authentication-managed-identity");
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
