#include "app/admin_cli.h"

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "app/management_client.h"
#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "crypto/key_file.h"
#include "management/admin_keys.h"
#include "management/rewrap.h"
#include "store/sqlite_store.h"

namespace credgate::app {

namespace json = boost::json;

namespace {

constexpr std::chrono::seconds kRequestTimeout{30};
// A rewrap touches every record, so it gets longer.
constexpr std::chrono::seconds kRewrapTimeout{600};

void PrintError(const std::string& message) {
  std::fprintf(stderr, "credgate: %s\n", message.c_str());
}

Result<std::unique_ptr<store::SqliteStore>> OpenStore(const AdminCliTarget& target) {
  store::SqliteStoreOptions options;
  options.path = target.data_dir + "/credgate.db";
  std::ifstream exists(options.path);
  if (!exists) {
    return MakeError(ErrorCode::kNotFound,
                     "no database at " + options.path +
                         "; pass --data-dir with the folder that credgate serve uses");
  }
  return store::SqliteStore::Open(options);
}

Result<Secret> ReadAdminKey(const AdminCliTarget& target) {
  if (target.admin_key_file.empty()) {
    if (const char* from_env = std::getenv("CREDGATE_ADMIN_KEY"); from_env && *from_env) {
      return Secret(std::string(from_env));
    }
  }
  const std::string path =
      target.admin_key_file.empty() ? target.data_dir + "/admin.key" : target.admin_key_file;
  std::ifstream file(path);
  if (!file) {
    return MakeError(ErrorCode::kNotFound, "cannot read the admin key file " + path +
                                               "; pass --admin-key-file or set CREDGATE_ADMIN_KEY");
  }
  std::stringstream content;
  content << file.rdbuf();
  std::string key = content.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) {
    key.pop_back();
  }
  return Secret(std::move(key));
}

// Calls the management API with the target's admin key and returns the parsed JSON body of a
// 2xx reply ({} for 204).
Result<json::value> CallServer(const AdminCliTarget& target, const std::string& method,
                               const std::string& path, const std::string& body,
                               std::chrono::seconds timeout) {
  auto key = ReadAdminKey(target);
  if (!key.ok()) return key.error();
  return CallManagementApi(target.management_url, method, path, *key, body, timeout);
}

void PrintKeyRow(std::string_view id, std::string_view role, int64_t created_at) {
  std::printf("%-32.*s %-9.*s %lld\n", static_cast<int>(id.size()), id.data(),
              static_cast<int>(role.size()), role.data(), static_cast<long long>(created_at));
}

// Loads the master keys as credgate serve does, except that a missing <data-dir>/master.key is
// an error instead of being generated, and rewraps the store directly.
Result<std::pair<management::RewrapCounts, std::string>> RewrapOffline(
    const AdminCliTarget& target) {
  crypto::KeyringOptions options;
  options.env_value = crypto::MasterKeyFromEnv();
  options.key_file = target.master_key_file;
  options.key_command.argv = target.master_key_command;
  if (!options.env_value && options.key_file.empty() && options.key_command.argv.empty()) {
    options.key_file = target.data_dir + "/master.key";
  }
  OpenSslRandom random;
  auto loaded = crypto::LoadKeyring(options, random);
  if (!loaded.ok()) return loaded.error();
  auto store = OpenStore(target);
  if (!store.ok()) return store.error();
  auto counts = management::RewrapAll(**store, loaded->keyring);
  if (!counts.ok()) return counts.error();
  return std::pair(*counts, loaded->keyring.active_key_id());
}

}  // namespace

int RunAdminKeyCreate(const AdminCliTarget& target, const std::string& id,
                      const std::string& role) {
  auto parsed_role = management::ParseAdminRole(role);
  if (!parsed_role.ok()) {
    PrintError(parsed_role.error().message);
    return 2;
  }
  Status valid_id = management::ValidateAdminKeyId(id);
  if (!valid_id.ok()) {
    PrintError(valid_id.error().message);
    return 2;
  }
  if (!target.management_url.empty()) {
    json::object properties;
    properties["role"] = role;
    json::object body;
    body["properties"] = std::move(properties);
    auto created =
        CallServer(target, "PUT", "/adminKeys/" + id, json::serialize(body), kRequestTimeout);
    if (!created.ok()) {
      PrintError(created.error().message);
      return 1;
    }
    const json::value* key = created->as_object().if_contains("properties");
    if (key != nullptr && key->is_object()) key = key->as_object().if_contains("key");
    if (key == nullptr || !key->is_string()) {
      PrintError("the server's reply carries no key");
      return 1;
    }
    std::printf("%s\n", key->as_string().c_str());
    std::fprintf(stderr, "credgate: created admin key '%s' with role %s; it is shown only once\n",
                 id.c_str(), role.c_str());
    return 0;
  }

  auto store = OpenStore(target);
  if (!store.ok()) {
    PrintError(store.error().message);
    return 1;
  }
  OpenSslRandom random;
  SystemClock clock;
  auto created = management::CreateAdminKey(**store, id, *parsed_role, random, clock.Now());
  if (!created.ok()) {
    PrintError(created.error().message);
    return 1;
  }
  std::printf("%.*s\n", static_cast<int>(created->key.size()), created->key.Expose().data());
  std::fprintf(stderr, "credgate: created admin key '%s' with role %s; it is shown only once\n",
               id.c_str(), role.c_str());
  return 0;
}

int RunAdminKeyRevoke(const AdminCliTarget& target, const std::string& id) {
  bool deleted = false;
  if (!target.management_url.empty()) {
    auto key = ReadAdminKey(target);
    if (!key.ok()) {
      PrintError(key.error().message);
      return 1;
    }
    auto reply = SendManagementRequest(target.management_url, "DELETE", "/adminKeys/" + id, *key,
                                       "", kRequestTimeout);
    if (!reply.ok()) {
      PrintError(reply.error().message);
      return 1;
    }
    if (reply->status != 200 && reply->status != 204) {
      PrintError("DELETE /adminKeys/" + id + " returned HTTP " + std::to_string(reply->status) +
                 ": " + reply->body);
      return 1;
    }
    deleted = reply->status == 200;
  } else {
    auto store = OpenStore(target);
    if (!store.ok()) {
      PrintError(store.error().message);
      return 1;
    }
    auto result = (*store)->DeleteAdminKey(id);
    if (!result.ok()) {
      PrintError(result.error().message);
      return 1;
    }
    deleted = *result;
  }
  if (!deleted) {
    PrintError("no admin key has the id '" + id + "'");
    return 1;
  }
  std::fprintf(stderr, "credgate: revoked admin key '%s'\n", id.c_str());
  return 0;
}

int RunAdminKeyList(const AdminCliTarget& target) {
  if (!target.management_url.empty()) {
    auto listed = CallServer(target, "GET", "/adminKeys", "", kRequestTimeout);
    if (!listed.ok()) {
      PrintError(listed.error().message);
      return 1;
    }
    const json::value* items = listed->as_object().if_contains("value");
    if (items == nullptr || !items->is_array()) {
      PrintError("the server's reply has no 'value' list");
      return 1;
    }
    for (const auto& item : items->as_array()) {
      const json::object& key = item.as_object();
      const json::object& properties = key.at("properties").as_object();
      PrintKeyRow(key.at("id").as_string(), properties.at("role").as_string(),
                  properties.at("createdAt").to_number<int64_t>());
    }
    return 0;
  }
  auto store = OpenStore(target);
  if (!store.ok()) {
    PrintError(store.error().message);
    return 1;
  }
  auto records = (*store)->ListAdminKeys();
  if (!records.ok()) {
    PrintError(records.error().message);
    return 1;
  }
  for (const auto& record : *records) PrintKeyRow(record.id, record.role, record.created_at);
  return 0;
}

int RunKeysRewrap(const AdminCliTarget& target) {
  management::RewrapCounts counts;
  std::string active;
  if (target.management_url.empty()) {
    auto offline = RewrapOffline(target);
    if (!offline.ok()) {
      PrintError(offline.error().message);
      return 1;
    }
    counts = offline->first;
    active = offline->second;
  } else {
    auto result = CallServer(target, "POST", "/masterKeys/rewrap", "", kRewrapTimeout);
    if (!result.ok()) {
      PrintError(result.error().message);
      return 1;
    }
    const json::object& body = result->as_object();
    auto number = [&body](std::string_view name) {
      const json::value* value = body.if_contains(name);
      return value != nullptr && value->is_int64() ? value->as_int64() : int64_t{0};
    };
    counts.rewrapped = number("rewrapped");
    counts.already_current = number("alreadyCurrent");
    counts.changed_concurrently = number("changedConcurrently");
    counts.failed = number("failed");
    if (const json::value* id = body.if_contains("activeKeyId"); id != nullptr && id->is_string()) {
      active = std::string(id->as_string());
    }
  }
  std::printf(
      "rewrapped=%lld already_current=%lld changed_concurrently=%lld failed=%lld "
      "active_key=%s\n",
      static_cast<long long>(counts.rewrapped), static_cast<long long>(counts.already_current),
      static_cast<long long>(counts.changed_concurrently),
      static_cast<long long>(counts.failed), active.c_str());
  if (counts.failed > 0) {
    PrintError("some records could not be rewrapped; the log names them");
    return 1;
  }
  return 0;
}

}  // namespace credgate::app
