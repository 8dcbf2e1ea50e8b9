#include "policy/header_map.h"

#include <algorithm>

#include "policy/text.h"

namespace credgate::policy {

std::optional<std::string_view> HeaderMap::Get(std::string_view name) const {
  for (const auto& field : fields_) {
    if (EqualsIgnoreCase(field.first, name)) return std::string_view(field.second);
  }
  return std::nullopt;
}

std::optional<std::string> HeaderMap::GetJoined(std::string_view name) const {
  std::optional<std::string> joined;
  for (const auto& field : fields_) {
    if (!EqualsIgnoreCase(field.first, name)) continue;
    if (joined) {
      *joined += ',';
      *joined += field.second;
    } else {
      joined = field.second;
    }
  }
  return joined;
}

bool HeaderMap::Contains(std::string_view name) const { return Get(name).has_value(); }

size_t HeaderMap::Count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(fields_.begin(), fields_.end(), [&](const Field& f) {
    return EqualsIgnoreCase(f.first, name);
  }));
}

void HeaderMap::Set(std::string_view name, std::string value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const Field& f) { return EqualsIgnoreCase(f.first, name); });
  if (first == fields_.end()) {
    fields_.emplace_back(std::string(name), std::move(value));
    return;
  }
  first->second = std::move(value);
  auto rest = std::remove_if(first + 1, fields_.end(),
                             [&](const Field& f) { return EqualsIgnoreCase(f.first, name); });
  fields_.erase(rest, fields_.end());
}

void HeaderMap::Append(std::string_view name, std::string value) {
  fields_.emplace_back(std::string(name), std::move(value));
}

size_t HeaderMap::Remove(std::string_view name) {
  auto rest = std::remove_if(fields_.begin(), fields_.end(),
                             [&](const Field& f) { return EqualsIgnoreCase(f.first, name); });
  size_t removed = static_cast<size_t>(fields_.end() - rest);
  fields_.erase(rest, fields_.end());
  return removed;
}

}  // namespace credgate::policy
