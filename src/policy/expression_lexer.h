// Tokenizer for the C# subset of policy expressions. Internal to the policy module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::policy::internal {

enum class TokenKind { kIdentifier, kInteger, kReal, kString, kPunctuator, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;     // Source text of the token (a view into the expression).
  size_t offset = 0;         // Byte offset of the token in the expression.
  std::string string_value;  // Decoded literal, for kString (a char literal is a one-char string).
  int64_t integer_value = 0;
  double real_value = 0;
};

// Splits `source` from byte `start` on into tokens ending with one kEnd token. Offsets count
// from `source`'s first byte. Errors: kInvalidArgument naming the column of an unterminated string,
// a bad escape or an unexpected character; `*error_offset` receives its offset.
Result<std::vector<Token>> Tokenize(std::string_view source, size_t start, size_t* error_offset);

}  // namespace credgate::policy::internal
