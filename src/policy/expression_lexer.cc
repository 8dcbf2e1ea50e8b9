#include "policy/expression_lexer.h"

#include <charconv>

namespace credgate::policy::internal {

namespace {

// Two-character punctuators come first, so that "??" matches before "?" and "==" before "=".
constexpr std::string_view kPunctuators[] = {
    "?.", "?[", "??", "==", "!=", "<=", ">=", "&&", "||", "=>", "+=", "-=", "(", ")", "{", "}",
    "[",
    "]",  ".",  ",",  ";",  "?",  ":",  "+",  "-",  "*",  "/",  "%",  "<", ">", "!", "=",
};

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Error LexError(size_t offset, const std::string& what, size_t* error_offset) {
  if (error_offset != nullptr) *error_offset = offset;
  return MakeError(ErrorCode::kInvalidArgument,
                   what + " at column " + std::to_string(offset + 1) + " of the expression");
}

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Decodes a regular C# string or char literal that starts at source[start] (the quote). On
// success sets *end to the offset after the closing quote.
Result<std::string> DecodeQuoted(std::string_view source, size_t start, size_t* end,
                                 size_t* error_offset) {
  const char quote = source[start];
  std::string out;
  size_t i = start + 1;
  while (i < source.size() && source[i] != quote) {
    char c = source[i];
    if (c == '\n') break;
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= source.size()) break;
    char escape = source[i + 1];
    switch (escape) {
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      case '\\':
        out += '\\';
        break;
      case '0':
        out += '\0';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case 'u': {
        uint32_t code_point = 0;
        auto digits = source.substr(i + 2, 4);
        auto [ptr, ec] =
            std::from_chars(digits.data(), digits.data() + digits.size(), code_point, 16);
        if (digits.size() != 4 || ec != std::errc() || ptr != digits.data() + 4) {
          return LexError(i, "invalid \\u escape; write four hex digits", error_offset);
        }
        AppendUtf8(code_point, out);
        i += 4;
        break;
      }
      default:
        return LexError(i, std::string("invalid escape sequence '\\") + escape + "'", error_offset);
    }
    i += 2;
  }
  if (i >= source.size() || source[i] != quote) {
    return LexError(start, "unterminated string literal", error_offset);
  }
  *end = i + 1;
  return out;
}

// Decodes a verbatim string @"..." whose '@' is at source[start]; "" stands for one quote.
Result<std::string> DecodeVerbatim(std::string_view source, size_t start, size_t* end,
                                   size_t* error_offset) {
  std::string out;
  size_t i = start + 2;
  while (i < source.size()) {
    if (source[i] == '"') {
      if (i + 1 < source.size() && source[i + 1] == '"') {
        out += '"';
        i += 2;
        continue;
      }
      *end = i + 1;
      return out;
    }
    out += source[i++];
  }
  return LexError(start, "unterminated verbatim string literal", error_offset);
}

// Returns the offset of the '}' that closes the hole opened at source[open], skipping nested
// brackets and string literals, and sets *format_colon to the first ':' outside brackets (the
// start of a format specifier), or npos. As in C#, a conditional operator in a hole must be
// written in parentheses, because its ':' would start the format.
Result<size_t> FindHoleEnd(std::string_view source, size_t open, size_t* format_colon,
                           size_t* error_offset) {
  int depth = 0;
  *format_colon = std::string_view::npos;
  for (size_t i = open + 1; i < source.size(); ++i) {
    char c = source[i];
    if (c == '"' || c == '\'') {
      size_t end = 0;
      auto skipped = DecodeQuoted(source, i, &end, error_offset);
      if (!skipped.ok()) return skipped.error();
      i = end - 1;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || (c == '}' && depth > 0)) {
      --depth;
    } else if (c == '}') {
      return i;
    } else if (c == ':' && depth == 0 && *format_colon == std::string_view::npos) {
      *format_colon = i;
    }
  }
  return LexError(open, "missing '}' of the interpolation hole", error_offset);
}

// Decodes an interpolated string $"..." or $@"..." whose '$' or '@' is at source[start], with
// its '"' at source[quote].
Result<std::vector<InterpolationPart>> DecodeInterpolated(std::string_view source, size_t start,
                                                          size_t quote, bool verbatim, size_t* end,
                                                          size_t* error_offset) {
  std::vector<InterpolationPart> parts(1);
  size_t i = quote + 1;
  while (i < source.size()) {
    char c = source[i];
    if (c == '"') {
      if (verbatim && i + 1 < source.size() && source[i + 1] == '"') {
        parts.back().literal += '"';
        i += 2;
        continue;
      }
      *end = i + 1;
      return parts;
    }
    if ((c == '{' || c == '}') && i + 1 < source.size() && source[i + 1] == c) {
      parts.back().literal += c;
      i += 2;
      continue;
    }
    if (c == '}')
      return LexError(i, "unmatched '}' in an interpolated string; write '}}'", error_offset);
    if (c == '{') {
      size_t colon = 0;
      auto close = FindHoleEnd(source, i, &colon, error_offset);
      if (!close.ok()) return close.error();
      InterpolationPart& part = parts.back();
      part.hole_begin = i + 1;
      part.hole_end = colon == std::string_view::npos ? *close : colon;
      if (colon != std::string_view::npos) {
        part.format = std::string(source.substr(colon + 1, *close - colon - 1));
      }
      parts.emplace_back();
      i = *close + 1;
      continue;
    }
    if (!verbatim && c == '\\') {
      if (i + 1 >= source.size()) break;
      size_t escape_end = 0;
      // Decodes the escape as the only content of a quoted literal.
      std::string one = "\"" + std::string(source.substr(i, source[i + 1] == 'u' ? 6 : 2)) + "\"";
      auto decoded = DecodeQuoted(one, 0, &escape_end, error_offset);
      if (!decoded.ok())
        return LexError(i, "invalid escape sequence in an interpolated string", error_offset);
      parts.back().literal += *decoded;
      i += one.size() - 2;
      continue;
    }
    if (!verbatim && c == '\n') break;
    parts.back().literal += c;
    ++i;
  }
  return LexError(start, "unterminated interpolated string", error_offset);
}

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view source, size_t start, size_t* error_offset,
                                    size_t end_offset) {
  if (end_offset < source.size()) source = source.substr(0, end_offset);
  std::vector<Token> tokens;
  size_t i = start;
  while (i < source.size()) {
    char c = source[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    Token token;
    token.offset = i;
    size_t end = i + 1;

    if (IsIdentifierStart(c)) {
      while (end < source.size() && (IsIdentifierStart(source[end]) || IsDigit(source[end]))) {
        ++end;
      }
      token.kind = TokenKind::kIdentifier;
    } else if (IsDigit(c)) {
      while (end < source.size() && IsDigit(source[end])) ++end;
      bool real = end + 1 < source.size() && source[end] == '.' && IsDigit(source[end + 1]);
      if (real) {
        end += 1;
        while (end < source.size() && IsDigit(source[end])) ++end;
        token.kind = TokenKind::kReal;
        auto [ptr, ec] = std::from_chars(source.data() + i, source.data() + end, token.real_value);
        if (ec != std::errc()) return LexError(i, "invalid number", error_offset);
      } else {
        token.kind = TokenKind::kInteger;
        auto [ptr, ec] =
            std::from_chars(source.data() + i, source.data() + end, token.integer_value);
        if (ec != std::errc()) {
          return LexError(i, "integer literal out of the range of Int64", error_offset);
        }
      }
      // C# suffixes L, l, d, D, m, M, f, F are accepted and ignored.
      if (end < source.size() &&
          std::string_view("LldDmMfF").find(source[end]) != std::string_view::npos) {
        ++end;
      }
    } else if (c == '"' || c == '\'') {
      auto decoded = DecodeQuoted(source, i, &end, error_offset);
      if (!decoded.ok()) return decoded.error();
      token.kind = TokenKind::kString;
      token.string_value = std::move(decoded).value();
    } else if ((c == '$' || c == '@') && source.substr(i).find('"') <= 2 &&
               (source.substr(i, 2) == "$\"" || source.substr(i, 3) == "$@\"" ||
                source.substr(i, 3) == "@$\"")) {
      size_t quote = source.find('"', i);
      auto parts = DecodeInterpolated(source, i, quote, quote == i + 2, &end, error_offset);
      if (!parts.ok()) return parts.error();
      token.kind = TokenKind::kInterpolated;
      token.parts = std::move(parts).value();
    } else if (c == '@' && i + 1 < source.size() && source[i + 1] == '"') {
      auto decoded = DecodeVerbatim(source, i, &end, error_offset);
      if (!decoded.ok()) return decoded.error();
      token.kind = TokenKind::kString;
      token.string_value = std::move(decoded).value();
    } else {
      std::string_view rest = source.substr(i);
      std::string_view match;
      for (std::string_view punctuator : kPunctuators) {
        if (rest.starts_with(punctuator)) {
          match = punctuator;
          break;
        }
      }
      if (match.empty()) {
        return LexError(i, std::string("unexpected character '") + c + "'", error_offset);
      }
      // "?." followed by a digit is the conditional operator and a number, as in a?.5:1.
      if (match == "?." && i + 2 < source.size() && IsDigit(source[i + 2])) match = "?";
      token.kind = TokenKind::kPunctuator;
      end = i + match.size();
    }
    token.text = source.substr(i, end - i);
    tokens.push_back(std::move(token));
    i = end;
  }
  Token last;
  last.kind = TokenKind::kEnd;
  last.offset = source.size();
  tokens.push_back(std::move(last));
  return tokens;
}

}  // namespace credgate::policy::internal
