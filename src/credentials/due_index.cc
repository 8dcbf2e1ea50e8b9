#include "credentials/due_index.h"

#include <cstring>
#include <functional>
#include <new>
#include <utility>

namespace credgate::credentials {

size_t DueIndex::KeyHash::operator()(std::string_view key) const {
  return std::hash<std::string_view>()(key);
}

DueIndex::Entry* DueIndex::Allocate(std::string_view key, Fields fields) {
  char* block = static_cast<char*>(::operator new(sizeof(Entry) + key.size()));
  if (!key.empty()) std::memcpy(block + sizeof(Entry), key.data(), key.size());
  return new (block) Entry(std::move(fields), static_cast<uint32_t>(key.size()));
}

void DueIndex::Free(Entry* entry) noexcept {
  entry->~Entry();
  // Unsized: clang 14 declares the sized operator delete only with -fsized-deallocation.
  ::operator delete(static_cast<void*>(entry));
}

// key_size_ sits in the tail padding of Fields, so an entry takes 64 B before its key.
static_assert(sizeof(DueIndex::Entry) <= 64);

DueIndex::~DueIndex() {
  by_due_.clear();
  for (Entry* entry : by_key_) Free(entry);
}

const DueIndex::Entry* DueIndex::Find(std::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : *it;
}

void DueIndex::Set(std::string_view key, Fields fields) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    Entry* entry = Allocate(key, std::move(fields));
    try {
      by_key_.insert(entry);
    } catch (...) {
      Free(entry);
      throw;
    }
    by_due_.insert(*entry);
    return;
  }
  Entry& entry = **it;
  if (fields.due == entry.fields_.due) {  // Keeps its place among equal due times.
    entry.fields_ = std::move(fields);
    return;
  }
  by_due_.erase(by_due_.iterator_to(entry));
  entry.fields_ = std::move(fields);
  by_due_.insert(entry);
}

bool DueIndex::Erase(std::string_view key) {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return false;
  Entry* entry = *it;
  by_key_.erase(it);
  by_due_.erase(by_due_.iterator_to(*entry));
  Free(entry);
  return true;
}

}  // namespace credgate::credentials
