// HeaderMap: the HTTP header fields of a request or response as an ordered multimap whose names
// compare ASCII-case-insensitively (RFC 9110 §5.1). It is a small vector of pairs because a
// message has few fields, so a lookup is a linear scan that allocates nothing. Not thread-safe;
// one request owns it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credgate::policy {

class HeaderMap {
 public:
  using Field = std::pair<std::string, std::string>;

  HeaderMap() = default;
  HeaderMap(std::initializer_list<Field> fields) : fields_(fields) {}

  // Returns the first value of `name`, or nullopt when absent.
  std::optional<std::string_view> Get(std::string_view name) const;
  // Returns every value of `name` joined by "," (RFC 9110 §5.3), or nullopt when absent.
  std::optional<std::string> GetJoined(std::string_view name) const;
  bool Contains(std::string_view name) const;
  size_t Count(std::string_view name) const;

  // Replaces every field named `name` with one field carrying `value`, at the position of the
  // first one (or at the end when absent).
  void Set(std::string_view name, std::string value);
  // Adds a field after the existing ones.
  void Append(std::string_view name, std::string value);
  // Removes every field named `name` and returns how many were removed.
  size_t Remove(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void Reserve(size_t count) { fields_.reserve(count); }

 private:
  std::vector<Field> fields_;
};

}  // namespace credgate::policy
