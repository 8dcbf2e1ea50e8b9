#include "gateway/router.h"

#include "common/encoding.h"

namespace credgate::gateway {

namespace {

// Scores a template match: higher is more specific. Returns -1 when it does not match.
int MatchTemplate(const std::vector<runtime::TemplateSegment>& segments,
                  std::string_view remainder,
                  std::vector<std::pair<std::string, std::string>>* parameters) {
  using Kind = runtime::TemplateSegment::Kind;
  if (!remainder.empty() && remainder.front() == '/') remainder.remove_prefix(1);
  int score = 0;
  for (const auto& segment : segments) {
    if (segment.kind == Kind::kWildcard) return score;
    if (remainder.empty()) return -1;
    size_t slash = remainder.find('/');
    std::string_view part = remainder.substr(0, slash);
    remainder = slash == std::string_view::npos ? std::string_view() : remainder.substr(slash + 1);
    if (segment.kind == Kind::kLiteral) {
      if (part != segment.text) return -1;
      score += 3;
    } else {
      if (part.empty()) return -1;
      if (parameters) {
        auto decoded = PercentDecode(part, false);
        parameters->emplace_back(segment.text, decoded ? *decoded : std::string(part));
      }
      score += 2;
    }
  }
  return remainder.empty() ? score + 1 : -1;
}

}  // namespace

Route MatchRoute(const runtime::Snapshot& snapshot, std::string_view method,
                 std::string_view path) {
  Route route;
  std::string_view trimmed = path;
  if (!trimmed.empty() && trimmed.front() == '/') trimmed.remove_prefix(1);
  for (const auto& api : snapshot.routes) {
    const std::string& prefix = api->resource.path;
    if (!trimmed.starts_with(prefix)) continue;
    std::string_view rest = trimmed.substr(prefix.size());
    if (!prefix.empty() && !rest.empty() && rest.front() != '/') continue;
    route.api = api;
    route.remainder = prefix.empty() ? path : rest;
    break;
  }
  if (!route.api) return route;

  int best = -1;
  for (const auto& [id, operation] : route.api->operations) {
    const std::string& op_method = operation->resource.method;
    if (op_method != "*" && op_method != method) continue;
    int score = MatchTemplate(operation->segments, route.remainder, nullptr);
    if (score < 0) continue;
    if (op_method != "*") score += 1;  // An exact method beats the any-method operation.
    if (score > best) {
      best = score;
      route.operation = operation;
    }
  }
  if (route.operation) {
    MatchTemplate(route.operation->segments, route.remainder, &route.parameters);
  }
  return route;
}

}  // namespace credgate::gateway
