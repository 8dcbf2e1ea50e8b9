// ConcurrencySlots: the number of requests that run a limit-concurrency statement's children,
// per key, in this process.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace credgate::policy {

// Thread-safe under one mutex. A key's entry is dropped when its last slot is released, so the
// map holds only keys in use.
class ConcurrencySlots {
 public:
  // Releases its slot when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(std::shared_ptr<ConcurrencySlots> owner, std::string key)
        : owner_(std::move(owner)), key_(std::move(key)) {}
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->Release(key_);
    }
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    std::shared_ptr<ConcurrencySlots> owner_;
    std::string key_;
  };

  // Takes a slot for `key` when fewer than `max_count` are taken, else returns an empty Slot.
  static Slot TryAcquire(const std::shared_ptr<ConcurrencySlots>& slots, const std::string& key,
                         int64_t max_count);

 private:
  void Release(const std::string& key);

  std::mutex mutex_;
  std::unordered_map<std::string, int64_t> in_use_;
};

}  // namespace credgate::policy
