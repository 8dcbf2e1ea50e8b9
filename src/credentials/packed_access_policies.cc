#include "credentials/packed_access_policies.h"

#include <cstring>

namespace credgate::credentials {
namespace {

size_t VarintSize(size_t value) {
  size_t size = 1;
  for (; value >= 0x80; value >>= 7) ++size;
  return size;
}

uint8_t* PutVarint(uint8_t* out, size_t value) {
  for (; value >= 0x80; value >>= 7) *out++ = static_cast<uint8_t>(value | 0x80);
  *out++ = static_cast<uint8_t>(value);
  return out;
}

// Reads a varint that PutVarint wrote and moves `at` past it. Blocks are written only by this
// file, so the input is trusted.
size_t GetVarint(const uint8_t*& at) {
  size_t value = 0;
  int shift = 0;
  while ((*at & 0x80) != 0) {
    value |= static_cast<size_t>(*at & 0x7f) << shift;
    shift += 7;
    ++at;
  }
  value |= static_cast<size_t>(*at) << shift;
  ++at;
  return value;
}

size_t StringSize(std::string_view text) { return VarintSize(text.size()) + text.size(); }

uint8_t* PutString(uint8_t* out, std::string_view text) {
  out = PutVarint(out, text.size());
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

std::string_view GetString(const uint8_t*& at) {
  const size_t size = GetVarint(at);
  std::string_view text(reinterpret_cast<const char*>(at), size);
  at += size;
  return text;
}

}  // namespace

std::string_view PackedStrings::iterator::dereference() const {
  const uint8_t* at = at_;
  return GetString(at);
}

void PackedStrings::iterator::increment() {
  GetString(at_);
  if (--left_ == 0) at_ = nullptr;
}

AccessPolicy AccessPolicyView::ToPolicy() const {
  AccessPolicy policy{std::string(id), std::string(tenant_id), std::string(object_id), {}};
  policy.app_ids.reserve(app_ids.size());
  for (std::string_view app_id : app_ids) policy.app_ids.emplace_back(app_id);
  return policy;
}

PackedAccessPolicies::iterator::iterator(const uint8_t* at, size_t left) : next_(at), left_(left) {
  if (left_ > 0) Read();
}

void PackedAccessPolicies::iterator::increment() {
  if (--left_ == 0) {
    next_ = nullptr;
    view_ = {};
  } else {
    Read();
  }
}

void PackedAccessPolicies::iterator::Read() {
  view_.id = GetString(next_);
  view_.tenant_id = GetString(next_);
  view_.object_id = GetString(next_);
  const size_t app_count = GetVarint(next_);
  view_.app_ids = PackedStrings(next_, app_count);
  for (size_t i = 0; i < app_count; ++i) GetString(next_);
}

PackedAccessPolicies::PackedAccessPolicies(std::span<const AccessPolicy> policies) {
  if (policies.empty()) return;
  // The exact size first, so the block is the only allocation: the start-up load packs a
  // million of them, and freed scratch buffers between them would stay as heap holes.
  size_t body = VarintSize(policies.size());
  for (const AccessPolicy& policy : policies) {
    body += StringSize(policy.id) + StringSize(policy.tenant_id) + StringSize(policy.object_id) +
            VarintSize(policy.app_ids.size());
    for (const std::string& app_id : policy.app_ids) body += StringSize(app_id);
  }
  block_ = std::make_unique_for_overwrite<uint8_t[]>(VarintSize(body) + body);
  uint8_t* out = PutVarint(block_.get(), body);
  out = PutVarint(out, policies.size());
  for (const AccessPolicy& policy : policies) {
    out = PutString(out, policy.id);
    out = PutString(out, policy.tenant_id);
    out = PutString(out, policy.object_id);
    out = PutVarint(out, policy.app_ids.size());
    for (const std::string& app_id : policy.app_ids) out = PutString(out, app_id);
  }
}

PackedAccessPolicies::PackedAccessPolicies(const PackedAccessPolicies& other) { *this = other; }

PackedAccessPolicies& PackedAccessPolicies::operator=(const PackedAccessPolicies& other) {
  if (this == &other) return *this;
  if (other.block_ == nullptr) {
    block_.reset();
    return *this;
  }
  const size_t bytes = other.Bytes();
  block_ = std::make_unique_for_overwrite<uint8_t[]>(bytes);
  std::memcpy(block_.get(), other.block_.get(), bytes);
  return *this;
}

size_t PackedAccessPolicies::Bytes() const {
  if (block_ == nullptr) return 0;
  const uint8_t* at = block_.get();
  const size_t body = GetVarint(at);
  return static_cast<size_t>(at - block_.get()) + body;
}

size_t PackedAccessPolicies::size() const {
  if (block_ == nullptr) return 0;
  const uint8_t* at = block_.get();
  GetVarint(at);
  return GetVarint(at);
}

PackedAccessPolicies::iterator PackedAccessPolicies::begin() const {
  if (block_ == nullptr) return iterator();
  const uint8_t* at = block_.get();
  GetVarint(at);
  const size_t count = GetVarint(at);
  return iterator(at, count);
}

std::vector<AccessPolicy> PackedAccessPolicies::Unpack() const {
  std::vector<AccessPolicy> policies;
  policies.reserve(size());
  for (const AccessPolicyView& view : *this) policies.push_back(view.ToPolicy());
  return policies;
}

}  // namespace credgate::credentials
