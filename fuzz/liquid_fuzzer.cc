// Fuzzes the Liquid template compiler of set-body, and renders every template that compiles
// against a JSON body and context like the ones set-body binds.
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/liquid_template.h"

namespace {

boost::json::object MakeGlobals() {
  return boost::json::parse(R"({
    "body": {"name": "Ada", "count": 7, "price": 2.5, "ok": true, "none": null,
             "tags": ["b", "a", "c"], "items": [{"sku": "x", "qty": 2}, {"sku": "y", "qty": 5}],
             "when": "2024-05-01T10:20:30Z"},
    "context": {"Request": {"Method": "POST", "Headers": {"Content-Type": "application/json"},
                            "Url": {"Path": "/orders", "ToString": "https://gw/orders"}},
                "Response": {"StatusCode": 200}}
  })")
      .as_object();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const boost::json::object globals = MakeGlobals();
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  size_t error_offset = 0;
  auto compiled = credgate::policy::liquid::CompileTemplate(text, &error_offset);
  if (!compiled.ok()) {
    // The offset lies inside `text`, or equals its size for a missing end tag.
    if (error_offset > text.size()) __builtin_trap();
    return 0;
  }
  auto rendered = (*compiled)->Render(globals);
  if (rendered.ok() && rendered->size() > credgate::policy::liquid::kMaxRenderBytes) {
    __builtin_trap();
  }
  return 0;
}
