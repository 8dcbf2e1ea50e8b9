// The "{name}" templates of catalogue entries: URL templates such as
// "https://{subdomain}.zendesk.com/oauth/tokens" and parameter values such as "{resourceUri}".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace credgate::credentials {

struct TemplatePiece {
  bool placeholder = false;
  std::string text;  // Literal text, or the parameter name of a placeholder.
};

// Splits `text` into literal text and "{name}" placeholders. A name has 1 to 64 letters and
// digits and starts with a letter. Errors: kInvalidArgument for an unclosed '{', a '}' outside a
// placeholder, or an invalid name.
Result<std::vector<TemplatePiece>> ParseTemplate(std::string_view text);

// Returns the names of the placeholders in `pieces`, in order, with repeats.
std::vector<std::string> PlaceholderNames(const std::vector<TemplatePiece>& pieces);

}  // namespace credgate::credentials
