// Tokenizer for the C# subset of policy expressions. Internal to the policy module.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::policy::internal {

enum class TokenKind { kIdentifier, kInteger, kReal, kString, kInterpolated, kPunctuator, kEnd };

// A piece of an interpolated string $"...": literal text, then optionally a hole whose
// expression spans [hole_begin, hole_end) of the source.
struct InterpolationPart {
  std::string literal;
  size_t hole_begin = 0;
  size_t hole_end = 0;  // Equal to hole_begin when the part has no hole.
  std::string format;   // Text after ':' in the hole, or "".
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string_view text;     // Source text of the token (a view into the expression).
  size_t offset = 0;         // Byte offset of the token in the expression.
  std::string string_value;  // Decoded literal, for kString (a char literal is a one-char string).
  int64_t integer_value = 0;
  double real_value = 0;
  std::vector<InterpolationPart> parts;  // For kInterpolated.
};

// Splits `source` from byte `start` up to `end` (the end of `source` by default) into tokens
// ending with one kEnd token. Offsets count
// from `source`'s first byte. Errors: kInvalidArgument naming the column of an unterminated string,
// a bad escape or an unexpected character; `*error_offset` receives its offset.
Result<std::vector<Token>> Tokenize(std::string_view source, size_t start, size_t* error_offset,
                                    size_t end = std::string_view::npos);

}  // namespace credgate::policy::internal
