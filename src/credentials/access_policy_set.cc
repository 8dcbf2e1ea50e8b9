#include "credentials/access_policy_set.h"

#include <algorithm>
#include <cctype>

#include "common/persistent_hash_trie.h"

namespace credgate::credentials {
namespace {

// A policy with its place in the order of addition. Both tries of an index share it.
struct RankedPolicy {
  AccessPolicy policy;
  uint64_t rank = 0;
};
using RankedPtr = std::shared_ptr<const RankedPolicy>;
using Trie = PersistentHashTrie<RankedPtr>;

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

// FNV-1a over `text`, lowercased with the std::tolower that IdsEqual() uses when `fold_case`,
// so ids that IdsEqual() calls equal hash alike.
uint64_t HashText(uint64_t hash, std::string_view text, bool fold_case) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    hash ^= fold_case ? static_cast<unsigned char>(std::tolower(byte)) : byte;
    hash *= kFnvPrime;
  }
  return hash;
}

// The finalizer of SplitMix64. The trie reads the hash 5 bits at a time from the low end, and
// the low bits of FNV-1a depend only on the low bits of each input byte.
uint64_t Mix(uint64_t hash) {
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  return hash ^ (hash >> 31);
}

uint64_t IdHash(std::string_view id) { return Mix(HashText(kFnvOffset, id, false)); }

uint64_t PrincipalHash(std::string_view tenant_id, std::string_view object_id) {
  uint64_t hash = HashText(kFnvOffset, tenant_id, true);
  hash = (hash ^ '/') * kFnvPrime;
  return Mix(HashText(hash, object_id, true));
}

// A policy with an empty tenant id or object id matches no caller, so the principal trie
// leaves it out.
bool MatchesAnyone(const AccessPolicy& policy) {
  return !policy.tenant_id.empty() && !policy.object_id.empty();
}

}  // namespace

struct AccessPolicySet::Index {
  Trie by_id;
  // Buckets are sorted by rank, so a match stops at the first policy that allows the caller.
  Trie by_principal;
  size_t size = 0;
  uint64_t next_rank = 0;

  const AccessPolicy* Find(std::string_view id) const;

  void AddPrincipal(const RankedPtr& ranked) {
    if (!MatchesAnyone(ranked->policy)) return;
    const uint64_t hash = PrincipalHash(ranked->policy.tenant_id, ranked->policy.object_id);
    const Trie::Bucket* found = by_principal.Find(hash);
    Trie::Bucket bucket = found != nullptr ? *found : Trie::Bucket();
    auto at =
        std::upper_bound(bucket.begin(), bucket.end(), ranked->rank,
                         [](uint64_t rank, const RankedPtr& other) { return rank < other->rank; });
    bucket.insert(at, ranked);
    by_principal = by_principal.Assign(hash, std::move(bucket));
  }

  void RemovePrincipal(const RankedPtr& ranked) {
    if (!MatchesAnyone(ranked->policy)) return;
    const uint64_t hash = PrincipalHash(ranked->policy.tenant_id, ranked->policy.object_id);
    const Trie::Bucket* found = by_principal.Find(hash);
    if (found == nullptr) return;
    Trie::Bucket bucket = *found;
    std::erase(bucket, ranked);
    by_principal = by_principal.Assign(hash, std::move(bucket));
  }

  void Upsert(AccessPolicy policy) {
    const uint64_t hash = IdHash(policy.id);
    const Trie::Bucket* found = by_id.Find(hash);
    Trie::Bucket ids = found != nullptr ? *found : Trie::Bucket();
    auto same_id = std::find_if(ids.begin(), ids.end(), [&](const RankedPtr& existing) {
      return existing->policy.id == policy.id;
    });

    RankedPtr replaced;
    if (same_id != ids.end()) replaced = *same_id;
    const uint64_t rank = replaced != nullptr ? replaced->rank : next_rank++;
    auto ranked = std::make_shared<const RankedPolicy>(RankedPolicy{std::move(policy), rank});
    if (replaced != nullptr) {
      *same_id = ranked;
      RemovePrincipal(replaced);
    } else {
      ids.push_back(ranked);
      ++size;
    }
    by_id = by_id.Assign(hash, std::move(ids));
    AddPrincipal(ranked);
  }

  bool Erase(std::string_view id) {
    const uint64_t hash = IdHash(id);
    const Trie::Bucket* found = by_id.Find(hash);
    if (found == nullptr) return false;
    Trie::Bucket ids = *found;
    auto same_id = std::find_if(ids.begin(), ids.end(), [&](const RankedPtr& existing) {
      return existing->policy.id == id;
    });
    if (same_id == ids.end()) return false;

    const RankedPtr removed = *same_id;
    ids.erase(same_id);
    by_id = by_id.Assign(hash, std::move(ids));
    RemovePrincipal(removed);
    --size;
    return true;
  }
};

size_t AccessPolicySet::size() const { return index_ != nullptr ? index_->size : flat_.size(); }

const AccessPolicy* AccessPolicySet::Index::Find(std::string_view id) const {
  const Trie::Bucket* bucket = by_id.Find(IdHash(id));
  if (bucket == nullptr) return nullptr;
  for (const RankedPtr& ranked : *bucket) {
    if (ranked->policy.id == id) return &ranked->policy;
  }
  return nullptr;
}

std::optional<AccessPolicy> AccessPolicySet::Find(std::string_view id) const {
  if (index_ == nullptr) {
    for (const AccessPolicyView& view : flat_) {
      if (view.id == id) return view.ToPolicy();
    }
    return std::nullopt;
  }
  const AccessPolicy* policy = index_->Find(id);
  if (policy == nullptr) return std::nullopt;
  return *policy;
}

bool AccessPolicySet::Contains(std::string_view id) const {
  if (index_ == nullptr) {
    return std::any_of(flat_.begin(), flat_.end(),
                       [&](const AccessPolicyView& view) { return view.id == id; });
  }
  return index_->Find(id) != nullptr;
}

std::vector<AccessPolicy> AccessPolicySet::InOrder() const {
  if (index_ == nullptr) return flat_.Unpack();

  std::vector<const RankedPolicy*> ranked;
  ranked.reserve(index_->size);
  index_->by_id.ForEachBucket([&](const Trie::Bucket& bucket) {
    for (const RankedPtr& entry : bucket) ranked.push_back(entry.get());
  });
  std::sort(ranked.begin(), ranked.end(),
            [](const RankedPolicy* a, const RankedPolicy* b) { return a->rank < b->rank; });
  std::vector<AccessPolicy> policies;
  policies.reserve(ranked.size());
  for (const RankedPolicy* entry : ranked) policies.push_back(entry->policy);
  return policies;
}

void AccessPolicySet::Upsert(AccessPolicy policy) {
  if (index_ == nullptr && flat_.empty()) {
    flat_ = PackedAccessPolicies(std::span<const AccessPolicy>(&policy, 1));
    return;
  }
  if (index_ == nullptr) {
    std::vector<AccessPolicy> policies = flat_.Unpack();
    auto it = std::find_if(policies.begin(), policies.end(),
                           [&](const AccessPolicy& existing) { return existing.id == policy.id; });
    if (it != policies.end()) {
      *it = std::move(policy);
    } else {
      policies.push_back(std::move(policy));
    }
    if (policies.size() > kFlatLimit) {
      BuildIndex(std::move(policies));
    } else {
      flat_ = PackedAccessPolicies(policies);
    }
    return;
  }
  auto next = std::make_shared<Index>(*index_);
  next->Upsert(std::move(policy));
  index_ = std::move(next);
}

bool AccessPolicySet::Erase(std::string_view id) {
  if (index_ == nullptr) {
    std::vector<AccessPolicy> policies = flat_.Unpack();
    if (std::erase_if(policies, [&](const AccessPolicy& policy) { return policy.id == id; }) ==
        0) {
      return false;
    }
    flat_ = PackedAccessPolicies(policies);
    return true;
  }
  auto next = std::make_shared<Index>(*index_);
  if (!next->Erase(id)) return false;
  index_ = std::move(next);
  return true;
}

void AccessPolicySet::BuildIndex(std::vector<AccessPolicy> policies) {
  auto index = std::make_shared<Index>();
  for (AccessPolicy& policy : policies) index->Upsert(std::move(policy));
  flat_ = PackedAccessPolicies();
  index_ = std::move(index);
}

Result<std::string> AccessPolicySet::Match(const CallerClaims& caller,
                                           std::string_view connection_key) const {
  if (index_ == nullptr) return MatchFirstAccessPolicy(caller, flat_, connection_key);

  const RankedPolicy* first = nullptr;
  bool app_mismatch = false;
  // Moves `first` to the earliest policy for (caller's tenant, `principal`) that allows the
  // caller's app, when that policy comes before `first`.
  auto consider = [&](std::string_view principal) {
    if (principal.empty()) return;
    const Trie::Bucket* bucket =
        index_->by_principal.Find(PrincipalHash(caller.tenant_id, principal));
    if (bucket == nullptr) return;
    for (const RankedPtr& ranked : *bucket) {
      if (first != nullptr && ranked->rank >= first->rank) return;
      const AccessPolicy& policy = ranked->policy;
      // Another (tenant, principal) pair with the same hash.
      if (!IdsEqual(policy.tenant_id, caller.tenant_id) || !IdsEqual(policy.object_id, principal)) {
        continue;
      }
      if (!PolicyAllowsApp(policy, caller.app_id)) {
        app_mismatch = true;
        continue;
      }
      first = ranked.get();
      return;
    }
  };

  consider(caller.object_id);
  if (caller.groups_known) {
    for (const std::string& group : caller.groups) consider(group);
  }
  if (first != nullptr) return first->policy.id;
  return AccessDeniedError(caller, app_mismatch, connection_key);
}

}  // namespace credgate::credentials
