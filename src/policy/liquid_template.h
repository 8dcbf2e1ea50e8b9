// Liquid templates for <set-body template="liquid">, in the dialect that Azure API Management
// uses: DotLiquid with C# naming, so filters are written in PascalCase (`Upcase`, `DividedBy`) and
// `Date` takes a .NET format string. docs/policies.md lists the supported tags, filters and
// objects and how they differ from APIM.
//
// A template is compiled once, when its policy is saved, into an immutable tree of tags, outputs
// and filter calls. A malformed tag, an unknown tag or filter and a wrong filter argument count are
// rejected then. Render() walks the tree against a JSON object of top-level names and never parses
// the template again. A compiled template may render on many threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace boost::json {
class object;
}  // namespace boost::json

namespace credgate::policy::liquid {

struct Block;  // policy/liquid_nodes.h

// The maximum number of iterations that the `for` loops of one rendering run together, and the
// maximum number of bytes that one rendering writes, counting text written into captures. Beyond
// either the rendering fails, so a loop over a large range ends by itself. The byte limit also
// caps each string that a filter returns, and the iteration limit the items of a range and the
// parts of a Split.
inline constexpr size_t kMaxRenderIterations = 100'000;
inline constexpr size_t kMaxRenderBytes = 8 * 1024 * 1024;

class Template {
 public:
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;
  ~Template();

  // Renders the template with `globals`, whose members are the names that the template reads
  // (for set-body: `context` and `body`). A name that is not defined reads as nil and renders as
  // "". Errors: kInvalidArgument for a division or modulo by zero, an integer overflow, a Currency
  // culture other than en-US, a range bound, limit or offset that is not an integer, or when a
  // limit above is exceeded. The message names the filter or limit.
  Result<std::string> Render(const boost::json::object& globals) const;

 private:
  friend Result<std::shared_ptr<const Template>> CompileTemplate(std::string_view text,
                                                                 size_t* error_offset);
  Template();

  std::unique_ptr<const Block> root_;
};

// Compiles `text`. XML character references (&lt; &gt; &amp; &quot; &apos; and numeric ones)
// inside {{ }} and {% %} are decoded first, because a template written in a policy document must
// escape '<' there; literal text is kept as written. Errors: kInvalidArgument for an unclosed
// {{ or {%, an unknown tag or filter, a wrong filter argument count, a tag without its end tag,
// or invalid markup. `*error_offset`, when given, receives the 0-based byte offset of the fault.
Result<std::shared_ptr<const Template>> CompileTemplate(std::string_view text,
                                                        size_t* error_offset = nullptr);

}  // namespace credgate::policy::liquid
