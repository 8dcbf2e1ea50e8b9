#include "management/security_handlers.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <vector>

#include "common/random.h"
#include "crypto/keyring.h"
#include "management/admin_keys.h"
#include "management/resources.h"
#include "management/rewrap.h"
#include "store/async_store.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    size_t start = path.find_first_not_of('/');
    if (start == std::string_view::npos) break;
    path.remove_prefix(start);
    size_t end = path.find('/');
    segments.push_back(path.substr(0, end));
    path = end == std::string_view::npos ? std::string_view() : path.substr(end);
  }
  return segments;
}

Error MethodNotAllowed(const std::string& method) {
  return MakeError(ErrorCode::kMethodNotAllowed,
                   "method " + method + " is not supported on this resource", "MethodNotAllowed");
}

Error NoSuchPath(std::string_view path) {
  return MakeError(ErrorCode::kNotFound,
                   "no management resource at '" + std::string(path) +
                       "'; see docs/management-api.md for the resource paths",
                   "ResourceNotFound");
}

json::object RenderAdminKey(const store::AdminKeyRecord& record) {
  json::object properties;
  properties["role"] = record.role;
  properties["createdAt"] = record.created_at;
  json::object out;
  out["id"] = record.id;
  out["properties"] = std::move(properties);
  return out;
}

Result<AdminRole> RoleOfBody(const std::string& body) {
  auto parsed = ParseJsonBody(body);
  if (!parsed.ok()) return parsed.error();
  const json::value* role = parsed->if_contains("properties");
  if (role != nullptr && role->is_object()) role = role->as_object().if_contains("role");
  if (role == nullptr || !role->is_string()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "missing properties.role: send {\"properties\":{\"role\":\"reader\"}} with "
                     "reader, operator or admin",
                     "ValidationError");
  }
  auto parsed_role = ParseAdminRole(role->get_string());
  if (!parsed_role.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, "properties.role: " + parsed_role.error().message,
                     "ValidationError");
  }
  return parsed_role;
}

awaitable<Result<json::value>> ListAdminKeys(runtime::Services& services) {
  auto list = [](store::Store& s) { return s.ListAdminKeys(); };
  auto records = co_await services.store->Run(std::move(list));
  if (!records.ok()) co_return records.error();
  json::array items;
  for (const auto& record : *records) items.push_back(RenderAdminKey(record));
  json::object out;
  out["value"] = std::move(items);
  co_return json::value(std::move(out));
}

awaitable<Result<json::value>> CreateKey(runtime::Services& services, std::string id,
                                         const std::string& body, int& status) {
  CREDGATE_CO_RETURN_IF_ERROR(ValidateAdminKeyId(id));
  auto role = RoleOfBody(body);
  if (!role.ok()) co_return role.error();
  const TimePoint now = services.clock->Now();
  const AdminRole chosen = *role;
  auto create = [id, chosen, now](store::Store& s) {
    OpenSslRandom random;
    return CreateAdminKey(s, id, chosen, random, now);
  };
  auto created = co_await services.store->Run(std::move(create));
  if (!created.ok()) co_return created.error();
  spdlog::info("admin key created id={} role={}", id, created->record.role);
  json::object out = RenderAdminKey(created->record);
  out["properties"].as_object()["key"] = created->key.Expose();
  status = 201;
  co_return json::value(std::move(out));
}

awaitable<Result<json::value>> RevokeKey(runtime::Services& services, std::string id, int& status) {
  auto revoke = [id](store::Store& s) { return s.DeleteAdminKey(id); };
  auto deleted = co_await services.store->Run(std::move(revoke));
  if (!deleted.ok()) co_return deleted.error();
  if (*deleted) spdlog::info("admin key revoked id={}", id);
  status = *deleted ? 200 : 204;
  co_return json::value(nullptr);
}

json::value RenderMasterKeys(const crypto::Keyring& keyring) {
  json::array ids;
  for (const auto& id : keyring.key_ids()) ids.push_back(json::string(id));
  json::object out;
  out["activeKeyId"] = keyring.active_key_id();
  out["keyIds"] = std::move(ids);
  return out;
}

awaitable<Result<json::value>> Rewrap(runtime::Services& services) {
  auto counts = co_await RewrapAllAsync(*services.store, *services.keyring);
  if (!counts.ok()) co_return counts.error();
  json::object out;
  out["activeKeyId"] = services.keyring->active_key_id();
  out["rewrapped"] = counts->rewrapped;
  out["alreadyCurrent"] = counts->already_current;
  out["changedConcurrently"] = counts->changed_concurrently;
  out["failed"] = counts->failed;
  co_return json::value(std::move(out));
}

}  // namespace

bool IsSecurityPath(std::string_view path) {
  auto segments = Segments(path);
  return !segments.empty() && (segments[0] == "adminKeys" || segments[0] == "masterKeys");
}

awaitable<Result<json::value>> HandleSecurityCall(runtime::Services& services,
                                                  const std::string& method, std::string_view path,
                                                  const std::string& body, int& status) {
  auto segments = Segments(path);
  status = 200;
  if (segments.size() == 1 && segments[0] == "adminKeys") {
    if (method != "GET") co_return MethodNotAllowed(method);
    co_return co_await ListAdminKeys(services);
  }
  if (segments.size() == 2 && segments[0] == "adminKeys") {
    std::string id(segments[1]);
    if (method == "PUT") co_return co_await CreateKey(services, std::move(id), body, status);
    if (method == "DELETE") co_return co_await RevokeKey(services, std::move(id), status);
    co_return MethodNotAllowed(method);
  }
  if (segments.size() == 1 && segments[0] == "masterKeys") {
    if (method != "GET") co_return MethodNotAllowed(method);
    co_return RenderMasterKeys(*services.keyring);
  }
  if (segments.size() == 2 && segments[0] == "masterKeys" && segments[1] == "rewrap") {
    if (method != "POST") co_return MethodNotAllowed(method);
    co_return co_await Rewrap(services);
  }
  co_return NoSuchPath(path);
}

}  // namespace credgate::management
