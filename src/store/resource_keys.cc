#include "store/resource_keys.h"

namespace credgate::store {

std::string Quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

Status ValidateResource(const ResourceRecord& record) {
  if (record.kind.empty() || record.key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "resource record needs a kind and a key; got kind " + Quoted(record.kind) +
                         " and key " + Quoted(record.key));
  }
  // DeleteTree finds children by key prefix, so a child's key must start with its parent's.
  if (!record.parent_key.empty() && !record.key.starts_with(record.parent_key + "/")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "resource key " + Quoted(record.key) + " is not under its parent key " +
                         Quoted(record.parent_key) + "; a child key must start with parent_key/");
  }
  return OkStatus();
}

std::array<std::string, 2> SubtreeRange(std::string_view key) {
  return {std::string(key) + "/", std::string(key) + "0"};
}

}  // namespace credgate::store
