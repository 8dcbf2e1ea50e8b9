// Rules on resource keys that every Store implementation shares: what a valid record is, and
// which key range contains a resource's descendants.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/store.h"

namespace credgate::store {

// Returns `text` in single quotes, for error messages.
std::string Quoted(std::string_view text);

// Fails with kInvalidArgument when the record has no kind or key, or when its key does not
// start with `parent_key + "/"`; DeleteTree finds children by that prefix.
Status ValidateResource(const ResourceRecord& record);

// Returns the half-open range [low, high) of the keys under `key`: they sort between
// `key + "/"` (inclusive) and `key + "0"` (exclusive), because '0' is the byte after '/' and both
// stores compare keys bytewise (SQLite's BINARY collation, PostgreSQL's COLLATE "C").
std::array<std::string, 2> SubtreeRange(std::string_view key);

}  // namespace credgate::store
