#include "management/rewrap.h"

#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <utility>
#include <vector>

#include "crypto/aead.h"
#include "management/persistence.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

struct SealedRecords {
  std::vector<std::pair<std::string, std::string>> resources;  // (kind, key)
  std::vector<std::string> tokens;                             // Connection store keys.
};

Result<SealedRecords> ListSealedRecords(store::Store& store) {
  SealedRecords records;
  auto resources = store.ListAll();
  if (!resources.ok()) return resources.error();
  for (const auto& record : *resources) {
    // Only bodies that mention a sealed member are parsed later.
    if (record.body_json.find(kSealedSecretMember) != std::string::npos ||
        record.body_json.find(kSealedParametersMember) != std::string::npos ||
        record.body_json.find(kSealedCredentialsMember) != std::string::npos) {
      records.resources.emplace_back(record.kind, record.key);
    }
  }
  auto tokens = store.ListAllTokens();
  if (!tokens.ok()) return tokens.error();
  for (const auto& record : *tokens) records.tokens.push_back(record.connection_key);
  return records;
}

// A store failure stops the rewrap; any other failure concerns one record's sealed value.
bool IsStoreFailure(const Error& error) {
  return error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kInternal;
}

// Adds one record's outcome to `counts`, or returns the error that must stop the rewrap.
Status Count(const Result<RewrapOutcome>& outcome, std::string_view key, RewrapCounts& counts) {
  if (!outcome.ok()) {
    if (IsStoreFailure(outcome.error())) return outcome.error();
    ++counts.failed;
    spdlog::error("rewrap failed key={}: {}", key, outcome.error().message);
    return OkStatus();
  }
  switch (*outcome) {
    case RewrapOutcome::kRewrapped:
      ++counts.rewrapped;
      break;
    case RewrapOutcome::kAlreadyCurrent:
      ++counts.already_current;
      break;
    case RewrapOutcome::kChangedConcurrently:
      ++counts.changed_concurrently;
      break;
  }
  return OkStatus();
}

// Rewraps `blob` under the active key; returns nullopt when it already is.
Result<std::optional<std::string>> RewrapBlob(const crypto::Keyring& keyring,
                                              std::string_view blob) {
  auto key_id = crypto::SealedKeyId(blob);
  if (!key_id.ok()) return key_id.error();
  if (*key_id == keyring.active_key_id()) return std::optional<std::string>();
  auto rewrapped = keyring.Rewrap(blob);
  if (!rewrapped.ok()) {
    // Rewrap failures are about the value, never the store.
    return MakeError(ErrorCode::kFailedPrecondition, rewrapped.error().message);
  }
  return std::optional<std::string>(std::move(*rewrapped));
}

void LogCounts(const RewrapCounts& counts, const crypto::Keyring& keyring) {
  spdlog::info(
      "rewrap finished active_key={} rewrapped={} already_current={} "
      "changed_concurrently={} failed={}",
      keyring.active_key_id(), counts.rewrapped, counts.already_current,
      counts.changed_concurrently, counts.failed);
}

}  // namespace

Result<RewrapOutcome> RewrapTokenRecord(store::Store& store, const crypto::Keyring& keyring,
                                        std::string_view connection_key) {
  auto record = store.GetTokens(connection_key);
  if (!record.ok()) {
    if (record.error().code == ErrorCode::kNotFound) return RewrapOutcome::kChangedConcurrently;
    return record.error();
  }
  auto rewrapped = RewrapBlob(keyring, record->sealed_tokens);
  if (!rewrapped.ok()) return rewrapped.error();
  if (!rewrapped->has_value()) return RewrapOutcome::kAlreadyCurrent;
  auto replaced = store.ReplaceSealedTokens(connection_key, record->version, **rewrapped);
  if (!replaced.ok()) return replaced.error();
  return *replaced ? RewrapOutcome::kRewrapped : RewrapOutcome::kChangedConcurrently;
}

Result<RewrapOutcome> RewrapResourceRecord(store::Store& store, const crypto::Keyring& keyring,
                                           std::string_view kind, std::string_view key) {
  auto record = store.Get(kind, key);
  if (!record.ok()) {
    if (record.error().code == ErrorCode::kNotFound) return RewrapOutcome::kChangedConcurrently;
    return record.error();
  }
  boost::system::error_code parse_error;
  json::value body = json::parse(record->body_json, parse_error);
  if (parse_error || !body.is_object()) {
    return MakeError(ErrorCode::kFailedPrecondition, "the stored body is not a JSON object");
  }

  bool changed = false;
  for (std::string_view member :
       {kSealedSecretMember, kSealedParametersMember, kSealedCredentialsMember}) {
    auto found = body.as_object().find(member);
    if (found == body.as_object().end() || !found->value().is_string()) continue;
    auto blob = crypto::SealedFromBase64(found->value().get_string());
    if (!blob.ok()) return MakeError(ErrorCode::kFailedPrecondition, blob.error().message);
    auto rewrapped = RewrapBlob(keyring, *blob);
    if (!rewrapped.ok()) return rewrapped.error();
    if (!rewrapped->has_value()) continue;
    found->value() = crypto::SealedToBase64(**rewrapped);
    changed = true;
  }
  if (!changed) return RewrapOutcome::kAlreadyCurrent;
  auto replaced = store.ReplaceResourceBody(kind, key, record->version, json::serialize(body));
  if (!replaced.ok()) return replaced.error();
  return *replaced ? RewrapOutcome::kRewrapped : RewrapOutcome::kChangedConcurrently;
}

Result<RewrapCounts> RewrapAll(store::Store& store, const crypto::Keyring& keyring) {
  auto records = ListSealedRecords(store);
  if (!records.ok()) return records.error();
  RewrapCounts counts;
  for (const auto& [kind, key] : records->resources) {
    CREDGATE_RETURN_IF_ERROR(Count(RewrapResourceRecord(store, keyring, kind, key), key, counts));
  }
  for (const auto& key : records->tokens) {
    CREDGATE_RETURN_IF_ERROR(Count(RewrapTokenRecord(store, keyring, key), key, counts));
  }
  LogCounts(counts, keyring);
  return counts;
}

awaitable<Result<RewrapCounts>> RewrapAllAsync(store::AsyncStore& store,
                                               const crypto::Keyring& keyring) {
  auto list = [](store::Store& s) { return ListSealedRecords(s); };
  auto records = co_await store.Run(std::move(list));
  if (!records.ok()) co_return records.error();

  RewrapCounts counts;
  for (const auto& [kind, key] : records->resources) {
    auto rewrap_resource = [&keyring, kind = kind, key = key](store::Store& s) {
      return RewrapResourceRecord(s, keyring, kind, key);
    };
    auto outcome = co_await store.Run(std::move(rewrap_resource));
    CREDGATE_CO_RETURN_IF_ERROR(Count(outcome, key, counts));
  }
  for (const auto& key : records->tokens) {
    auto rewrap_tokens = [&keyring, key = key](store::Store& s) {
      return RewrapTokenRecord(s, keyring, key);
    };
    auto outcome = co_await store.Run(std::move(rewrap_tokens));
    CREDGATE_CO_RETURN_IF_ERROR(Count(outcome, key, counts));
  }
  LogCounts(counts, keyring);
  co_return counts;
}

}  // namespace credgate::management
