// AccessPolicySet: the access policies of one connection, in the order they were added, with
// the match of MatchAccessPolicy() (access_policy.h) at the cost of a few hash lookups.
//
// A set of up to kFlatLimit policies is packed into one heap block that a match scans
// (packed_access_policies.h), because a connection usually has one policy and the packed form
// takes the least memory per connection. A larger set
// keeps two persistent hash tries (common/persistent_hash_trie.h) over shared policies: one by
// policy id, and one by (tenant id, object id) with the ids lowercased. A match looks up the
// caller's object id and each of its groups in the second one, so its cost grows with the
// caller's groups and not with the policies.
//
// A set is a value: copying it copies the packed block of at most kFlatLimit policies or one
// shared_ptr. Upsert() and Erase() change only this value and cost O(log n) allocations in a
// large set, while copies taken before, such as the ones in older configuration snapshots,
// keep what they had.
// NOTE: policies that name the same (tenant id, object id), for example one group with many
// app id lists, share one bucket, and a change copies that bucket, so k such policies cost O(k).
//
// A set is not synchronised: readers share a const set, and a writer changes its own copy and
// publishes it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "credentials/access_policy.h"
#include "credentials/model.h"
#include "credentials/packed_access_policies.h"

namespace credgate::credentials {

class AccessPolicySet {
 public:
  // The largest set kept packed.
  static constexpr size_t kFlatLimit = 8;

  AccessPolicySet() = default;

  size_t size() const;
  bool empty() const { return size() == 0; }

  // Returns a copy of the policy with this id (compared exactly, as the management API names
  // it), or nullopt.
  std::optional<AccessPolicy> Find(std::string_view id) const;
  bool Contains(std::string_view id) const;

  // Returns a copy of every policy in the order it was first added. A replaced policy keeps
  // its place.
  std::vector<AccessPolicy> InOrder() const;

  // Adds `policy` at the end, or replaces the policy with its id in place.
  void Upsert(AccessPolicy policy);

  // Removes the policy with this id. Returns false when there is none.
  bool Erase(std::string_view id);

  // Returns the id of the first policy, in the order above, that matches `caller`, with the
  // rules and the errors of MatchAccessPolicy().
  Result<std::string> Match(const CallerClaims& caller, std::string_view connection_key) const;

 private:
  struct Index;

  void BuildIndex(std::vector<AccessPolicy> policies);

  PackedAccessPolicies flat_;  // Used while index_ is null.
  // Set once the set grew past kFlatLimit, and kept when it shrinks again.
  std::shared_ptr<const Index> index_;
};

}  // namespace credgate::credentials
