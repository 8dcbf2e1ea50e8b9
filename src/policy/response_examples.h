// Response examples of an operation, from APIM's properties.responses[].representations[], which
// mock-response returns as its body.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace credgate::policy {

struct ResponseExample {
  int status_code = 200;
  std::string content_type;  // As the representation names it, for example "application/json".
  std::string body;          // Empty when the representation has no example and no sample.
};

// In the order of the responses and, within each, of its representations.
using ResponseExamples = std::vector<ResponseExample>;

// Returns the example that mock-response sends, or nullptr when none matches: the first one of
// `status_code` whose media type equals that of `content_type` (case-insensitive, parameters
// such as charset ignored), or the first one of `status_code` when `content_type` is empty.
const ResponseExample* SelectResponseExample(const ResponseExamples& examples, int status_code,
                                             std::string_view content_type);

}  // namespace credgate::policy
