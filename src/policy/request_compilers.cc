#include "policy/request_compilers.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>

#include "policy/text.h"

namespace credgate::policy::internal {

namespace {

#define REQUEST_ASSIGN_OR_RETURN(name, expr)             \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

// RFC 9110 §5.6.2: a method is a token.
bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

Result<ExistsAction> ReadExistsAction(const ElementReader& element) {
  auto action = element.Attribute("exists-action");
  if (!action) return ExistsAction::kOverride;
  static const std::map<std::string_view, ExistsAction> kActions = {
      {"override", ExistsAction::kOverride},
      {"skip", ExistsAction::kSkip},
      {"append", ExistsAction::kAppend},
      {"delete", ExistsAction::kDelete}};
  auto found = kActions.find(*action);
  if (found == kActions.end()) {
    return element.FailAt("exists-action", "invalid value '" + std::string(*action) +
                                               "' for attribute 'exists-action' on <" +
                                               std::string(element.name()) +
                                               ">; use override, skip, append or delete");
  }
  return found->second;
}

// Reads the text of `element`, rejecting an empty one.
Result<ValueTemplate> RequiredText(const ElementReader& element) {
  REQUEST_ASSIGN_OR_RETURN(text, element.TextTemplate());
  if (!text.is_expression() && text.literal().empty()) {
    return element.Fail("<" + std::string(element.name()) + "> needs a value as its text");
  }
  return text;
}

}  // namespace

std::optional<std::array<unsigned char, 16>> ParseIpAddress(std::string_view text) {
  std::string address(text);
  std::array<unsigned char, 16> bytes{};
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    std::memcpy(bytes.data() + 12, &v4, 4);
    return bytes;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
    std::memcpy(bytes.data(), &v6, 16);
    return bytes;
  }
  return std::nullopt;
}

Result<Statement> CompileSetMethod(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({}));
  REQUEST_ASSIGN_OR_RETURN(method, RequiredText(element));
  if (!method.is_expression() && !IsToken(method.literal())) {
    return element.Fail("invalid method '" + method.literal() + "' in <set-method>");
  }
  return element.NewStatement(SetMethodSpec{std::move(method)});
}

Result<Statement> CompileRewriteUri(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"template", "copy-unmatched-params"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  RewriteUriSpec spec;
  REQUEST_ASSIGN_OR_RETURN(uri, element.RequiredTemplateAttribute("template"));
  if (!uri.is_expression()) {
    const std::string& text = uri.literal();
    if (text.front() != '/') {
      return element.FailAt("template",
                            "attribute 'template' on <rewrite-uri> must start with "
                            "'/', because it is a path below the backend URL");
    }
    size_t open = text.find('{');
    while (open != std::string::npos) {
      size_t close = text.find('}', open);
      if (close == std::string::npos || close == open + 1) {
        return element.FailAt("template",
                              "attribute 'template' on <rewrite-uri> has an "
                              "unterminated or empty {parameter}");
      }
      open = text.find('{', close);
    }
  }
  spec.uri_template = std::move(uri);
  REQUEST_ASSIGN_OR_RETURN(copy, element.BoolAttribute("copy-unmatched-params", true));
  spec.copy_unmatched_params = copy;
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileSetQueryParameter(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"name", "exists-action"}));
  SetQueryParameterSpec spec;
  REQUEST_ASSIGN_OR_RETURN(name, element.RequiredAttribute("name"));
  spec.name = std::move(name);
  REQUEST_ASSIGN_OR_RETURN(action, ReadExistsAction(element));
  spec.exists_action = action;
  CREDGATE_RETURN_IF_ERROR(
      ForEachChild(element, "value", [&](const ElementReader& value) -> Status {
        CREDGATE_RETURN_IF_ERROR(value.CheckAttributes({}));
        auto text = value.TextTemplate();
        if (!text.ok()) return Status(text.error());
        spec.values.push_back(std::move(text).value());
        return OkStatus();
      }));
  if (spec.values.empty() && spec.exists_action != ExistsAction::kDelete) {
    return element.Fail(
        "<set-query-parameter> needs at least one <value> unless "
        "exists-action=\"delete\"");
  }
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileSetBackendService(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes(
      {"base-url", "backend-id", "sf-partition-key", "sf-replica-type", "sf-resolve-condition",
       "sf-service-instance-name", "sf-listener-name", "dapr-app-id", "dapr-method",
       "dapr-namespace"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  for (pugi::xml_attribute attribute : element.node().attributes()) {
    std::string_view name = attribute.name();
    if (!name.starts_with("sf-")) continue;
    return element.FailAt(name, "attribute '" + std::string(name) +
                                    "' on <set-backend-service> is not supported, because "
                                    "credgate cannot resolve Service Fabric services; use "
                                    "base-url or backend-id");
  }
  SetBackendServiceSpec spec;
  REQUEST_ASSIGN_OR_RETURN(url, element.TemplateAttribute("base-url"));
  REQUEST_ASSIGN_OR_RETURN(backend_id, element.TemplateAttribute("backend-id"));
  if (url.has_value() == backend_id.has_value()) {
    return element.Fail("<set-backend-service> needs exactly one of the attributes 'base-url' "
                        "and 'backend-id'");
  }
  REQUEST_ASSIGN_OR_RETURN(app_id, element.TemplateAttribute("dapr-app-id"));
  REQUEST_ASSIGN_OR_RETURN(method, element.TemplateAttribute("dapr-method"));
  REQUEST_ASSIGN_OR_RETURN(namespace_name, element.TemplateAttribute("dapr-namespace"));
  const bool dapr = app_id || method || namespace_name;
  if (url) {
    if (dapr) {
      return element.Fail("the dapr-* attributes of <set-backend-service> need "
                          "backend-id=\"dapr\" in place of base-url");
    }
    if (!url->is_expression()) {
      const std::string& text = url->literal();
      const bool http = text.starts_with("http://") || text.starts_with("https://");
      if (!http || text.find("://") + 3 >= text.size()) {
        return element.FailAt("base-url",
                              "attribute 'base-url' on <set-backend-service> must be "
                              "an absolute http or https URL");
      }
    }
    spec.base_url = std::move(url);
    return element.NewStatement(std::move(spec));
  }
  if (!dapr) {
    if (!backend_id->is_expression() && backend_id->literal().empty()) {
      return element.FailAt("backend-id", "attribute 'backend-id' on <set-backend-service> "
                                          "needs the id of a backend");
    }
    spec.backend_id = std::move(backend_id);
    return element.NewStatement(std::move(spec));
  }
  if (backend_id->is_expression() || backend_id->literal() != "dapr") {
    return element.FailAt("backend-id", "<set-backend-service> with dapr-* attributes needs "
                                        "backend-id=\"dapr\", which sends to the Dapr sidecar");
  }
  if (!app_id || !method) {
    return element.Fail("<set-backend-service backend-id=\"dapr\"> needs the attributes "
                        "'dapr-app-id' and 'dapr-method'");
  }
  spec.dapr = DaprTargetSpec{std::move(*app_id), std::move(*method), std::move(namespace_name)};
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileCheckHeader(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes(
      {"name", "failed-check-httpcode", "failed-check-error-message", "ignore-case"}));
  CheckHeaderSpec spec;
  REQUEST_ASSIGN_OR_RETURN(name, element.RequiredAttribute("name"));
  spec.name = std::move(name);
  REQUEST_ASSIGN_OR_RETURN(status,
                           element.RequiredIntegerAttribute("failed-check-httpcode", 100, 599));
  spec.failed_status = static_cast<int>(status);
  REQUEST_ASSIGN_OR_RETURN(message,
                           element.RequiredTemplateAttribute("failed-check-error-message"));
  spec.failed_message = std::move(message);
  if (!element.Attribute("ignore-case")) {
    return element.Fail("missing required attribute 'ignore-case' on <check-header>");
  }
  REQUEST_ASSIGN_OR_RETURN(ignore_case, element.BoolAttribute("ignore-case", false));
  spec.ignore_case = ignore_case;
  CREDGATE_RETURN_IF_ERROR(ForEachChildText(
      element, "value", [&](const ElementReader&, const std::string& text) -> Status {
        spec.values.push_back(text);
        return OkStatus();
      }));
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileIpFilter(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"action"}));
  IpFilterSpec spec;
  REQUEST_ASSIGN_OR_RETURN(action, element.RequiredAttribute("action"));
  if (action == "forbid") {
    spec.allow = false;
  } else if (action != "allow") {
    return element.FailAt("action", "invalid value '" + action +
                                        "' for attribute 'action' on <ip-filter>; use allow or "
                                        "forbid");
  }
  for (pugi::xml_node node : element.node().children()) {
    if (node.type() != pugi::node_element) continue;
    ElementReader child(node, element.scope());
    if (child.name() == "address") {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
      REQUEST_ASSIGN_OR_RETURN(text, child.TextTemplate());
      auto address = text.is_expression() ? std::nullopt : ParseIpAddress(text.literal());
      if (!address) {
        return child.Fail("<address> must contain an IPv4 or IPv6 address");
      }
      spec.ranges.push_back(IpRange{*address, *address});
    } else if (child.name() == "address-range") {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({"from", "to"}));
      CREDGATE_RETURN_IF_ERROR(child.CheckNoChildren());
      REQUEST_ASSIGN_OR_RETURN(from_text, child.RequiredAttribute("from"));
      REQUEST_ASSIGN_OR_RETURN(to_text, child.RequiredAttribute("to"));
      auto from = ParseIpAddress(from_text);
      auto to = ParseIpAddress(to_text);
      if (!from) return child.FailAt("from", "invalid IP address '" + from_text + "'");
      if (!to) return child.FailAt("to", "invalid IP address '" + to_text + "'");
      if (*to < *from) {
        return child.FailAt("to",
                            "the range ends at " + to_text + ", before its start " + from_text);
      }
      spec.ranges.push_back(IpRange{*from, *to});
    } else {
      return child.Fail("unknown element <" + std::string(child.name()) +
                        "> in <ip-filter>; use <address> or <address-range from=\"\" to=\"\">");
    }
  }
  if (spec.ranges.empty()) {
    return element.Fail("<ip-filter> needs at least one <address> or <address-range>");
  }
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileCors(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(
      element.CheckAttributes({"allow-credentials", "terminate-unmatched-request"}));
  CorsSpec spec;
  REQUEST_ASSIGN_OR_RETURN(credentials, element.BoolAttribute("allow-credentials", false));
  spec.allow_credentials = credentials;
  REQUEST_ASSIGN_OR_RETURN(terminate, element.BoolAttribute("terminate-unmatched-request", true));
  spec.terminate_unmatched_request = terminate;
  bool has_origins = false;
  for (pugi::xml_node node : element.node().children()) {
    if (node.type() != pugi::node_element) continue;
    ElementReader child(node, element.scope());
    auto collect = [](std::vector<std::string>& into) {
      return [&into](const ElementReader&, const std::string& text) -> Status {
        into.push_back(text);
        return OkStatus();
      };
    };
    if (child.name() == "allowed-origins") {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
      CREDGATE_RETURN_IF_ERROR(ForEachChildText(child, "origin", collect(spec.allowed_origins)));
      has_origins = true;
    } else if (child.name() == "allowed-methods") {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({"preflight-result-max-age"}));
      if (child.Attribute("preflight-result-max-age")) {
        REQUEST_ASSIGN_OR_RETURN(
            age, child.IntegerAttribute("preflight-result-max-age", 0, 0, 86'400 * 365));
        spec.preflight_result_max_age = age;
      }
      CREDGATE_RETURN_IF_ERROR(ForEachChildText(child, "method", collect(spec.allowed_methods)));
    } else if (child.name() == "allowed-headers") {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
      CREDGATE_RETURN_IF_ERROR(ForEachChildText(child, "header", collect(spec.allowed_headers)));
    } else if (child.name() == "expose-headers") {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
      CREDGATE_RETURN_IF_ERROR(ForEachChildText(child, "header", collect(spec.expose_headers)));
    } else {
      std::string closest = ClosestName(child.name(), {"allowed-origins", "allowed-methods",
                                                       "allowed-headers", "expose-headers"});
      return child.Fail("unknown element <" + std::string(child.name()) + "> in <cors>" +
                        (closest.empty() ? "; use allowed-origins, allowed-methods, "
                                           "allowed-headers or expose-headers"
                                         : "; did you mean <" + closest + ">?"));
    }
  }
  if (!has_origins || spec.allowed_origins.empty()) {
    return element.Fail("<cors> needs <allowed-origins> with at least one <origin>");
  }
  const bool any_origin = std::find(spec.allowed_origins.begin(), spec.allowed_origins.end(),
                                    "*") != spec.allowed_origins.end();
  if (any_origin && spec.allow_credentials) {
    // The Fetch standard's CORS check fails for credentialed requests with a '*' origin.
    return element.FailAt("allow-credentials",
                          "allow-credentials=\"true\" cannot be combined "
                          "with the origin '*'; list the origins");
  }
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileMockResponse(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"status-code", "content-type"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  MockResponseSpec spec;
  REQUEST_ASSIGN_OR_RETURN(status, element.IntegerAttribute("status-code", 200, 100, 599));
  spec.status_code = static_cast<int>(status);
  if (auto type = element.Attribute("content-type")) spec.content_type = *type;
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileAuthenticationBasic(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"username", "password"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  AuthenticationBasicSpec spec;
  REQUEST_ASSIGN_OR_RETURN(username, element.RequiredTemplateAttribute("username"));
  REQUEST_ASSIGN_OR_RETURN(password, element.RequiredTemplateAttribute("password"));
  if (!username.is_expression() && username.literal().find(':') != std::string::npos) {
    // RFC 7617 §2: the user-id cannot contain a colon.
    return element.FailAt("username",
                          "attribute 'username' on <authentication-basic> must not "
                          "contain ':'");
  }
  spec.username = std::move(username);
  spec.password = std::move(password);
  return element.NewStatement(std::move(spec));
}

Result<ManagedIdentitySpec> CompileManagedIdentitySpec(const ElementReader& element) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes(
      {"resource", "client-id", "output-token-variable-name", "ignore-error"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  ManagedIdentitySpec spec;
  if (auto client_id = element.Attribute("client-id")) {
    if (client_id->empty() || client_id->starts_with("@(") || client_id->starts_with("@{")) {
      return element.FailAt("client-id",
                            "attribute 'client-id' on <authentication-managed-identity> needs "
                            "the literal client id of a user-assigned identity");
    }
    spec.client_id = std::string(*client_id);
  }
  REQUEST_ASSIGN_OR_RETURN(resource, element.RequiredTemplateAttribute("resource"));
  spec.resource = std::move(resource);
  if (auto variable = element.Attribute("output-token-variable-name")) {
    spec.output_token_variable_name = std::string(*variable);
  }
  REQUEST_ASSIGN_OR_RETURN(ignore_error, element.BoolAttribute("ignore-error", false));
  spec.ignore_error = ignore_error;
  return spec;
}

Result<Statement> CompileAuthenticationManagedIdentity(const ElementReader& element,
                                                       const std::string&) {
  REQUEST_ASSIGN_OR_RETURN(spec, CompileManagedIdentitySpec(element));
  Statement statement = element.NewStatement(std::move(spec));
  statement.is_async = true;  // The token request suspends.
  return statement;
}

Result<Statement> CompileTrace(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"source", "severity"}));
  TraceSpec spec;
  REQUEST_ASSIGN_OR_RETURN(source, element.RequiredAttribute("source"));
  spec.source = std::move(source);
  if (auto severity = element.Attribute("severity")) {
    if (*severity == "information") {
      spec.severity = TraceSeverity::kInformation;
    } else if (*severity == "error") {
      spec.severity = TraceSeverity::kError;
    } else if (*severity != "verbose") {
      return element.FailAt("severity", "invalid value '" + std::string(*severity) +
                                            "' for attribute 'severity' on <trace>; use "
                                            "verbose, information or error");
    }
  }
  bool has_message = false;
  for (pugi::xml_node node : element.node().children()) {
    if (node.type() != pugi::node_element) continue;
    ElementReader child(node, element.scope());
    if (child.name() == "message" && !has_message) {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
      REQUEST_ASSIGN_OR_RETURN(message, child.TextTemplate());
      spec.message = std::move(message);
      has_message = true;
    } else if (child.name() == "metadata") {
      CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({"name", "value"}));
      CREDGATE_RETURN_IF_ERROR(child.CheckNoChildren());
      REQUEST_ASSIGN_OR_RETURN(name, child.RequiredAttribute("name"));
      REQUEST_ASSIGN_OR_RETURN(value, child.RequiredTemplateAttribute("value"));
      spec.metadata.emplace_back(std::move(name), std::move(value));
    } else {
      return child.Fail(child.name() == "message"
                            ? std::string("repeated <message> in <trace>; keep one")
                            : "unknown element <" + std::string(child.name()) +
                                  "> in <trace>; use <message> or <metadata name=\"\" value=\"\">");
    }
  }
  if (!has_message) return element.Fail("<trace> needs a <message>");
  return element.NewStatement(std::move(spec));
}

}  // namespace credgate::policy::internal
