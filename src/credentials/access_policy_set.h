// AccessPolicySet: the access policies of one connection, in the order they were added, with
// the match of MatchAccessPolicy() (access_policy.h) at the cost of a few hash lookups.
//
// A set of up to kFlatLimit policies is a plain vector that a match scans, because a connection
// usually has one policy and a vector takes the least memory per connection. A larger set
// keeps two persistent hash tries (common/persistent_hash_trie.h) over shared policies: one by
// policy id, and one by (tenant id, object id) with the ids lowercased. A match looks up the
// caller's object id and each of its groups in the second one, so its cost grows with the
// caller's groups and not with the policies.
//
// A set is a value: copying it copies a vector of at most kFlatLimit policies or one
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
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "credentials/access_policy.h"
#include "credentials/model.h"

namespace credgate::credentials {

class AccessPolicySet {
 public:
  // The largest set kept as a plain vector.
  static constexpr size_t kFlatLimit = 8;

  AccessPolicySet() = default;

  size_t size() const;
  bool empty() const { return size() == 0; }

  // Returns the policy with this id (compared exactly, as the management API names it), or
  // null. The pointer stays valid until this set changes or is destroyed.
  const AccessPolicy* Find(std::string_view id) const;

  // Returns every policy in the order it was first added. A replaced policy keeps its place.
  // The pointers stay valid until this set changes or is destroyed.
  std::vector<const AccessPolicy*> InOrder() const;

  // Adds `policy` at the end, or replaces the policy with its id in place.
  void Upsert(AccessPolicy policy);

  // Removes the policy with this id. Returns false when there is none.
  bool Erase(std::string_view id);

  // Returns the id of the first policy, in the order above, that matches `caller`, with the
  // rules and the errors of MatchAccessPolicy().
  Result<std::string> Match(const CallerClaims& caller, std::string_view connection_key) const;

 private:
  struct Index;

  void BuildIndex();

  std::vector<AccessPolicy> flat_;  // Used while index_ is null.
  // Set once the set grew past kFlatLimit, and kept when it shrinks again.
  std::shared_ptr<const Index> index_;
};

}  // namespace credgate::credentials
