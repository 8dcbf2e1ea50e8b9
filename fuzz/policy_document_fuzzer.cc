// Fuzzes the policy XML parser and compiler with arbitrary documents, compiled at every scope
// because <base/> is valid in api and operation documents but rejected in global ones. The input
// is also the policy fragment "self" and, after its first byte 0x1f, the fragment "other", so
// that <include-fragment> reaches the fragment compiler, its nesting and its cycles.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  const size_t split = xml.find('\x1f');
  const std::string_view other =
      split == std::string_view::npos ? std::string_view() : xml.substr(split + 1);
  credgate::policy::FragmentLookup fragments =
      [&](std::string_view id) -> std::optional<std::string> {
    if (id == "self") return std::string(xml);
    if (id == "other") return std::string(other);
    return std::nullopt;
  };
  for (auto scope : {credgate::policy::PolicyScope::kGlobal, credgate::policy::PolicyScope::kApi,
                     credgate::policy::PolicyScope::kOperation}) {
    auto document = credgate::policy::CompilePolicyDocument(xml, scope, fragments);
    // Every compile error names its position (document.h).
    if (!document.ok() && !document.error().message.starts_with("line ")) __builtin_trap();
  }
  auto fragment = credgate::policy::CompilePolicyFragment("other", other, fragments);
  if (!fragment.ok() && !fragment.error().message.starts_with("policy fragment 'other', ")) {
    __builtin_trap();
  }
  return 0;
}
