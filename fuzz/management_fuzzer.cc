// Fuzzes the management API's request bodies: JSON parsing with its limits and every Parse*
// function of the ARM-shaped resources. A body that parses is rendered as GET would return it,
// and the rendered body must parse again, because clients PUT back what they read.
#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "management/resources.h"

namespace {

using namespace credgate::management;

// Parses `body` with `parse`, renders the result with `render` and traps when the rendered body
// no longer parses.
template <typename Parse, typename Render>
void CheckRoundTrip(const boost::json::object& body, Parse parse, Render render) {
  auto resource = parse(body);
  if (!resource.ok()) return;
  const boost::json::object rendered = render(*resource);
  if (!parse(rendered).ok()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseJsonBody(text);
  if (!parsed.ok()) return 0;
  const boost::json::object& body = *parsed;

  CheckRoundTrip(
      body, [](const auto& b) { return ParseTrustedIssuer("corp", b); },
      [](const auto& r) { return RenderTrustedIssuer(r); });
  CheckRoundTrip(
      body, [](const auto& b) { return ParseProvider("github", b); },
      [](const auto& r) { return RenderProvider(r, "https://gw.example/.credgate/callback"); });
  CheckRoundTrip(
      body, [](const auto& b) { return ParseConnection("github", "alice", b); },
      [](const auto& r) { return RenderConnection(r, ConnectionState{}); });
  CheckRoundTrip(
      body, [](const auto& b) { return ParseAccessPolicy("github", "alice", "policy-1", b); },
      [](const auto& r) { return RenderAccessPolicy(r); });
  CheckRoundTrip(
      body, [](const auto& b) { return ParseApi("orders", b); },
      [](const auto& r) { return RenderApi(r); });
  CheckRoundTrip(
      body, [](const auto& b) { return ParseOperation("orders", "get-order", b); },
      [](const auto& r) { return RenderOperation(r); });
  CheckRoundTrip(
      body, [](const auto& b) { return ParsePolicy(b); },
      [](const auto& r) { return RenderPolicy("/apis/orders/policies/policy", r); });
  return 0;
}
