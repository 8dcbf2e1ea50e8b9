// Small ASCII text helpers shared by the policy module.
#pragma once

#include <string_view>

namespace credgate::policy {

constexpr char ToLowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Compares ASCII-case-insensitively, as HTTP field names are compared (RFC 9110 §5.1).
constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

}  // namespace credgate::policy
