#include "runtime/state.h"

#include <algorithm>

namespace credgate::runtime {

std::string ConnectionKey(std::string_view provider_id, std::string_view connection_id) {
  std::string key;
  key.reserve(provider_id.size() + 1 + connection_id.size());
  key.append(provider_id);
  key.push_back('/');
  key.append(connection_id);
  return key;
}

Result<std::vector<TemplateSegment>> ParseUrlTemplate(std::string_view url_template) {
  auto invalid = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid URL template '" + std::string(url_template) + "': " + why);
  };
  std::vector<TemplateSegment> segments;
  std::string_view rest = url_template;
  size_t query = rest.find('?');
  if (query != std::string_view::npos) rest = rest.substr(0, query);
  if (rest.empty() || rest.front() != '/') return invalid("it must start with '/'");
  rest.remove_prefix(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment == "*") {
      if (!rest.empty()) return invalid("'*' is allowed only as the last segment");
      segments.push_back({TemplateSegment::Kind::kWildcard, ""});
    } else if (segment.size() >= 2 && segment.front() == '{' && segment.back() == '}') {
      std::string_view name = segment.substr(1, segment.size() - 2);
      if (name.empty() || name.find_first_of("{}") != std::string_view::npos) {
        return invalid("parameter '" + std::string(segment) + "' needs a name");
      }
      segments.push_back({TemplateSegment::Kind::kParameter, std::string(name)});
    } else if (segment.find_first_of("{}") != std::string_view::npos) {
      return invalid("a parameter must fill a whole segment, got '" + std::string(segment) + "'");
    } else {
      segments.push_back({TemplateSegment::Kind::kLiteral, std::string(segment)});
    }
  }
  return segments;
}

ConfigState::ConfigState() : current_(std::make_shared<const Snapshot>()) {}

void ConfigState::RebuildRoutes(Snapshot& snapshot) {
  snapshot.routes.clear();
  for (const auto& [id, api] : snapshot.apis) snapshot.routes.push_back(api);
  std::stable_sort(snapshot.routes.begin(), snapshot.routes.end(),
                   [](const auto& a, const auto& b) {
                     return a->resource.path.size() > b->resource.path.size();
                   });
}

std::map<std::string, uint64_t> ConnectionStatusTable::CountByStatus() const {
  std::lock_guard lock(mutex_);
  std::map<std::string, uint64_t> counts;
  for (const auto& [key, state] : states_) ++counts[state.connected ? "Connected" : state.error_code];
  return counts;
}

management::ConnectionState ConnectionStatusTable::Get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(key);
  if (it == states_.end()) {
    return {false, "Unauthenticated", "no user has signed in through a login link yet"};
  }
  return it->second;
}

void ConnectionStatusTable::Set(const std::string& key, management::ConnectionState state) {
  std::lock_guard lock(mutex_);
  states_[key] = std::move(state);
}

void ConnectionStatusTable::Remove(const std::string& key) {
  std::lock_guard lock(mutex_);
  states_.erase(key);
}

void ConnectionStatusTable::RemovePrefix(const std::string& prefix) {
  std::lock_guard lock(mutex_);
  for (auto it = states_.begin(); it != states_.end();) {
    if (it->first.starts_with(prefix)) {
      it = states_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace credgate::runtime
