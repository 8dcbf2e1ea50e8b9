// The markup inside {{ }} and {% %} of a Liquid template: decoding of XML character references,
// tokens, and the recursive-descent parser of values, filter calls and conditions. Internal to the
// Liquid compiler (liquid_parser.cc).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/liquid_nodes.h"

namespace credgate::policy::liquid {

// The deepest nesting of block tags, and of indexes and ranges in one value, which bounds the
// recursion of compiling and rendering.
inline constexpr size_t kMaxNesting = 32;

// A compile error at a byte offset of the template.
struct CompileFailure {
  size_t offset = 0;
  std::string message;
};

template <typename T>
using Parsed = std::variant<T, CompileFailure>;

bool IsSpace(char c);
bool IsIdentChar(char c);

// Markup with its XML character references decoded. offsets[i] is the template offset of
// text[i], and offsets has one more entry for the end.
struct Markup {
  std::string text;
  std::vector<size_t> offsets;
};

// Decodes the XML character references of `raw`, which starts at template offset `base`.
Markup DecodeMarkup(std::string_view raw, size_t base);

struct Token {
  enum class Kind { kIdent, kString, kNumber, kPunct, kEnd };
  Kind kind = Kind::kEnd;
  std::string_view text;  // A string's content without its quotes.
  size_t offset = 0;      // Template offset.
};

// Splits markup into tokens. Errors: an unterminated string or a character that starts no token.
Parsed<std::vector<Token>> Tokenize(const Markup& markup);

// Parses the tokens of one segment's markup: values, filter calls and conditions.
class MarkupParser {
 public:
  explicit MarkupParser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
  const Token& Peek() const { return tokens_[position_]; }
  bool AtEnd() const { return Peek().kind == Token::Kind::kEnd; }
  bool IsPunct(std::string_view text) const;
  bool IsIdent(std::string_view text) const;
  const Token& Next();
  CompileFailure Unexpected(std::string_view expected) const;
  std::optional<CompileFailure> ExpectPunct(std::string_view text);
  std::optional<CompileFailure> ExpectEnd();
  Parsed<Expr> ParseExpr();
  Parsed<Expr> ParseExprAtDepth();
  Parsed<Output> ParseOutput();
  Parsed<Condition> ParseCondition();

 private:
  static std::string ArgumentCountMessage(const FilterSpec& spec, size_t count);
  Parsed<Expr> ParseNumber(const Token& token, Expr expr);
  Parsed<Expr> ParseRange(Expr expr);

  std::vector<Token> tokens_;
  size_t position_ = 0;
  size_t depth_ = 0;  // Nesting of indexes and ranges, which the parser and renderer recurse on.
};

}  // namespace credgate::policy::liquid
