// Secret: a token, client secret, authorization code or key held so that it cannot reach a log
// or a response by accident. It has no stream or fmt formatter, converts to nothing implicitly,
// compares in constant time, and wipes its bytes when destroyed. Code that must send the value
// (a header, a token request) calls Expose() at that one place.
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <string_view>
#include <utility>

namespace credgate {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      value_ = std::move(other.value_);
      other.Wipe();
    }
    return *this;
  }
  ~Secret() { Wipe(); }

  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

  // Returns the plaintext. Call it only where the value leaves credgate on purpose.
  std::string_view Expose() const { return value_; }

  // Compares in time that depends only on the lengths, never on where the bytes differ.
  bool Equals(std::string_view other) const {
    return value_.size() == other.size() &&
           CRYPTO_memcmp(value_.data(), other.data(), value_.size()) == 0;
  }
  bool operator==(const Secret& other) const { return Equals(other.value_); }

 private:
  void Wipe() {
    if (!value_.empty()) OPENSSL_cleanse(value_.data(), value_.size());
    value_.clear();
  }

  std::string value_;
};

}  // namespace credgate
