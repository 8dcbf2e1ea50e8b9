#include "policy/statement_compilers.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <map>
#include <string_view>

#include "policy/document.h"
#include "policy/fragment_compiler.h"
#include "policy/liquid_template.h"
#include "policy/request_compilers.h"
#include "policy/response_cache.h"
#include "policy/send_request_compiler.h"
#include "policy/traffic_compilers.h"
#include "policy/validate_jwt_compiler.h"
#include "policy/wrapper_compilers.h"

namespace credgate::policy::internal {

namespace {

#define POLICY_ASSIGN_OR_RETURN(name, expr)              \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

constexpr unsigned Bit(Section section) { return 1u << static_cast<unsigned>(section); }
constexpr unsigned kAllSections = 0xF;
constexpr unsigned kNotBackend = kAllSections & ~Bit(Section::kBackend);

using StatementCompiler = Result<Statement> (*)(const ElementReader&, const std::string& path);

Result<Statement> CompileBase(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  return element.NewStatement(BaseSpec{});
}

Result<Statement> CompileGetAuthorizationContext(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(
      element.CheckAttributes({"provider-id", "authorization-id", "context-variable-name",
                               "identity-type", "identity", "ignore-error"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());

  GetAuthorizationContextSpec spec;
  POLICY_ASSIGN_OR_RETURN(provider, element.RequiredTemplateAttribute("provider-id"));
  POLICY_ASSIGN_OR_RETURN(authorization, element.RequiredTemplateAttribute("authorization-id"));
  POLICY_ASSIGN_OR_RETURN(variable, element.RequiredAttribute("context-variable-name"));
  spec.provider_id = std::move(provider);
  spec.authorization_id = std::move(authorization);
  spec.context_variable_name = std::move(variable);

  if (auto type = element.Attribute("identity-type")) {
    if (*type == "jwt") {
      spec.identity_type = IdentityType::kJwt;
    } else if (*type != "managed") {
      return element.FailAt("identity-type", "invalid value '" + std::string(*type) +
                                                 "' for attribute 'identity-type' on "
                                                 "<get-authorization-context>; use jwt or "
                                                 "managed");
    }
  }
  POLICY_ASSIGN_OR_RETURN(identity, element.TemplateAttribute("identity"));
  if (identity && spec.identity_type != IdentityType::kJwt) {
    return element.FailAt("identity",
                          "attribute 'identity' on <get-authorization-context> "
                          "applies only with identity-type=\"jwt\"");
  }
  spec.identity = std::move(identity);

  POLICY_ASSIGN_OR_RETURN(ignore_error, element.BoolAttribute("ignore-error", false));
  spec.ignore_error = ignore_error;
  Statement statement = element.NewStatement(std::move(spec));
  statement.is_async = true;
  return statement;
}

}  // namespace

Result<SetHeaderSpec> CompileSetHeaderSpec(const ElementReader& element) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"name", "exists-action"}));
  SetHeaderSpec spec;
  POLICY_ASSIGN_OR_RETURN(name, element.RequiredAttribute("name"));
  spec.name = std::move(name);
  if (auto action = element.Attribute("exists-action")) {
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
    spec.exists_action = found->second;
  }
  for (pugi::xml_node child : element.node().children()) {
    if (child.type() != pugi::node_element) continue;
    ElementReader value(child, element.scope());
    if (value.name() != "value") {
      return value.Fail("unknown element <" + std::string(value.name()) + "> in <" +
                        std::string(element.name()) + ">; only <value> is allowed");
    }
    CREDGATE_RETURN_IF_ERROR(value.CheckAttributes({}));
    POLICY_ASSIGN_OR_RETURN(text, value.TextTemplate());
    spec.values.push_back(std::move(text));
  }
  return spec;
}

namespace {

Result<Statement> CompileSetHeader(const ElementReader& element, const std::string&) {
  POLICY_ASSIGN_OR_RETURN(spec, CompileSetHeaderSpec(element));
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileSetVariable(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"name", "value"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  SetVariableSpec spec;
  POLICY_ASSIGN_OR_RETURN(name, element.RequiredAttribute("name"));
  spec.name = std::move(name);
  if (!element.Attribute("value")) {
    return element.Fail("missing required attribute 'value' on <set-variable>");
  }
  POLICY_ASSIGN_OR_RETURN(value, element.TemplateAttribute("value"));
  spec.value = std::move(*value);
  return element.NewStatement(std::move(spec));
}

}  // namespace

namespace {

// Compiles the text of <set-body template="liquid">, which may contain XML elements.
Result<std::shared_ptr<const liquid::Template>> CompileLiquidBody(const ElementReader& element) {
  size_t start = 0;
  std::string_view text = element.RawContent(&start);
  // Surrounding whitespace is dropped, as for the text of a set-body without a template.
  const size_t leading = std::min(text.find_first_not_of(" \t\r\n"), text.size());
  text.remove_prefix(leading);
  start += leading;
  text = text.substr(0, text.find_last_not_of(" \t\r\n") + 1);
  size_t error_offset = 0;
  auto compiled = liquid::CompileTemplate(text, &error_offset);
  if (!compiled.ok()) {
    return element.FailAtSourceOffset(start + error_offset, "invalid Liquid template in <" +
                                                                std::string(element.name()) +
                                                                ">: " + compiled.error().message);
  }
  // The template reads the message body, so the gateway must buffer it, as for Request.Body.
  if (FragmentContext* fragments = element.scope().fragments) {
    const Section section = element.scope().section;
    if (section == Section::kInbound || section == Section::kBackend) {
      fragments->reads_request_body = true;
    } else {
      fragments->reads_response_body = true;
    }
  }
  return compiled;
}

}  // namespace

Result<SetBodySpec> CompileSetBodySpec(const ElementReader& element) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"template", "xsi-nil", "parse-date"}));
  SetBodySpec spec;
  if (auto xsi_nil = element.Attribute("xsi-nil")) {
    if (*xsi_nil != "blank" && *xsi_nil != "null") {
      return element.FailAt("xsi-nil", "invalid value '" + std::string(*xsi_nil) +
                                           "' for attribute 'xsi-nil' on <set-body>; use "
                                           "'blank' or 'null'");
    }
    spec.xsi_nil_as_null = *xsi_nil == "null";
  }
  POLICY_ASSIGN_OR_RETURN(parse_date, element.BoolAttribute("parse-date", true));
  spec.parse_date = parse_date;
  std::optional<std::string_view> template_name = element.Attribute("template");
  if (template_name && *template_name == "liquid") {
    POLICY_ASSIGN_OR_RETURN(liquid, CompileLiquidBody(element));
    spec.liquid = std::move(liquid);
    return spec;
  }
  if (template_name && *template_name != "none") {
    return element.FailAt("template", "unsupported value '" + std::string(*template_name) +
                                          "' for attribute 'template' on <set-body>; use "
                                          "'liquid' or 'none'");
  }
  POLICY_ASSIGN_OR_RETURN(body, element.TextTemplate());
  spec.body = std::move(body);
  return spec;
}

namespace {

Result<Statement> CompileSetBody(const ElementReader& element, const std::string&) {
  POLICY_ASSIGN_OR_RETURN(spec, CompileSetBodySpec(element));
  return element.NewStatement(std::move(spec));
}

Result<SetStatusSpec> CompileSetStatusSpec(const ElementReader& element) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"code", "reason"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  SetStatusSpec spec;
  POLICY_ASSIGN_OR_RETURN(code, element.RequiredTemplateAttribute("code"));
  if (!code.is_expression()) {
    int value = 0;
    const std::string& text = code.literal();
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 100 || value > 599) {
      return element.FailAt("code", "invalid status code '" + text +
                                        "' on <set-status>; use an integer from 100 to 599");
    }
  }
  spec.code = std::move(code);
  POLICY_ASSIGN_OR_RETURN(reason, element.TemplateAttribute("reason"));
  if (reason) spec.reason = std::move(*reason);
  return spec;
}

Result<Statement> CompileSetStatus(const ElementReader& element, const std::string&) {
  POLICY_ASSIGN_OR_RETURN(spec, CompileSetStatusSpec(element));
  return element.NewStatement(std::move(spec));
}

bool AnyAsync(const StatementList& statements) {
  for (const auto& statement : statements) {
    if (statement.is_async) return true;
  }
  return false;
}

Result<Statement> CompileChoose(const ElementReader& element, const std::string& path) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({}));
  // Compiling, running and destroying a <choose> recurse into its clauses, so the nesting is
  // bounded to keep a hostile document from overflowing the stack.
  if (element.scope().outer_blocks + EnclosingBlockCount(element.node()) >= kMaxChooseNesting) {
    return element.Fail("<choose> is nested more than " + std::to_string(kMaxChooseNesting) +
                        " levels deep; flatten the conditions with && or set-variable");
  }
  ChooseSpec spec;
  bool is_async = false;
  for (pugi::xml_node child : element.node().children()) {
    if (child.type() != pugi::node_element) continue;
    ElementReader clause(child, element.scope());
    if (spec.otherwise) {
      return clause.Fail("<" + std::string(clause.name()) +
                         "> after <otherwise>; <otherwise> must be the last clause of <choose>");
    }
    if (clause.name() == "when") {
      CREDGATE_RETURN_IF_ERROR(clause.CheckAttributes({"condition"}));
      POLICY_ASSIGN_OR_RETURN(condition, clause.ExpressionAttribute("condition"));
      std::string prefix = path + "/when[" + std::to_string(spec.when.size() + 1) + "]/";
      POLICY_ASSIGN_OR_RETURN(statements, CompileStatements(child, element.scope(), prefix,
                                                            /*allow_base=*/false));
      is_async = is_async || AnyAsync(statements);
      spec.when.push_back(WhenClause{std::move(condition), std::move(statements)});
    } else if (clause.name() == "otherwise") {
      CREDGATE_RETURN_IF_ERROR(clause.CheckAttributes({}));
      POLICY_ASSIGN_OR_RETURN(
          statements, CompileStatements(child, element.scope(), path + "/otherwise/", false));
      is_async = is_async || AnyAsync(statements);
      spec.otherwise = std::move(statements);
    } else {
      return clause.Fail("unknown element <" + std::string(clause.name()) +
                         "> in <choose>; use <when condition=\"@(...)\"> or <otherwise>");
    }
  }
  if (spec.when.empty()) {
    return element.Fail("<choose> needs at least one <when condition=\"@(...)\"> clause");
  }
  Statement statement = element.NewStatement(std::move(spec));
  statement.is_async = is_async;
  return statement;
}

Result<Statement> CompileReturnResponse(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"response-variable-name"}));
  ReturnResponseSpec spec;
  if (auto variable = element.Attribute("response-variable-name")) {
    spec.response_variable_name = *variable;
  }
  for (pugi::xml_node child : element.node().children()) {
    if (child.type() != pugi::node_element) continue;
    ElementReader part(child, element.scope());
    if (part.name() == "set-status" && !spec.status) {
      POLICY_ASSIGN_OR_RETURN(status, CompileSetStatusSpec(part));
      spec.status = std::move(status);
    } else if (part.name() == "set-header") {
      POLICY_ASSIGN_OR_RETURN(header, CompileSetHeaderSpec(part));
      spec.headers.push_back(std::move(header));
    } else if (part.name() == "set-body" && !spec.body) {
      POLICY_ASSIGN_OR_RETURN(body, CompileSetBodySpec(part));
      spec.body = std::move(body);
    } else if (part.name() == "set-status" || part.name() == "set-body") {
      return part.Fail("repeated <" + std::string(part.name()) +
                       "> in <return-response>; keep one");
    } else {
      return part.Fail("unknown element <" + std::string(part.name()) +
                       "> in <return-response>; use <set-status>, <set-header> or <set-body>");
    }
  }
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileForwardRequest(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(
      element.CheckAttributes({"timeout", "timeout-ms", "buffer-request-body", "buffer-response",
                               "follow-redirects", "fail-on-error-status-code", "http-version"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  ForwardRequestSpec spec;
  for (std::string_view name : {"timeout", "timeout-ms"}) {
    auto text = element.Attribute(name);
    if (!text) continue;
    int64_t value = 0;
    auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (error != std::errc() || end != text->data() + text->size() || value <= 0) {
      return element.FailAt(name, "invalid value '" + std::string(*text) + "' for attribute '" +
                                      std::string(name) +
                                      "' on <forward-request>; use a positive integer (" +
                                      (name == "timeout" ? "seconds" : "milliseconds") + ")");
    }
    spec.timeout = name == "timeout" ? std::chrono::milliseconds(value * 1000)
                                     : std::chrono::milliseconds(value);
    spec.timeout_set = true;
  }
  // credgate speaks HTTP/1.1 to backends, which satisfies "1" and "2or1" but not "2".
  if (auto version = element.Attribute("http-version"); version && *version != "1" &&
                                                         *version != "2or1") {
    return element.FailAt("http-version",
                          "http-version '" + std::string(*version) +
                              "' on <forward-request> is not supported, because credgate sends "
                              "HTTP/1.1 to backends; use \"1\" or \"2or1\", or remove it");
  }
  POLICY_ASSIGN_OR_RETURN(buffer_request, element.BoolAttribute("buffer-request-body", false));
  POLICY_ASSIGN_OR_RETURN(buffer_response, element.BoolAttribute("buffer-response", true));
  POLICY_ASSIGN_OR_RETURN(follow, element.BoolAttribute("follow-redirects", false));
  POLICY_ASSIGN_OR_RETURN(fail_on_error, element.BoolAttribute("fail-on-error-status-code", false));
  spec.buffer_request_body = buffer_request;
  spec.buffer_response = buffer_response;
  spec.follow_redirects = follow;
  spec.fail_on_error_status_code = fail_on_error;
  // Following a redirect sends the request again, which needs the buffered body, so such a
  // forward-request sends from the executor too.
  spec.sends_now =
      follow || element.scope().inside_wrapper || InsideWrapper(element.node());
  const bool sends_now = spec.sends_now;
  if (sends_now) {
    // The request may be sent more than once, so the gateway keeps its whole body.
    if (FragmentContext* fragments = element.scope().fragments) {
      fragments->reads_request_body = true;
    }
  }
  Statement statement = element.NewStatement(std::move(spec));
  statement.is_async = sends_now;
  return statement;
}

struct StatementRule {
  std::string_view name;
  unsigned sections;  // Bit(Section) of every section that allows the statement.
  StatementCompiler compile;
};

constexpr StatementRule kRules[] = {
    {"base", kAllSections, CompileBase},
    {"get-authorization-context", Bit(Section::kInbound), CompileGetAuthorizationContext},
    {"set-header", kAllSections, CompileSetHeader},
    {"set-variable", kAllSections, CompileSetVariable},
    {"set-body", kAllSections, CompileSetBody},
    {"set-status", kNotBackend, CompileSetStatus},
    {"choose", kAllSections, CompileChoose},
    {"return-response", kAllSections, CompileReturnResponse},
    {"forward-request", Bit(Section::kBackend), CompileForwardRequest},
    {"validate-jwt", Bit(Section::kInbound), CompileValidateJwt},
    {"set-method", Bit(Section::kInbound) | Bit(Section::kOnError), CompileSetMethod},
    {"rewrite-uri", Bit(Section::kInbound), CompileRewriteUri},
    {"set-query-parameter", Bit(Section::kInbound) | Bit(Section::kBackend),
     CompileSetQueryParameter},
    {"set-backend-service", Bit(Section::kInbound) | Bit(Section::kBackend),
     CompileSetBackendService},
    {"check-header", Bit(Section::kInbound), CompileCheckHeader},
    {"ip-filter", Bit(Section::kInbound), CompileIpFilter},
    {"cors", Bit(Section::kInbound), CompileCors},
    {"mock-response", kNotBackend, CompileMockResponse},
    {"authentication-basic", Bit(Section::kInbound), CompileAuthenticationBasic},
    {"authentication-managed-identity", Bit(Section::kInbound),
     CompileAuthenticationManagedIdentity},
    {"trace", kAllSections, CompileTrace},
    {"rate-limit-by-key", Bit(Section::kInbound), CompileRateLimitByKey},
    {"quota-by-key", Bit(Section::kInbound), CompileQuotaByKey},
    {"cache-lookup-value", kAllSections, CompileCacheLookupValue},
    {"cache-store-value", kAllSections, CompileCacheStoreValue},
    {"cache-remove-value", kAllSections, CompileCacheRemoveValue},
    {"cache-lookup", Bit(Section::kInbound), CompileCacheLookup},
    {"cache-store", Bit(Section::kOutbound), CompileCacheStore},
    {"send-request", kAllSections, CompileSendRequest},
    {"send-one-way-request", kAllSections, CompileSendRequest},
    {"retry", kAllSections, CompileRetry},
    {"limit-concurrency", kAllSections, CompileLimitConcurrency},
    {"authentication-certificate", Bit(Section::kInbound), CompileAuthenticationCertificate},
};

// Statements of APIM that credgate rejects by name, with the reason.
struct UnsupportedStatement {
  std::string_view name;
  std::string_view reason;
};

constexpr UnsupportedStatement kUnsupported[] = {
    {"rate-limit", "use rate-limit-by-key, because credgate has no subscriptions"},
    {"quota", "use quota-by-key, because credgate has no subscriptions"},
    {"json-to-xml", "it is not supported"},
    {"xml-to-json", "it is not supported"},
    {"find-and-replace", "it is not supported; use set-body with an expression"},
    {"log-to-eventhub", "Event Hubs are not supported; use trace"},
    {"emit-metric", "it is not supported"},
    {"validate-content", "it is not supported"},
    {"validate-parameters", "it is not supported"},
    {"validate-headers", "it is not supported"},
    {"validate-status-code", "it is not supported"},
    {"validate-client-certificate", "client certificates are not supported"},
    {"validate-azure-ad-token", "use validate-jwt with the tenant's openid-config"},
    {"wait", "it is not supported"},
    {"proxy", "a proxy for the backend call is not supported; it works inside <send-request>"},
    {"invoke-dapr-binding", "Dapr is not supported"},
    {"publish-to-dapr", "Dapr is not supported"},
    {"azure-openai-token-limit", "it is not supported"},
    {"llm-token-limit", "it is not supported"},
};

const StatementRule* FindRule(std::string_view name) {
  for (const auto& rule : kRules) {
    if (rule.name == name) return &rule;
  }
  return nullptr;
}

std::string SectionsOf(unsigned sections) {
  std::string names;
  for (Section section :
       {Section::kInbound, Section::kBackend, Section::kOutbound, Section::kOnError}) {
    if ((sections & Bit(section)) == 0) continue;
    names += (names.empty() ? "<" : ", <") + std::string(SectionName(section)) + ">";
  }
  return names;
}

}  // namespace

Result<StatementList> CompileStatements(pugi::xml_node parent, const CompileScope& scope,
                                        const std::string& path_prefix, bool allow_base) {
  StatementList statements;
  std::map<std::string, int, std::less<>> counts;
  for (pugi::xml_node child : parent.children()) {
    if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata) {
      std::string_view text = child.value();
      if (text.find_first_not_of(" \t\r\n") != std::string_view::npos) {
        return ElementReader(parent, scope)
            .Fail("unexpected text in <" + std::string(parent.name()) +
                  ">; a section contains only statements");
      }
      continue;
    }
    if (child.type() != pugi::node_element) continue;
    ElementReader element(child, scope);
    if (element.name() == "include-fragment") {
      int index = ++counts["include-fragment"];
      auto included = CompileIncludeFragment(
          element, path_prefix + "include-fragment[" + std::to_string(index) + "]");
      if (!included.ok()) return included.error();
      for (Statement& statement : *included) statements.push_back(std::move(statement));
      continue;
    }
    const StatementRule* rule = FindRule(element.name());
    if (rule == nullptr) {
      for (const UnsupportedStatement& unsupported : kUnsupported) {
        if (unsupported.name == element.name()) {
          return element.Fail("<" + std::string(unsupported.name) +
                              "> is not supported by credgate: " + std::string(unsupported.reason));
        }
      }
      std::string message = "unknown statement <" + std::string(element.name()) + ">";
      std::string closest =
          ClosestName(element.name(),
                      {"base", "get-authorization-context", "set-header", "set-variable",
                       "set-body", "set-status", "choose", "return-response", "forward-request",
                       "validate-jwt", "set-method", "rewrite-uri", "set-query-parameter",
                       "set-backend-service", "check-header", "ip-filter", "cors",
                       "mock-response", "authentication-basic",
                       "authentication-managed-identity", "trace", "rate-limit-by-key",
                       "quota-by-key", "cache-lookup-value", "cache-store-value",
                       "cache-remove-value", "cache-lookup", "cache-store", "send-request",
                       "send-one-way-request", "retry", "authentication-certificate",
                       "limit-concurrency", "include-fragment"});
      if (!closest.empty()) message += "; did you mean <" + closest + ">?";
      return element.Fail(message);
    }
    if ((rule->sections & Bit(scope.section)) == 0) {
      return element.Fail("<" + std::string(rule->name) + "> is not allowed in <" +
                          std::string(SectionName(scope.section)) + ">; it belongs in " +
                          SectionsOf(rule->sections));
    }
    if (rule->name == "base") {
      if (scope.scope == PolicyScope::kGlobal) {
        return element.Fail(
            "<base/> is not allowed in a global-scope document, which has no "
            "enclosing scope; remove it");
      }
      if (!allow_base) {
        return element.Fail("<base/> is allowed only directly inside a section");
      }
      if (counts.contains("base")) return element.Fail("repeated <base/>; a section takes one");
    }
    int index = ++counts[std::string(rule->name)];
    std::string path = path_prefix + std::string(rule->name) + "[" + std::to_string(index) + "]";
    auto statement = rule->compile(element, path);
    if (!statement.ok()) return statement.error();
    statement->path = std::move(path);
    statements.push_back(std::move(statement).value());
  }
  return statements;
}

}  // namespace credgate::policy::internal
