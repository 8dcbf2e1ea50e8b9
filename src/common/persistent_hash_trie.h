// PersistentHashTrie<T>: an immutable map from a 64-bit hash to a bucket of values (a hash
// array mapped trie with 32-way nodes). Assign() returns a new trie that shares every node
// off the changed path with the old one, so a change copies at most 13 nodes of at most 32
// pointers each, whatever the size. A trie of n well-spread hashes is about log32(n) levels
// deep.
//
// The trie stores hashes, not keys. A bucket contains every value whose key has that hash, and the
// caller compares the keys inside it, so two keys with one hash stay apart.
//
// Thread-safety: a trie is never changed after it is built, so any number of threads may read
// one while another builds a successor from it. Copying a trie copies one shared_ptr.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace credgate {

template <typename T>
class PersistentHashTrie {
 public:
  using Bucket = std::vector<T>;

  // Returns the bucket of `hash`, or null when the trie has none. The pointer stays valid while
  // this trie, or any copy of it, exists.
  const Bucket* Find(uint64_t hash) const {
    const Node* node = root_.get();
    for (int shift = 0; node != nullptr; shift += kBitsPerLevel) {
      if (node->leaf) return node->hash == hash ? &node->bucket : nullptr;
      const uint32_t bit = BitOf(hash, shift);
      if ((node->bitmap & bit) == 0) return nullptr;
      node = node->children[Position(node->bitmap, bit)].get();
    }
    return nullptr;
  }

  // Returns a trie in which `hash` maps to `bucket`, or has no bucket when `bucket` is empty.
  PersistentHashTrie Assign(uint64_t hash, Bucket bucket) const {
    PersistentHashTrie result;
    result.root_ = AssignIn(root_, hash, std::move(bucket), 0);
    return result;
  }

  bool empty() const { return root_ == nullptr; }

  // Calls `visit(const Bucket&)` for every bucket, in no particular order.
  template <typename Visit>
  void ForEachBucket(Visit&& visit) const {
    if (root_ != nullptr) VisitNode(*root_, visit);
  }

 private:
  // 64 bits in chunks of 5: levels 0 to 12, the last one with 4 bits.
  static constexpr int kBitsPerLevel = 5;

  // An inner node has `bitmap` and `children`, one child per set bit in bit order. A leaf has
  // `hash` and a non-empty `bucket`.
  struct Node {
    bool leaf = false;
    uint32_t bitmap = 0;
    std::vector<std::shared_ptr<const Node>> children;
    uint64_t hash = 0;
    Bucket bucket;
  };
  using NodePtr = std::shared_ptr<const Node>;

  static uint32_t BitOf(uint64_t hash, int shift) { return uint32_t{1} << ((hash >> shift) & 31); }
  static size_t Position(uint32_t bitmap, uint32_t bit) {
    return static_cast<size_t>(std::popcount(bitmap & (bit - 1)));
  }

  static NodePtr MakeLeaf(uint64_t hash, Bucket bucket) {
    auto leaf = std::make_shared<Node>();
    leaf->leaf = true;
    leaf->hash = hash;
    leaf->bucket = std::move(bucket);
    return leaf;
  }

  // Returns `node` with `hash` assigned, where `node` sits at the level that reads the hash
  // bits from `shift` on. Returns `node` itself when nothing changes.
  static NodePtr AssignIn(const NodePtr& node, uint64_t hash, Bucket bucket, int shift) {
    if (node == nullptr) return bucket.empty() ? nullptr : MakeLeaf(hash, std::move(bucket));
    if (node->leaf) {
      if (node->hash == hash) return bucket.empty() ? nullptr : MakeLeaf(hash, std::move(bucket));
      if (bucket.empty()) return node;
      // Two hashes meet here: push the old leaf one level down and assign beside it. Two
      // different hashes differ in some 5-bit chunk, so this ends by level 12.
      auto inner = std::make_shared<Node>();
      inner->bitmap = BitOf(node->hash, shift);
      inner->children.push_back(node);
      return AssignIn(inner, hash, std::move(bucket), shift);
    }

    const uint32_t bit = BitOf(hash, shift);
    const size_t position = Position(node->bitmap, bit);
    const bool present = (node->bitmap & bit) != 0;
    const NodePtr child = present ? node->children[position] : nullptr;
    NodePtr updated = AssignIn(child, hash, std::move(bucket), shift + kBitsPerLevel);
    if (updated == child) return node;

    auto copy = std::make_shared<Node>(*node);
    const auto at = copy->children.begin() + static_cast<std::ptrdiff_t>(position);
    if (!present) {
      copy->children.insert(at, std::move(updated));
      copy->bitmap |= bit;
    } else if (updated != nullptr) {
      *at = std::move(updated);
    } else {
      copy->children.erase(at);
      copy->bitmap &= ~bit;
      if (copy->children.empty()) return nullptr;
      // A lone leaf moves up, because a leaf is found by its full hash at any level.
      if (copy->children.size() == 1 && copy->children.front()->leaf) {
        return copy->children.front();
      }
    }
    return copy;
  }

  template <typename Visit>
  static void VisitNode(const Node& node, Visit& visit) {
    if (node.leaf) {
      visit(node.bucket);
      return;
    }
    for (const NodePtr& child : node.children) VisitNode(*child, visit);
  }

  NodePtr root_;
};

}  // namespace credgate
