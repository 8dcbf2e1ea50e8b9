#include "runtime/state.h"

#include <algorithm>
#include <vector>

#include "credentials/token_manager.h"

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

std::pair<std::string_view, std::string_view> SplitConnectionKey(std::string_view key) {
  const size_t slash = key.find('/');
  if (slash == std::string_view::npos) return {key, {}};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

namespace {

management::AccessPolicyResource ToResource(std::string_view key,
                                            const credentials::AccessPolicy& policy) {
  const auto [provider_id, connection_id] = SplitConnectionKey(key);
  management::AccessPolicyResource resource;
  resource.provider_id = std::string(provider_id);
  resource.connection_id = std::string(connection_id);
  resource.id = policy.id;
  resource.tenant_id = policy.tenant_id;
  resource.object_id = policy.object_id;
  resource.app_ids = policy.app_ids;
  return resource;
}

}  // namespace

management::ConnectionResource ConnectionEntry::Resource(std::string_view key) const {
  const auto [provider_id, connection_id] = SplitConnectionKey(key);
  management::ConnectionResource resource;
  resource.provider_id = std::string(provider_id);
  resource.id = std::string(connection_id);
  resource.grant_type = grant_type;
  resource.parameters_given = parameters_given;
  resource.parameters = parameters;
  return resource;
}

void ConnectionEntry::SetResource(management::ConnectionResource resource) {
  grant_type = resource.grant_type;
  parameters_given = resource.parameters_given;
  parameters = std::move(resource.parameters);
}

std::vector<management::AccessPolicyResource> ConnectionEntry::AccessPolicyResources(
    std::string_view key) const {
  std::vector<management::AccessPolicyResource> resources;
  resources.reserve(access_policies.size());
  for (const credentials::AccessPolicy& policy : access_policies.InOrder()) {
    resources.push_back(ToResource(key, policy));
  }
  return resources;
}

std::optional<management::AccessPolicyResource> ConnectionEntry::FindAccessPolicyResource(
    std::string_view key, std::string_view id) const {
  std::optional<credentials::AccessPolicy> policy = access_policies.Find(id);
  if (!policy) return std::nullopt;
  return ToResource(key, *policy);
}

ConnectionMap::ConnectionMap(const ConnectionMap& other) : entries_(other.entries_) {
  RebuildIndex();
}

ConnectionMap& ConnectionMap::operator=(const ConnectionMap& other) {
  if (this != &other) {
    entries_ = other.entries_;
    RebuildIndex();
  }
  return *this;
}

size_t ConnectionMap::KeyHash::operator()(std::string_view key) const {
  return std::hash<std::string_view>()(key);
}

ConnectionMap::iterator ConnectionMap::find(std::string_view key) {
  auto it = index_.find(key);
  return it == index_.end() ? entries_.end() : *it;
}

ConnectionMap::const_iterator ConnectionMap::find(std::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? entries_.end() : const_iterator(*it);
}

std::shared_ptr<const ConnectionEntry>& ConnectionMap::operator[](const std::string& key) {
  if (auto found = index_.find(std::string_view(key)); found != index_.end()) {
    return (*found)->second;
  }
  // A load inserts keys in ascending order, and the end hint then saves the descent through
  // the tree. A wrong hint costs one comparison before the usual search.
  auto it = entries_.try_emplace(entries_.end(), key);
  index_.insert(it);
  return it->second;
}

ConnectionMap::iterator ConnectionMap::erase(iterator position) {
  index_.erase(position);  // First, because the index hashes the key in the node.
  return entries_.erase(position);
}

size_t ConnectionMap::erase(std::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return 0;
  const iterator position = *it;
  index_.erase(it);
  entries_.erase(position);
  return 1;
}

void ConnectionMap::RebuildIndex() {
  index_.clear();
  index_.reserve(entries_.size());
  for (auto it = entries_.begin(); it != entries_.end(); ++it) index_.insert(it);
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

bool ConnectionStatusTable::HasTokens(const std::string& key) const {
  return tokens_ != nullptr && tokens_->TokenVersion(key).has_value();
}

std::map<std::string, uint64_t> ConnectionStatusTable::CountByStatus() const {
  std::map<std::string, uint64_t> counts;
  std::vector<std::string> stored_keys;
  {
    std::lock_guard lock(mutex_);
    stored_keys.reserve(states_.size());
    for (const auto& [key, state] : states_) {
      ++counts[state == nullptr || state->connected ? "Connected" : state->error_code];
      stored_keys.push_back(key);
    }
  }
  if (tokens_ == nullptr) return counts;
  // The token manager's lock is taken without the table's, as in Get().
  uint64_t stored_with_tokens = 0;
  for (const std::string& key : stored_keys) stored_with_tokens += HasTokens(key) ? 1 : 0;
  const uint64_t with_tokens = tokens_->ConnectionsWithTokens();
  if (with_tokens > stored_with_tokens) counts["Connected"] += with_tokens - stored_with_tokens;
  return counts;
}

std::optional<management::ConnectionState> ConnectionStatusTable::GetStored(
    const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = states_.find(key);
  if (it == states_.end()) return std::nullopt;
  if (it->second == nullptr) return management::ConnectionState{true, "", ""};
  return *it->second;
}

management::ConnectionState ConnectionStatusTable::Get(const std::string& key) const {
  if (std::optional<management::ConnectionState> stored = GetStored(key)) return *stored;
  if (HasTokens(key)) return {true, "", ""};
  return {false, "Unauthenticated", "no user has signed in through a login link yet"};
}

void ConnectionStatusTable::Set(const std::string& key, management::ConnectionState state) {
  std::unique_ptr<const management::ConnectionState> stored;
  const bool plain_connected =
      state.connected && state.error_code.empty() && state.error_message.empty();
  if (!plain_connected) {
    stored = std::make_unique<const management::ConnectionState>(std::move(state));
  }
  // Checked before the table's lock: the two locks are never held together.
  const bool implied = plain_connected && HasTokens(key);
  std::lock_guard lock(mutex_);
  if (implied) {
    states_.erase(key);
  } else {
    states_[key] = std::move(stored);
  }
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
