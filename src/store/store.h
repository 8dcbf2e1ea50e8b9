// Store: the durable copy of credgate's state. credgate serves everything from memory; it writes
// here on every management change and every token refresh, and reads everything back once at
// start (ListAll, ListAllTokens, ListAdminKeys).
//
// The interface is blocking. Implementations are thread-safe, but callers on I/O threads must go
// through AsyncStore (async_store.h), which runs every call on one dedicated thread. Every call
// returns a Result: kNotFound for a missing record, kConflict for a failed compare-and-swap,
// kAlreadyExists for a duplicate admin key, kUnavailable when the database cannot be reached or
// is busy, and kInternal for other database failures; messages name the operation and the key.
//
// SqliteStore (sqlite_store.h) implements it today. The contract uses nothing SQLite-specific,
// so that a PostgreSQL implementation can follow: versions are compared and bumped in one
// UPDATE ... WHERE version = expected statement, which PostgreSQL also runs atomically.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::store {

// A management resource (credential provider, connection, access policy, ...) as JSON.
struct ResourceRecord {
  std::string kind;  // For example "authorizationProvider".
  std::string key;   // A path, for example "authorizationProviders/github/authorizations/alice".
  std::string parent_key;  // The key of the parent resource; "" for a top-level resource.
  std::string body_json;   // Stored verbatim; the store does not parse it.
  int64_t version = 0;     // 1 after the first Put, incremented by every later Put.
  int64_t updated_at = 0;  // Unix seconds, set by the caller.
};

// The tokens of one connection, sealed (crypto/aead.h) by the caller.
struct TokenRecord {
  std::string connection_key;  // The ResourceRecord key of the connection.
  std::string sealed_tokens;   // Binary sealed blob; the store never sees plaintext.
  int64_t version = 0;         // 1 after the first PutTokens, incremented by every later one.
  int64_t expires_at = 0;      // Unix seconds when the access token expires; 0 when unknown.
  int64_t updated_at = 0;      // Unix seconds, set by the caller.
};

// An admin API key, stored as the hex SHA-256 of the key text (crypto/admin_key.h).
struct AdminKeyRecord {
  std::string id;
  std::string key_hash;
  std::string role;
  int64_t created_at = 0;  // Unix seconds.
};

class Store {
 public:
  virtual ~Store() = default;

  // Inserts or replaces the resource at (kind, key). The stored version becomes the previous
  // version plus one, or 1 for a new resource, whatever `record.version` holds. Returns the
  // record as stored.
  virtual Result<ResourceRecord> Put(const ResourceRecord& record) = 0;
  // Fails with kNotFound when there is no resource at (kind, key).
  virtual Result<ResourceRecord> Get(std::string_view kind, std::string_view key) = 0;
  // Returns the resources of `kind` directly under `parent_key`, ordered by key.
  virtual Result<std::vector<ResourceRecord>> List(std::string_view kind,
                                                   std::string_view parent_key) = 0;
  // Returns every resource, ordered by key, so that parents come before their children.
  virtual Result<std::vector<ResourceRecord>> ListAll() = 0;
  // Deletes, in one transaction, the resources at `key` (of any kind), every resource whose key
  // starts with `key + "/"`, and the token records of all of them. Returns the number of
  // resources deleted; 0 is not an error.
  virtual Result<int64_t> DeleteTree(std::string_view key) = 0;

  // Fails with kNotFound when the connection has no token record.
  virtual Result<TokenRecord> GetTokens(std::string_view connection_key) = 0;
  // Writes a token record. With `expected_version` the write is a compare-and-swap: it succeeds
  // only if the stored version equals it (0 means "no record yet"), and fails with kConflict
  // otherwise, so that of two concurrent refreshes only one is kept. Without it the write is
  // unconditional. Returns the record as stored, with its new version.
  virtual Result<TokenRecord> PutTokens(const TokenRecord& record,
                                        std::optional<int64_t> expected_version) = 0;
  // Returns true when a record was deleted.
  virtual Result<bool> DeleteTokens(std::string_view connection_key) = 0;
  // Returns every token record, ordered by connection key.
  virtual Result<std::vector<TokenRecord>> ListAllTokens() = 0;

  // Inserts an admin key. Fails with kAlreadyExists when the id or the hash is taken.
  virtual Status PutAdminKey(const AdminKeyRecord& record) = 0;
  // Fails with kNotFound when no key has this hash.
  virtual Result<AdminKeyRecord> FindAdminKeyByHash(std::string_view key_hash) = 0;
  // Returns every admin key, ordered by id.
  virtual Result<std::vector<AdminKeyRecord>> ListAdminKeys() = 0;
  // Returns true when a key was deleted.
  virtual Result<bool> DeleteAdminKey(std::string_view id) = 0;
};

}  // namespace credgate::store
