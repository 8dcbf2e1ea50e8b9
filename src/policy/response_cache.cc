#include "policy/response_cache.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "policy/text.h"
#include "policy/value_cache.h"

namespace credgate::policy {

ResponseCacheCounters& ProcessResponseCacheCounters() {
  static ResponseCacheCounters counters;
  return counters;
}

namespace internal {

namespace {

#define CACHE_ASSIGN_OR_RETURN(name, expr)               \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

// Starts every response key, so that no cache-store-value key equals one: a policy key is text
// from the document or an expression, and the unit separator starts none of them by accident.
constexpr std::string_view kKeyPrefix =
    "\x1f"
    "response\x1f";
constexpr int64_t kMaxDurationSeconds = 30LL * 24 * 3600;

StatementOutcome Next() { return {}; }

StatementOutcome ExpressionFailure(const Error& error) {
  return {false, StatementFailure{500, std::string(kExpressionFailureReason), error.message}};
}

Status CheckDeveloperAttribute(const ElementReader& element, std::string_view name) {
  auto value = element.BoolAttribute(name, false);
  if (!value.ok()) return value.error();
  if (!element.Attribute(name)) {
    return element.Fail("missing required attribute '" + std::string(name) +
                        "' on <cache-lookup>; set it to \"false\"");
  }
  if (*value) {
    return element.FailAt(name, "attribute '" + std::string(name) +
                                    "' on <cache-lookup> must be \"false\", because credgate has "
                                    "no developers or developer groups");
  }
  return OkStatus();
}

// Returns the values of query parameter `name` in `query` (encoded, without '?'), joined by ','.
std::string QueryValues(std::string_view query, std::string_view name) {
  std::string values;
  while (!query.empty()) {
    size_t end = query.find('&');
    std::string_view pair = query.substr(0, end);
    size_t equals = pair.find('=');
    if (pair.substr(0, equals) == name) {
      if (!values.empty()) values += ',';
      if (equals != std::string_view::npos) values += pair.substr(equals + 1);
    }
    if (end == std::string_view::npos) break;
    query.remove_prefix(end + 1);
  }
  return values;
}

std::string CacheControl(std::string_view downstream, bool must_revalidate, int64_t max_age) {
  std::string value(downstream);
  value += ", max-age=" + std::to_string(max_age);
  if (must_revalidate) value += ", must-revalidate";
  return value;
}

// Stored form of a response: "<status> <expiry in Unix seconds>", then one "name:value" line per
// field, an empty line and the body. Fields with a line break are left out, so the lines split
// unambiguously.
std::string EncodeResponse(const ResponseState& response, int64_t expires_at) {
  std::string out = std::to_string(response.status_code) + " " + std::to_string(expires_at) + "\n";
  for (const auto& [name, value] : response.headers.fields()) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection") || EqualsIgnoreCase(name, "Set-Cookie") ||
        value.find('\n') != std::string::npos) {
      continue;
    }
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  out += '\n';
  out += response.body;
  return out;
}

bool DecodeResponse(std::string_view text, ResponseState& response, int64_t& expires_at) {
  size_t line_end = text.find('\n');
  if (line_end == std::string_view::npos) return false;
  int status = 0;
  const char* end = text.data() + line_end;
  auto parsed = std::from_chars(text.data(), end, status);
  if (parsed.ec != std::errc() || status < 100 || status > 599 || parsed.ptr == end) {
    return false;
  }
  auto expiry = std::from_chars(parsed.ptr + 1, end, expires_at);
  if (expiry.ec != std::errc()) return false;
  response.status_code = status;
  text.remove_prefix(line_end + 1);
  while (true) {
    line_end = text.find('\n');
    if (line_end == std::string_view::npos) return false;
    std::string_view line = text.substr(0, line_end);
    text.remove_prefix(line_end + 1);
    if (line.empty()) break;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    response.headers.Append(line.substr(0, colon), std::string(line.substr(colon + 1)));
  }
  response.body = std::string(text);
  return true;
}

}  // namespace

Result<Statement> CompileCacheLookup(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes(
      {"vary-by-developer", "vary-by-developer-groups", "caching-type", "downstream-caching-type",
       "must-revalidate", "allow-private-response-caching"}));
  CREDGATE_RETURN_IF_ERROR(CheckDeveloperAttribute(element, "vary-by-developer"));
  CREDGATE_RETURN_IF_ERROR(CheckDeveloperAttribute(element, "vary-by-developer-groups"));
  CacheLookupSpec spec;
  if (auto type = element.Attribute("caching-type")) {
    if (*type == "external") {
      return element.FailAt("caching-type",
                            "caching-type=\"external\" is not supported, because credgate has "
                            "only its internal cache");
    }
    if (*type != "internal" && *type != "prefer-external") {
      return element.FailAt("caching-type", "invalid value '" + std::string(*type) +
                                                "' for attribute 'caching-type'; use internal "
                                                "or prefer-external");
    }
  }
  if (auto downstream = element.Attribute("downstream-caching-type")) {
    if (*downstream == "private") {
      spec.downstream_caching = DownstreamCaching::kPrivate;
    } else if (*downstream == "public") {
      spec.downstream_caching = DownstreamCaching::kPublic;
    } else if (*downstream != "none") {
      return element.FailAt("downstream-caching-type",
                            "invalid value '" + std::string(*downstream) +
                                "' for attribute 'downstream-caching-type'; use none, private "
                                "or public");
    }
  }
  CACHE_ASSIGN_OR_RETURN(must_revalidate, element.BoolAttribute("must-revalidate", true));
  spec.must_revalidate = must_revalidate;
  CACHE_ASSIGN_OR_RETURN(allow_private,
                         element.BoolAttribute("allow-private-response-caching", false));
  spec.allow_private_response_caching = allow_private;

  for (pugi::xml_node node : element.node().children()) {
    if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) {
      if (std::string_view(node.value()).find_first_not_of(" \t\r\n") != std::string_view::npos) {
        return element.Fail(
            "<cache-lookup> takes no text; use <vary-by-header> and "
            "<vary-by-query-parameter> elements");
      }
      continue;
    }
    if (node.type() != pugi::node_element) continue;
    ElementReader child(node, element.scope());
    const bool header = child.name() == "vary-by-header";
    if (!header && child.name() != "vary-by-query-parameter") {
      return child.Fail("unknown element <" + std::string(child.name()) +
                        "> in <cache-lookup>; use <vary-by-header> or <vary-by-query-parameter>");
    }
    CREDGATE_RETURN_IF_ERROR(child.CheckAttributes({}));
    CACHE_ASSIGN_OR_RETURN(text, child.TextTemplate());
    if (text.is_expression() || text.literal().empty()) {
      return child.Fail("<" + std::string(child.name()) + "> needs a literal name as its text");
    }
    (header ? spec.vary_by_headers : spec.vary_by_query_parameters).push_back(text.literal());
  }
  spec.cache = ProcessValueCache();
  return element.NewStatement(std::move(spec));
}

Result<Statement> CompileCacheStore(const ElementReader& element, const std::string&) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"duration", "cache-response"}));
  CREDGATE_RETURN_IF_ERROR(element.CheckNoChildren());
  CacheStoreSpec spec;
  CACHE_ASSIGN_OR_RETURN(duration, element.RequiredTemplateAttribute("duration"));
  if (!duration.is_expression()) {
    auto checked = element.IntegerAttribute("duration", 0, 1, kMaxDurationSeconds);
    if (!checked.ok()) return checked.error();
  }
  spec.duration = std::move(duration);
  CACHE_ASSIGN_OR_RETURN(cache_response, element.BoolAttribute("cache-response", false));
  spec.cache_response = cache_response;
  spec.cache = ProcessValueCache();
  return element.NewStatement(std::move(spec));
}

StatementOutcome ApplyCacheLookup(const CacheLookupSpec& spec, PolicyContext& context,
                                  TimePoint now) {
  ResponseCacheCounters& counters = ProcessResponseCacheCounters();
  const std::string& method = context.request.method;
  const bool cacheable_method = method == "GET" || method == "HEAD";
  const bool private_request = context.request.headers.Contains("Authorization");
  if (!cacheable_method || (private_request && !spec.allow_private_response_caching)) {
    counters.bypassed.fetch_add(1, std::memory_order_relaxed);
    return Next();
  }

  std::string key(kKeyPrefix);
  for (const std::string& part :
       {context.api.id, context.operation.id, method, context.request.path}) {
    key += part;
    key += '\x1f';
  }
  for (const std::string& name : spec.vary_by_query_parameters) {
    key += name + "=" + QueryValues(context.request.query_string, name) + "\x1f";
  }
  for (const std::string& name : spec.vary_by_headers) {
    key += name + ":" + context.request.headers.GetJoined(name).value_or("") + "\x1f";
  }

  const std::string downstream = spec.downstream_caching == DownstreamCaching::kPrivate  ? "private"
                                 : spec.downstream_caching == DownstreamCaching::kPublic ? "public"
                                                                                         : "";
  std::optional<Value> found = spec.cache->Find(key, now);
  ResponseState stored;
  int64_t expires_at = 0;
  if (found && found->is_string() && DecodeResponse(found->AsString(), stored, expires_at)) {
    counters.hits.fetch_add(1, std::memory_order_relaxed);
    context.response = std::move(stored);
    if (!downstream.empty()) {
      const int64_t remaining = std::max<int64_t>(0, expires_at - ToUnixSeconds(now));
      context.response.headers.Set("Cache-Control",
                                   CacheControl(downstream, spec.must_revalidate, remaining));
    }
    context.response_ready = true;
    return {true, std::nullopt};
  }
  counters.misses.fetch_add(1, std::memory_order_relaxed);
  context.response_cache = ResponseCacheState{std::move(key), downstream, spec.must_revalidate};
  return Next();
}

StatementOutcome ApplyCacheStore(const CacheStoreSpec& spec, PolicyContext& context,
                                 TimePoint now) {
  if (!context.response_cache) return Next();
  if (context.response.status_code != 200 && !spec.cache_response) return Next();
  auto duration = spec.duration.Evaluate(context);
  if (!duration.ok()) return ExpressionFailure(duration.error());
  int64_t seconds = 0;
  if (duration->is_int()) {
    seconds = duration->AsInt();
  } else if (duration->is_string()) {
    seconds = std::strtoll(duration->AsString().c_str(), nullptr, 10);
  }
  if (seconds <= 0 || seconds > kMaxDurationSeconds) {
    return ExpressionFailure(MakeError(ErrorCode::kInvalidArgument,
                                       "cache-store duration '" + duration->ToString() +
                                           "' is not a number of seconds from 1 to 2592000"));
  }
  const ResponseCacheState& state = *context.response_cache;
  if (!state.downstream.empty()) {
    context.response.headers.Set("Cache-Control",
                                 CacheControl(state.downstream, state.must_revalidate, seconds));
  }
  spec.cache->Store(state.key,
                    Value(EncodeResponse(context.response, ToUnixSeconds(now) + seconds)),
                    std::chrono::seconds(seconds), now);
  ProcessResponseCacheCounters().stores.fetch_add(1, std::memory_order_relaxed);
  return Next();
}

}  // namespace internal
}  // namespace credgate::policy
