// Result<T>: a value or an Error, in the manner of std::expected (C++23, which g++ 12 does not
// offer in C++20 mode). Accessing value() of a failed Result, or error() of a successful one, is a
// programming error and aborts through assert in debug builds.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "common/error.h"

namespace credgate {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }
  Error&& take_error() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }
  Error&& take_error() && {
    assert(!ok_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status OkStatus() { return Status(); }

}  // namespace credgate

// Evaluates `expr` (a Result); on failure returns its Error from the enclosing function.
#define CREDGATE_RETURN_IF_ERROR(expr)                             \
  do {                                                             \
    auto credgate_result_ = (expr);                                \
    if (!credgate_result_.ok()) return credgate_result_.error();   \
  } while (false)

// The coroutine form of CREDGATE_RETURN_IF_ERROR, for functions returning an awaitable.
#define CREDGATE_CO_RETURN_IF_ERROR(expr)                          \
  do {                                                             \
    auto credgate_result_ = (expr);                                \
    if (!credgate_result_.ok()) co_return credgate_result_.error(); \
  } while (false)
