#include "policy/liquid_markup.h"

#include <charconv>
#include <cstdint>

namespace credgate::policy::liquid {

namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// Returns the length of the character reference at `raw[i]` and its decoded text, or 0.
size_t DecodeReference(std::string_view raw, size_t i, std::string* decoded) {
  static constexpr std::pair<std::string_view, char> kNamed[] = {
      {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string_view rest = raw.substr(i);
  for (const auto& [name, c] : kNamed) {
    if (rest.starts_with(name)) {
      *decoded = std::string(1, c);
      return name.size();
    }
  }
  if (!rest.starts_with("&#")) return 0;
  size_t end = rest.find(';');
  if (end == std::string_view::npos || end > 10) return 0;
  bool hex = rest.size() > 2 && (rest[2] == 'x' || rest[2] == 'X');
  std::string_view digits = rest.substr(hex ? 3 : 2, end - (hex ? 3 : 2));
  uint32_t code_point = 0;
  auto [ptr, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), code_point, hex ? 16 : 10);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || digits.empty() ||
      code_point == 0 || code_point > 0x10FFFF) {
    return 0;
  }
  decoded->clear();
  AppendUtf8(code_point, *decoded);
  return end + 1;
}

}  // namespace

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '-'; }

Markup DecodeMarkup(std::string_view raw, size_t base) {
  Markup markup;
  markup.text.reserve(raw.size());
  std::string decoded;
  for (size_t i = 0; i < raw.size();) {
    size_t length = raw[i] == '&' ? DecodeReference(raw, i, &decoded) : 0;
    if (length == 0) {
      markup.text += raw[i];
      markup.offsets.push_back(base + i);
      ++i;
      continue;
    }
    for (char c : decoded) {
      markup.text += c;
      markup.offsets.push_back(base + i);
    }
    i += length;
  }
  markup.offsets.push_back(base + raw.size());
  return markup;
}

Parsed<std::vector<Token>> Tokenize(const Markup& markup) {
  std::vector<Token> tokens;
  std::string_view text = markup.text;
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    Token token;
    token.offset = markup.offsets[i];
    if (i >= text.size()) {
      tokens.push_back(token);
      return tokens;
    }
    char c = text[i];
    size_t start = i;
    if (IsIdentStart(c)) {
      while (i < text.size() && IsIdentChar(text[i])) ++i;
      if (i < text.size() && text[i] == '?') ++i;
      token.kind = Token::Kind::kIdent;
      token.text = text.substr(start, i - start);
    } else if (IsDigit(c) || (c == '-' && i + 1 < text.size() && IsDigit(text[i + 1]))) {
      ++i;
      while (i < text.size() && IsDigit(text[i])) ++i;
      if (i + 1 < text.size() && text[i] == '.' && IsDigit(text[i + 1])) {
        ++i;
        while (i < text.size() && IsDigit(text[i])) ++i;
      }
      token.kind = Token::Kind::kNumber;
      token.text = text.substr(start, i - start);
    } else if (c == '"' || c == '\'') {
      size_t end = text.find(c, i + 1);
      if (end == std::string_view::npos) {
        return CompileFailure{token.offset, "unterminated string"};
      }
      token.kind = Token::Kind::kString;
      token.text = text.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      static constexpr std::string_view kPunct[] = {
          "..", "==", "!=", "<>", "<=", ">=", "<", ">", ".",
          "[",  "]",  "(",  ")",  "|",  ":",  ",", "="};
      std::string_view rest = text.substr(i);
      for (std::string_view punct : kPunct) {
        if (rest.starts_with(punct)) {
          token.kind = Token::Kind::kPunct;
          token.text = rest.substr(0, punct.size());
          i += punct.size();
          break;
        }
      }
      if (token.kind != Token::Kind::kPunct) {
        return CompileFailure{token.offset, "unexpected character '" + std::string(1, c) + "'"};
      }
    }
    tokens.push_back(token);
  }
}

bool MarkupParser::IsPunct(std::string_view text) const {
  return Peek().kind == Token::Kind::kPunct && Peek().text == text;
}

bool MarkupParser::IsIdent(std::string_view text) const {
  return Peek().kind == Token::Kind::kIdent && Peek().text == text;
}

const Token& MarkupParser::Next() {
  const Token& token = tokens_[position_];
  if (token.kind != Token::Kind::kEnd) ++position_;
  return token;
}

CompileFailure MarkupParser::Unexpected(std::string_view expected) const {
  std::string found = AtEnd() ? "the end of the tag" : "'" + std::string(Peek().text) + "'";
  return CompileFailure{Peek().offset, "expected " + std::string(expected) + ", found " + found};
}

std::optional<CompileFailure> MarkupParser::ExpectPunct(std::string_view text) {
  if (!IsPunct(text)) return Unexpected("'" + std::string(text) + "'");
  Next();
  return std::nullopt;
}

std::optional<CompileFailure> MarkupParser::ExpectEnd() {
  if (!AtEnd()) return Unexpected("the end of the tag");
  return std::nullopt;
}

Parsed<Expr> MarkupParser::ParseExpr() {
  if (depth_ >= kMaxNesting) {
    return CompileFailure{Peek().offset,
                          "values nest more than " + std::to_string(kMaxNesting) + " levels deep"};
  }
  ++depth_;
  auto parsed = ParseExprAtDepth();
  --depth_;
  return parsed;
}

Parsed<Expr> MarkupParser::ParseExprAtDepth() {
  Expr expr;
  expr.offset = Peek().offset;
  const Token& token = Next();
  switch (token.kind) {
    case Token::Kind::kString:
      expr.literal = boost::json::string(token.text);
      return expr;
    case Token::Kind::kNumber:
      return ParseNumber(token, std::move(expr));
    case Token::Kind::kPunct:
      if (token.text == "(") return ParseRange(std::move(expr));
      --position_;
      return Unexpected("a value");
    case Token::Kind::kEnd:
      return Unexpected("a value");
    case Token::Kind::kIdent:
      break;
  }

  // Keywords, then a variable path.
  if (token.text == "true" || token.text == "false") {
    expr.literal = token.text == "true";
    return expr;
  }
  if (token.text == "nil" || token.text == "null") return expr;
  if (token.text == "empty") {
    expr.kind = Expr::Kind::kEmpty;
    return expr;
  }
  if (token.text == "blank") {
    expr.kind = Expr::Kind::kBlank;
    return expr;
  }

  expr.kind = Expr::Kind::kVariable;
  expr.root = std::string(token.text);
  while (IsPunct(".") || IsPunct("[")) {
    Expr::Step step;
    if (Next().text == ".") {
      if (Peek().kind != Token::Kind::kIdent) return Unexpected("a member name after '.'");
      step.member = std::string(Next().text);
    } else {
      auto index = ParseExpr();
      if (auto* failure = std::get_if<CompileFailure>(&index)) return *failure;
      step.index = std::make_unique<Expr>(std::move(std::get<Expr>(index)));
      if (auto failure = ExpectPunct("]")) return *failure;
    }
    expr.steps.push_back(std::move(step));
  }
  return expr;
}

Parsed<Output> MarkupParser::ParseOutput() {
  auto value = ParseExpr();
  if (auto* failure = std::get_if<CompileFailure>(&value)) return *failure;
  Output output{std::move(std::get<Expr>(value)), {}};
  while (IsPunct("|")) {
    Next();
    if (Peek().kind != Token::Kind::kIdent) return Unexpected("a filter name after '|'");
    const Token& name = Next();
    FilterCall call;
    call.offset = name.offset;
    call.spec = FindFilter(name.text);
    if (call.spec == nullptr) {
      return CompileFailure{name.offset, "unknown filter '" + std::string(name.text) +
                                             "'; filters are written in PascalCase, for "
                                             "example Upcase or DividedBy"};
    }
    if (IsPunct(":")) {
      Next();
      while (true) {
        auto arg = ParseExpr();
        if (auto* failure = std::get_if<CompileFailure>(&arg)) return *failure;
        call.args.push_back(std::move(std::get<Expr>(arg)));
        if (!IsPunct(",")) break;
        Next();
      }
    }
    if (call.args.size() < call.spec->min_args || call.args.size() > call.spec->max_args) {
      return CompileFailure{name.offset, ArgumentCountMessage(*call.spec, call.args.size())};
    }
    output.filters.push_back(std::move(call));
  }
  return output;
}

Parsed<Condition> MarkupParser::ParseCondition() {
  Condition condition;
  while (true) {
    auto left = ParseExpr();
    if (auto* failure = std::get_if<CompileFailure>(&left)) return *failure;
    Comparison comparison;
    comparison.left = std::move(std::get<Expr>(left));
    static constexpr std::string_view kOperators[] = {"==", "!=", "<>", "<", ">", "<=", ">="};
    bool is_operator = IsIdent("contains");
    for (std::string_view op : kOperators) is_operator = is_operator || IsPunct(op);
    if (is_operator) {
      std::string_view op = Next().text;
      comparison.op = op == "<>" ? "!=" : std::string(op);
      auto right = ParseExpr();
      if (auto* failure = std::get_if<CompileFailure>(&right)) return *failure;
      comparison.right = std::move(std::get<Expr>(right));
    }
    condition.terms.push_back(std::move(comparison));
    if (!IsIdent("and") && !IsIdent("or")) break;
    condition.joined_by_and.push_back(Next().text == "and");
  }
  return condition;
}

std::string MarkupParser::ArgumentCountMessage(const FilterSpec& spec, size_t count) {
  std::string expected = std::to_string(spec.min_args);
  if (spec.max_args != spec.min_args) expected += " to " + std::to_string(spec.max_args);
  return "filter '" + std::string(spec.name) + "' takes " + expected + " argument" +
         (spec.max_args == 1 ? "" : "s") + ", not " + std::to_string(count);
}

Parsed<Expr> MarkupParser::ParseNumber(const Token& token, Expr expr) {
  std::string_view text = token.text;
  if (text.find('.') == std::string_view::npos) {
    int64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && ptr == text.data() + text.size()) {
      expr.literal = value;
      return expr;
    }
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return CompileFailure{token.offset, "invalid number '" + std::string(text) + "'"};
  }
  expr.literal = value;
  return expr;
}

Parsed<Expr> MarkupParser::ParseRange(Expr expr) {
  auto from = ParseExpr();
  if (auto* failure = std::get_if<CompileFailure>(&from)) return *failure;
  if (auto failure = ExpectPunct("..")) return *failure;
  auto to = ParseExpr();
  if (auto* failure = std::get_if<CompileFailure>(&to)) return *failure;
  if (auto failure = ExpectPunct(")")) return *failure;
  expr.kind = Expr::Kind::kRange;
  expr.range_from = std::make_unique<Expr>(std::move(std::get<Expr>(from)));
  expr.range_to = std::make_unique<Expr>(std::move(std::get<Expr>(to)));
  return expr;
}

}  // namespace credgate::policy::liquid
