#include "policy/expression_lexer.h"

#include <charconv>

namespace credgate::policy::internal {

namespace {

// Two-character punctuators come first, so that "??" matches before "?" and "==" before "=".
constexpr std::string_view kPunctuators[] = {
    "?.", "??", "==", "!=", "<=", ">=", "&&", "||", "(", ")", "{", "}", "[", "]",
    ".",  ",",  ";",  "?",  ":",  "+",  "-",  "*",  "/", "%", "<", ">", "!", "=",
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

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view source, size_t start, size_t* error_offset) {
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
