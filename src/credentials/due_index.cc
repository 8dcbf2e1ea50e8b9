#include "credentials/due_index.h"

#include <utility>

namespace credgate::credentials {

// key_size_ sits in the tail padding of Fields, so an entry takes 64 B before its key.
static_assert(sizeof(DueIndex::Entry) <= 64);

const DueIndex::Entry* DueIndex::Find(std::string_view key) const { return by_key_.Find(key); }

void DueIndex::Set(std::string_view key, Fields fields) {
  auto [found, added] = by_key_.TryEmplace(key, std::move(fields));
  if (added) {
    by_due_.insert(*found);
    return;
  }
  Entry& entry = *found;
  if (fields.due == entry.fields_.due) {  // Keeps its place among equal due times.
    entry.fields_ = std::move(fields);
    return;
  }
  by_due_.erase(by_due_.iterator_to(entry));
  entry.fields_ = std::move(fields);
  by_due_.insert(entry);
}

bool DueIndex::Erase(std::string_view key) {
  Entry* entry = by_key_.Find(key);
  if (entry == nullptr) return false;
  by_due_.erase(by_due_.iterator_to(*entry));
  by_key_.Erase(entry);
  return true;
}

}  // namespace credgate::credentials
