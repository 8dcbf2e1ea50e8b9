#include "credentials/url_template.h"

#include <cctype>

namespace credgate::credentials {

namespace {

constexpr size_t kMaxNameLength = 64;

bool IsValidPlaceholderName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (!std::isalpha(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<TemplatePiece>> ParseTemplate(std::string_view text) {
  std::vector<TemplatePiece> pieces;
  std::string literal;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '}') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "'}' at offset " + std::to_string(i) + " closes no placeholder");
    }
    if (c != '{') {
      literal.push_back(c);
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 1);
    if (close == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "'{' at offset " + std::to_string(i) + " is never closed with '}'");
    }
    std::string_view name = text.substr(i + 1, close - i - 1);
    if (!IsValidPlaceholderName(name)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "placeholder '{" + std::string(name) +
                           "}' is not a parameter name: use letters and digits, starting with a "
                           "letter");
    }
    if (!literal.empty()) pieces.push_back(TemplatePiece{false, std::move(literal)});
    literal.clear();
    pieces.push_back(TemplatePiece{true, std::string(name)});
    i = close + 1;
  }
  if (!literal.empty()) pieces.push_back(TemplatePiece{false, std::move(literal)});
  return pieces;
}

std::vector<std::string> PlaceholderNames(const std::vector<TemplatePiece>& pieces) {
  std::vector<std::string> names;
  for (const auto& piece : pieces) {
    if (piece.placeholder) names.push_back(piece.text);
  }
  return names;
}

}  // namespace credgate::credentials
