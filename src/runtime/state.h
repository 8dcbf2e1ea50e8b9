// The in-memory configuration that the gateway serves from: providers, connections with their
// access policies, trusted issuers, APIs with their operations and compiled policy pipelines.
//
// Readers take an immutable Snapshot (one atomic load, no lock held afterwards) and keep it for
// the whole request, so a request never sees half of a management change. Writers (the
// management API, start-up load) serialise on a mutex, copy the maps they change, and publish a
// new Snapshot. Entries are shared between snapshots through shared_ptr<const ...>.
//
// Connection status (Connected / Error) changes at run time, on login and on refresh failures,
// and is therefore kept apart from the snapshot in ConnectionStatusTable.
#pragma once

#include <atomic>
#include <boost/unordered/unordered_flat_set.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "credentials/access_policy_set.h"
#include "credentials/model.h"
#include "http/url.h"
#include "management/backend_resources.h"
#include "management/resources.h"

namespace credgate::policy {
struct CompiledDocument;
class CompiledPipeline;
}  // namespace credgate::policy

namespace credgate::management {
struct CertificateEntry;
}  // namespace credgate::management

namespace credgate::credentials {
class TokenManager;
}  // namespace credgate::credentials

namespace credgate::runtime {

struct ProviderEntry {
  management::ProviderResource resource;  // resource.client_secret is empty here.
  credentials::ProviderConfig config;     // config.client_secret holds the secret.
};

// The access policies are kept once, in the form the gateway matches callers against. A
// million connections make every per-connection byte count, so the management resources are
// rebuilt from them when the management API reads them.
// A connection of the snapshot. Its provider id and connection id are not kept here, because the
// ConnectionMap key "<provider id>/<connection id>" names them: a million connections would
// otherwise carry the two strings twice.
struct ConnectionEntry {
  management::GrantType grant_type = management::GrantType::kAuthorizationCode;
  bool parameters_given = false;  // As in ConnectionResource.
  management::ConnectionParameters parameters;
  credentials::AccessPolicySet access_policies;

  // Returns the resource of this connection, whose key is `key`.
  management::ConnectionResource Resource(std::string_view key) const;
  // Replaces the fields of the resource that the entry keeps.
  void SetResource(management::ConnectionResource resource);

  // Returns the access policies as management resources, in the order they were added.
  std::vector<management::AccessPolicyResource> AccessPolicyResources(std::string_view key) const;
  // Returns the access policy `id` as a management resource, or nullopt when there is none.
  std::optional<management::AccessPolicyResource> FindAccessPolicyResource(
      std::string_view key, std::string_view id) const;
};

// One segment of an operation's URL template: a literal, a `{name}` parameter, or the `*`
// wildcard that matches the rest of the path.
struct TemplateSegment {
  enum class Kind { kLiteral, kParameter, kWildcard };
  Kind kind = Kind::kLiteral;
  std::string text;  // The literal, or the parameter name.
};

struct OperationEntry {
  management::OperationResource resource;
  std::vector<TemplateSegment> segments;
  std::optional<management::PolicyResource> policy;
  std::shared_ptr<const policy::CompiledDocument> document;  // Null without a policy.
  std::shared_ptr<const policy::CompiledPipeline> pipeline;  // Global + API + operation.
};

// A backend that set-backend-service backend-id="..." sends to.
struct BackendEntry {
  management::BackendResource resource;  // With its credential values.
  http::ParsedUrl service;               // resource.url, parsed once when the backend is saved.
};

struct ApiEntry {
  management::ApiResource resource;
  http::ParsedUrl service;  // resource.service_url, parsed once when the API is saved.
  std::optional<management::PolicyResource> policy;
  std::shared_ptr<const policy::CompiledDocument> document;
  std::map<std::string, std::shared_ptr<const OperationEntry>> operations;
};

// The connections of a snapshot by connection key "<provider id>/<connection id>". A map
// ordered by key lists one provider's connections with lower_bound. A hash index over it lets
// the request path find a connection among a million with one hash and a few cache misses,
// where the ordered map compares keys at about 20 levels. The index is an open-addressing set
// of the map's iterators (8 B and a metadata byte per slot, at most 87.5% of the slots used)
// that hashes and compares the keys in the map's nodes.
// The class offers the part of std::map's interface that credgate uses, and its iterators are
// the ordered map's.
class ConnectionMap {
 public:
  using Map = std::map<std::string, std::shared_ptr<const ConnectionEntry>>;
  using iterator = Map::iterator;
  using const_iterator = Map::const_iterator;

  ConnectionMap() = default;
  ConnectionMap(const ConnectionMap& other);
  ConnectionMap& operator=(const ConnectionMap& other);
  // Moving keeps the map's nodes, so the index stays valid.
  ConnectionMap(ConnectionMap&&) noexcept = default;
  ConnectionMap& operator=(ConnectionMap&&) noexcept = default;

  iterator find(std::string_view key);
  const_iterator find(std::string_view key) const;
  bool contains(std::string_view key) const { return index_.contains(key); }
  // The first connection whose key is not less than `key`, in key order.
  iterator lower_bound(const std::string& key) { return entries_.lower_bound(key); }
  const_iterator lower_bound(const std::string& key) const { return entries_.lower_bound(key); }
  // Returns the entry of `key`, inserting a null one when there is none.
  std::shared_ptr<const ConnectionEntry>& operator[](const std::string& key);
  iterator erase(iterator position);
  size_t erase(std::string_view key);

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

 private:
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const;
    size_t operator()(iterator it) const { return (*this)(it->first); }
  };
  struct KeyEqual {
    using is_transparent = void;
    static std::string_view Key(std::string_view key) { return key; }
    static std::string_view Key(iterator it) { return it->first; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Key(a) == Key(b);
    }
  };

  void RebuildIndex();

  Map entries_;
  // Iterators of entries_, whose nodes never move while they exist.
  boost::unordered_flat_set<iterator, KeyHash, KeyEqual> index_;
};

struct Snapshot {
  std::map<std::string, std::shared_ptr<const ProviderEntry>> providers;
  // Keyed by connection key "<provider id>/<connection id>".
  ConnectionMap connections;
  std::map<std::string, management::TrustedIssuerResource> trusted_issuers;
  std::map<std::string, std::shared_ptr<const ApiEntry>> apis;
  std::optional<management::PolicyResource> global_policy;
  std::shared_ptr<const policy::CompiledDocument> global_document;
  // Policy fragments by id. The documents that include one are compiled with its statements,
  // so a change of a fragment recompiles them (management/policy_fragments.h).
  std::map<std::string, std::shared_ptr<const management::PolicyFragmentResource>>
      policy_fragments;
  // Backends by id. A policy document that names one in set-backend-service is saved only while
  // it exists, and the backend cannot be deleted while a document names it.
  std::map<std::string, std::shared_ptr<const BackendEntry>> backends;
  // The client ids of managedIdentity.userAssigned in the configuration, set at start. A policy
  // document whose authentication-managed-identity names another client-id is not saved.
  std::set<std::string> managed_identity_client_ids;
  // Certificates by id (management/certificates.h). The documents that name one are compiled
  // with its keys, so a change of a certificate recompiles them.
  std::map<std::string, std::shared_ptr<const management::CertificateEntry>> certificates;
  // APIs ordered by descending path length, so the first prefix match is the longest.
  std::vector<std::shared_ptr<const ApiEntry>> routes;
};

// Returns "<provider id>/<connection id>".
std::string ConnectionKey(std::string_view provider_id, std::string_view connection_id);
// Returns the provider id and the connection id of a connection key. Provider ids contain no
// '/', so the first '/' separates them. A key without '/' returns an empty connection id.
std::pair<std::string_view, std::string_view> SplitConnectionKey(std::string_view key);

// Parses a URL template such as "/users/{id}/repos" or "/*". Errors name the template.
Result<std::vector<TemplateSegment>> ParseUrlTemplate(std::string_view url_template);

class ConfigState {
 public:
  ConfigState();

  std::shared_ptr<const Snapshot> Current() const { return current_.load(); }

  // Runs `change` on a copy of the current snapshot and publishes the result if `change`
  // succeeds, all under the writer mutex, so changes apply one at a time and in order.
  // NOTE: the copy includes every connection, so with 1,000,000 connections each management
  // write costs a copy of the connection map and a rebuild of its hash index.
  template <typename Change>
  Status Update(Change&& change) {
    std::lock_guard lock(writer_mutex_);
    auto next = std::make_shared<Snapshot>(*current_.load());
    Status status = change(*next);
    if (!status.ok()) return status;
    RebuildRoutes(*next);
    current_.store(std::move(next));
    return status;
  }

 private:
  static void RebuildRoutes(Snapshot& snapshot);

  std::mutex writer_mutex_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
};

// Thread-safe map from connection key to its run-time status. A key without a stored status
// reads as Connected when the token manager given to ReadConnectedFromTokens() contains tokens
// for it, and as Unauthenticated otherwise.
//
// Nearly every connection is Connected and has tokens, so the table stores no entry for such
// a connection: Set() with the plain Connected status of a key that has tokens removes the
// stored status. A Connected key without tokens yet (a sign-in stores the status before the
// token manager receives the tokens) keeps a stored entry until its status is set again.
class ConnectionStatusTable {
 public:
  // Makes keys without a stored status read as Connected while `tokens` contains their
  // tokens. Call it once, before the table is shared between threads, and keep `tokens` alive
  // as long as the table. Without it every status is stored.
  void ReadConnectedFromTokens(const credentials::TokenManager* tokens) { tokens_ = tokens; }

  bool ReadsConnectedFromTokens() const { return tokens_ != nullptr; }

  management::ConnectionState Get(const std::string& key) const;
  // Returns the stored status of `key`, or nullopt when none is stored and Get() derives it.
  std::optional<management::ConnectionState> GetStored(const std::string& key) const;
  void Set(const std::string& key, management::ConnectionState state);
  void Remove(const std::string& key);
  void RemovePrefix(const std::string& prefix);
  // Returns how many connections have each status: "Connected", or the error code. A
  // connection counts once, with its stored status or as Connected through its tokens.
  std::map<std::string, uint64_t> CountByStatus() const;

 private:
  bool HasTokens(const std::string& key) const;

  const credentials::TokenManager* tokens_ = nullptr;
  mutable std::mutex mutex_;
  // Null for Connected with empty error fields, which then costs the hash node only, without
  // a 72 B ConnectionState.
  std::unordered_map<std::string, std::unique_ptr<const management::ConnectionState>> states_;
};

}  // namespace credgate::runtime
