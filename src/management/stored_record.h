// Parsing of stored resource records apart from applying them to a snapshot, so that
// LoadFromStore can parse a batch of records on every core and then apply them in order on one
// thread.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>
#include <optional>
#include <string_view>

#include "common/result.h"
#include "management/resources.h"
#include "management/routes.h"
#include "store/store.h"

namespace credgate::crypto {
class Keyring;
}

namespace credgate::management {

// A stored record parsed without the snapshot, so that a load can parse many at once. The
// resource itself is parsed here only for the kinds that a store has millions of.
struct ParsedRecord {
  boost::json::object body;
  std::optional<ResourcePath> path;  // Set for connection and accessPolicy records.
  std::optional<ConnectionResource> connection;
  std::optional<AccessPolicyResource> access_policy;
};

// Parses a store key, which is the resource's management path, into its segments.
Result<ResourcePath> PathOfKey(std::string_view key);

// Parses `record`'s body into memory from `storage` and, for a connection or access policy, its
// path and resource, with the connection's sealed parameters opened. Safe to call on many
// threads at once.
Result<ParsedRecord> ParseRecord(const store::ResourceRecord& record,
                                 const crypto::Keyring& keyring,
                                 boost::json::storage_ptr storage = {});

}  // namespace credgate::management
