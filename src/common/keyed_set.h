// KeyedSet<T>: objects that each live in one heap block followed by their key's characters,
// found by key through an open-addressing hash set of pointers.
//
// Tables with a million connections keep one such object per connection. In libstdc++ a
// std::string key longer than 15 characters takes a heap block of its own. A node-based hash
// map adds a node and a bucket, so its lookup misses the cache at the bucket, the node, the key
// and the value. Here a lookup reads the set's metadata and slot, then one block with the
// object and its key, and the key costs its characters and four bytes of size.
//
// T must have a member `uint32_t key_size_` that KeyedSet can reach, public or through
// `friend class KeyedSet<T>;`. KeyedSet constructs T with the arguments of TryEmplace and then
// records the key's size there. The key's characters follow T's bytes, so T may keep the size
// in its tail padding.
//
// Each set hashes its keys with a seed of its own, so two sets order the same keys differently.
//
// Not thread-safe. A pointer to an object stays valid until the object is erased. An iterator
// stays valid until its object is erased or an insertion rehashes the set, which rehashes()
// counts. An insertion that does not rehash leaves every object at its place in the iteration
// order.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/unordered/unordered_flat_set.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace credgate {

template <typename T>
class KeyedSet {
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>()(key) ^ seed;
    }
    size_t operator()(const T* object) const { return (*this)(KeyOf(*object)); }
    size_t seed = 0;
  };
  struct KeyEqual {
    using is_transparent = void;
    static std::string_view Key(std::string_view key) { return key; }
    static std::string_view Key(const T* object) { return KeyOf(*object); }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return Key(a) == Key(b);
    }
  };
  using Set = boost::unordered_flat_set<T*, KeyHash, KeyEqual>;

 public:
  // An iterator over the objects in no particular order, dereferencing to `T* const&`.
  using const_iterator = typename Set::const_iterator;

  KeyedSet() : set_(0, KeyHash{NextSeed()}) {}
  ~KeyedSet() { clear(); }
  KeyedSet(const KeyedSet&) = delete;
  KeyedSet& operator=(const KeyedSet&) = delete;

  static std::string_view KeyOf(const T& object) {
    return {reinterpret_cast<const char*>(&object + 1), object.key_size_};
  }

  // Returns the object of `key`, or null.
  T* Find(std::string_view key) {
    auto it = set_.find(key);
    return it == set_.end() ? nullptr : *it;
  }
  const T* Find(std::string_view key) const {
    auto it = set_.find(key);
    return it == set_.end() ? nullptr : *it;
  }

  // Returns the object of `key` and false when there is one, else constructs T(args...) for
  // `key` and returns it and true. Throws std::length_error for a key of 4 GiB or more.
  // NOTE: adding a key hashes it twice, once to find it and once to insert it, because
  // Boost 1.81's flat set offers no insertion by key alone.
  template <typename... Args>
  std::pair<T*, bool> TryEmplace(std::string_view key, Args&&... args) {
    if (T* found = Find(key)) return {found, false};
    if (key.size() > std::numeric_limits<uint32_t>::max()) {
      throw std::length_error("KeyedSet: a key of " + std::to_string(key.size()) +
                              " bytes is too long; keys must be shorter than 4 GiB");
    }
    T* object = Allocate(key, std::forward<Args>(args)...);
    if (set_.size() >= set_.max_load()) ++rehashes_;
    try {
      set_.insert(object);
    } catch (...) {
      Free(object);
      throw;
    }
    return {object, true};
  }

  // Destroys the object of `key` and returns true, or returns false when there is none.
  bool Erase(std::string_view key) {
    auto it = set_.find(key);
    if (it == set_.end()) return false;
    T* object = *it;
    set_.erase(it);
    Free(object);
    return true;
  }

  // Destroys `object`, which must be an object of this set.
  void Erase(const T* object) {
    set_.erase(set_.find(KeyOf(*object)));
    Free(const_cast<T*>(object));
  }

  void clear() {
    for (T* object : set_) Free(object);
    set_.clear();
    ++rehashes_;
  }

  // Makes room for `count` objects in all, so that inserting up to that many does not rehash.
  // Never shrinks the set. After many erasures it may double the capacity.
  void Reserve(size_t count) {
    if (count <= set_.max_load()) return;
    ++rehashes_;
    // boost::unordered_flat_set::reserve() shrinks a set whose capacity exceeds the request,
    // and erasures lower max_load() below the capacity's share, so ask for the capacity too.
    set_.reserve(std::max(count, set_.bucket_count()));
  }

  size_t size() const { return set_.size(); }
  bool empty() const { return set_.empty(); }
  const_iterator begin() const { return set_.begin(); }
  const_iterator end() const { return set_.end(); }
  // Counts the rehashes and clears, each of which invalidates every iterator. It may also count
  // a Reserve() that found the capacity large enough.
  uint64_t rehashes() const { return rehashes_; }

 private:
  // Each set hashes with a seed of its own. Inserting the objects of one open-addressing set
  // into another in the first one's order otherwise sends runs of neighbouring keys to the same
  // slots of the second set. In a test program, copying 1,000,000 objects from one KeyedSet to
  // another took about 2 s with one hash for both, and 0.8 to 1.2 s with a seed for each.
  static size_t NextSeed() {
    static std::atomic<size_t> sets{0};
    return (sets.fetch_add(1, std::memory_order_relaxed) + 1) * 0x9e3779b97f4a7c15ull;
  }

  template <typename... Args>
  static T* Allocate(std::string_view key, Args&&... args) {
    static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    char* block = static_cast<char*>(::operator new(sizeof(T) + key.size()));
    T* object;
    try {
      object = new (block) T(std::forward<Args>(args)...);
    } catch (...) {
      ::operator delete(static_cast<void*>(block));
      throw;
    }
    object->key_size_ = static_cast<uint32_t>(key.size());
    if (!key.empty()) std::memcpy(block + sizeof(T), key.data(), key.size());
    return object;
  }

  static void Free(T* object) noexcept {
    object->~T();
    // Unsized: clang 14 declares the sized operator delete only with -fsized-deallocation.
    ::operator delete(static_cast<void*>(object));
  }

  Set set_;
  uint64_t rehashes_ = 0;
};

}  // namespace credgate
