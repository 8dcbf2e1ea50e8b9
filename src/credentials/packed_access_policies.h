// PackedAccessPolicies: a short list of access policies kept in one heap block.
//
// Most connections have one access policy. Kept as an AccessPolicy in a vector, a policy with
// GUID ids takes three heap blocks, about 220 B: the vector's, and one for each id longer than
// the string's inline buffer (a GUID has 36 characters). Packed, it takes one block of about
// 90 B, and bench/scale_bench.sh measured 95 B less per connection. Reading costs no
// allocation: iteration yields AccessPolicyView, whose members view the block.
//
// Layout of the block: the policy count, then per policy its id, tenant id, object id, the
// count of app ids and each app id. Counts and string lengths are LEB128 varints, so the
// short lengths of real ids take one byte each.
//
// A list is a value: copying it copies the block. Views stay valid until the list changes or
// is destroyed. A list is not synchronised.
#pragma once

#include <boost/iterator/iterator_facade.hpp>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "credentials/model.h"

namespace credgate::credentials {

// A sequence of length-prefixed strings inside a packed block, read one after another.
class PackedStrings {
 public:
  // Reads the strings in order, each as a view into the block. The default value is the end.
  class iterator : public boost::iterator_facade<iterator, std::string_view,
                                                 std::forward_iterator_tag, std::string_view> {
   public:
    iterator() = default;
    iterator(const uint8_t* at, size_t left) : at_(at), left_(left) {}

   private:
    friend class boost::iterator_core_access;
    std::string_view dereference() const;
    void increment();
    bool equal(const iterator& other) const { return left_ == other.left_; }

    const uint8_t* at_ = nullptr;
    size_t left_ = 0;  // Strings left, this one included.
  };

  PackedStrings() = default;
  PackedStrings(const uint8_t* first, size_t count) : first_(first), count_(count) {}
  iterator begin() const { return iterator(first_, count_); }
  iterator end() const { return iterator(); }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  const uint8_t* first_ = nullptr;
  size_t count_ = 0;
};

// One policy of a packed list, with the member names of AccessPolicy.
struct AccessPolicyView {
  std::string_view id;
  std::string_view tenant_id;
  std::string_view object_id;
  PackedStrings app_ids;

  AccessPolicy ToPolicy() const;
};

class PackedAccessPolicies {
 public:
  // Decodes one policy at a time and returns copies of its view, which stay valid while the list
  // is unchanged, after the iterator moves too. The default value is the end.
  class iterator : public boost::iterator_facade<iterator, AccessPolicyView,
                                                 std::forward_iterator_tag, AccessPolicyView> {
   public:
    iterator() = default;
    iterator(const uint8_t* at, size_t left);

   private:
    friend class boost::iterator_core_access;
    AccessPolicyView dereference() const { return view_; }
    void increment();
    bool equal(const iterator& other) const { return left_ == other.left_; }
    void Read();  // Decodes the policy at next_ into view_.

    const uint8_t* next_ = nullptr;  // The policy after view_.
    size_t left_ = 0;                // Policies left, view_ included.
    AccessPolicyView view_;
  };

  PackedAccessPolicies() = default;
  explicit PackedAccessPolicies(std::span<const AccessPolicy> policies);
  PackedAccessPolicies(const PackedAccessPolicies& other);
  PackedAccessPolicies& operator=(const PackedAccessPolicies& other);
  PackedAccessPolicies(PackedAccessPolicies&&) noexcept = default;
  PackedAccessPolicies& operator=(PackedAccessPolicies&&) noexcept = default;

  size_t size() const;
  bool empty() const { return size() == 0; }
  iterator begin() const;
  iterator end() const { return iterator(); }

  // Returns the policies as values, in order.
  std::vector<AccessPolicy> Unpack() const;

 private:
  size_t Bytes() const;  // The size of block_, 0 when it is null.

  // Null for an empty list. Starts with the byte count of the rest, then the layout above.
  std::unique_ptr<uint8_t[]> block_;
};

}  // namespace credgate::credentials
