#include "gateway/backend_target.h"

#include "common/encoding.h"

namespace credgate::gateway {

namespace {

// Percent-encodes each '/'-separated segment of `path`, keeping the separators.
std::string EncodeSegments(std::string_view path) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    out += PercentEncode(path.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    out += '/';
    start = slash + 1;
  }
  return out;
}

Error InvalidUrl(std::string_view what, const Error& error) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(what) + ": " + error.message);
}

}  // namespace

Result<BackendTarget> ResolveBackendTarget(const runtime::Snapshot& snapshot,
                                           const policy::PolicyContext& context,
                                           const runtime::Settings& settings) {
  BackendTarget target;
  if (context.backend_url) {
    auto parsed = http::ParseHttpUrl(*context.backend_url);
    if (!parsed.ok()) return InvalidUrl("the set-backend-service URL is invalid", parsed.error());
    target.service = std::move(parsed).value();
    return target;
  }
  if (context.backend_id) {
    auto it = snapshot.backends.find(*context.backend_id);
    if (it == snapshot.backends.end()) {
      return MakeError(
          ErrorCode::kNotFound,
          "set-backend-service names backend '" + *context.backend_id + "', which does not exist",
          "BackendNotFound");
    }
    target.service = it->second->service;
    target.backend = it->second;
    return target;
  }
  if (context.dapr) {
    auto parsed = http::ParseHttpUrl(settings.dapr_sidecar_url);
    if (!parsed.ok()) return InvalidUrl("the Dapr sidecar URL is invalid", parsed.error());
    target.service = std::move(parsed).value();
    std::string app = context.dapr->app_id;
    if (!context.dapr->namespace_name.empty()) app += "." + context.dapr->namespace_name;
    std::string_view method = context.dapr->method;
    while (method.starts_with('/')) method.remove_prefix(1);
    target.path = "/v1.0/invoke/" + PercentEncode(app) + "/method/" + EncodeSegments(method);
  }
  return target;
}

void ApplyBackendCredentials(const management::BackendResource& backend,
                             http::RequestHeader& header, std::string& query) {
  for (const management::BackendCredential& credential : backend.headers) {
    header.erase(credential.name);
    for (const Secret& value : credential.values) header.insert(credential.name, value.Expose());
  }
  if (!backend.authorization_scheme.empty()) {
    header.set(
        boost::beast::http::field::authorization,
        backend.authorization_scheme + " " + std::string(backend.authorization_parameter.Expose()));
  }
  for (const management::BackendCredential& credential : backend.query) {
    for (const Secret& value : credential.values) {
      if (!query.empty()) query += '&';
      query += PercentEncode(credential.name);
      query += '=';
      query += PercentEncode(value.Expose());
    }
  }
}

}  // namespace credgate::gateway
