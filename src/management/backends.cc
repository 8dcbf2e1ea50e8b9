#include "management/backends.h"

#include <memory>

namespace credgate::management {

namespace {

bool Names(const std::shared_ptr<const policy::CompiledDocument>& document, std::string_view id) {
  return document != nullptr && document->backends.contains(std::string(id));
}

}  // namespace

Status SetBackend(runtime::Snapshot& snapshot, const BackendResource& backend, int& status) {
  auto service = http::ParseHttpUrl(backend.url);
  if (!service.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid 'properties.url': " + service.error().message, "ValidationError");
  }
  auto entry = std::make_shared<runtime::BackendEntry>();
  entry->resource = backend;
  entry->service = std::move(service).value();
  auto& slot = snapshot.backends[backend.id];
  status = slot ? 200 : 201;
  slot = std::move(entry);
  return OkStatus();
}

std::vector<std::string> BackendUsers(const runtime::Snapshot& snapshot, std::string_view id) {
  std::vector<std::string> users;
  if (Names(snapshot.global_document, id)) users.push_back("/policies/policy");
  for (const auto& [api_id, api] : snapshot.apis) {
    if (Names(api->document, id)) users.push_back("/apis/" + api_id + "/policies/policy");
    for (const auto& [operation_id, operation] : api->operations) {
      if (Names(operation->document, id)) {
        users.push_back("/apis/" + api_id + "/operations/" + operation_id + "/policies/policy");
      }
    }
  }
  return users;
}

Status RequireBackends(const policy::CompiledDocument& document,
                       const std::function<bool(const std::string&)>& exists) {
  for (const std::string& id : document.backends) {
    if (exists(id)) continue;
    return MakeError(ErrorCode::kInvalidArgument,
                     "set-backend-service names backend '" + id +
                         "', which does not exist: create it with PUT /backends/" + id + " first",
                     "ValidationError");
  }
  return OkStatus();
}

}  // namespace credgate::management
