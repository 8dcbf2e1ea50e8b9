// The Liquid filters, split over liquid_filters.cc (numbers, arrays, dates and the lookup by
// name) and liquid_text_filters.cc (strings), and the helpers that both use. Internal to the
// Liquid engine.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/liquid_nodes.h"

namespace credgate::policy::liquid {

using Args = std::span<const boost::json::value>;

// Returns the text of args[index], or `fallback` when there is no such argument.
std::string ArgText(Args args, size_t index, std::string_view fallback);

// Returns kInvalidArgument with "Liquid filter <filter>: <message>".
Error FilterError(std::string_view filter, const std::string& message);

// Returns the error of a filter whose result would exceed kMaxRenderBytes.
Error TooLong(std::string_view filter);

// Returns the integer argument that `value` gives, truncated toward zero and clamped to
// +/-1e15, or `fallback` when it is not a number. The clamp keeps the conversion defined.
int64_t IntegerArgument(const boost::json::value& value, int64_t fallback);

// Returns the string filters of liquid_text_filters.cc.
std::span<const FilterSpec> TextFilters();

}  // namespace credgate::policy::liquid
