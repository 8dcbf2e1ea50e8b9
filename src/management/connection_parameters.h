// ConnectionParameters: the properties.parameters of a connection (management/resources.h),
// held behind a pointer that stays null until a value is set. Only client credentials
// connections have parameters, and an empty ParameterValues (a std::map and a Secret) would
// add 80 B to each of a million authorization code connections.
//
// A value type: copies are deep, and a moved-from object is empty. Not synchronised.
#pragma once

#include <memory>

#include "credentials/provider_resolution.h"

namespace credgate::management {

class ConnectionParameters {
 public:
  ConnectionParameters() = default;
  ConnectionParameters(const ConnectionParameters& other)
      : values_(other.values_ ? std::make_unique<credentials::ParameterValues>(*other.values_)
                              : nullptr) {}
  ConnectionParameters& operator=(const ConnectionParameters& other) {
    if (this != &other) *this = ConnectionParameters(other);
    return *this;
  }
  ConnectionParameters(ConnectionParameters&&) noexcept = default;
  ConnectionParameters& operator=(ConnectionParameters&&) noexcept = default;

  // Read access to the values, or to an empty ParameterValues when none were set.
  const credentials::ParameterValues& operator*() const { return values_ ? *values_ : Empty(); }
  const credentials::ParameterValues* operator->() const { return &**this; }

  // Returns the values for a change, allocating them on the first call.
  credentials::ParameterValues& Mutable() {
    if (!values_) values_ = std::make_unique<credentials::ParameterValues>();
    return *values_;
  }

 private:
  static const credentials::ParameterValues& Empty() {
    static const credentials::ParameterValues empty;
    return empty;
  }

  std::unique_ptr<credentials::ParameterValues> values_;
};

}  // namespace credgate::management
