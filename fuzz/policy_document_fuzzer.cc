// Fuzzes the policy XML parser and compiler with arbitrary documents, compiled at every scope
// because <base/> is valid in api and operation documents but rejected in global ones.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  for (auto scope : {credgate::policy::PolicyScope::kGlobal, credgate::policy::PolicyScope::kApi,
                     credgate::policy::PolicyScope::kOperation}) {
    auto document = credgate::policy::CompilePolicyDocument(xml, scope);
    // Every compile error names its position (document.h).
    if (!document.ok() && !document.error().message.starts_with("line ")) __builtin_trap();
  }
  return 0;
}
