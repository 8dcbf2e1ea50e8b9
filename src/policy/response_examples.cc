#include "policy/response_examples.h"

#include <cctype>

namespace credgate::policy {

namespace {

// Returns the media type of a Content-Type value: the part before ';', without surrounding
// spaces.
std::string_view MediaType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.front() == ' ') content_type.remove_prefix(1);
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return content_type;
}

bool SameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

const ResponseExample* SelectResponseExample(const ResponseExamples& examples, int status_code,
                                             std::string_view content_type) {
  const std::string_view requested = MediaType(content_type);
  for (const ResponseExample& example : examples) {
    if (example.status_code != status_code) continue;
    if (requested.empty() || SameIgnoringCase(MediaType(example.content_type), requested)) {
      return &example;
    }
  }
  return nullptr;
}

}  // namespace credgate::policy
