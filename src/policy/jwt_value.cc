#include "policy/jwt_value.h"

#include <boost/json.hpp>
#include <utility>
#include <vector>

namespace credgate::policy {

namespace {

// Returns a claim as APIM's string[]: a string, each element of an array, or the JSON text of
// any other value.
std::vector<std::string> ClaimStrings(const boost::json::value& claim) {
  std::vector<std::string> values;
  auto add = [&values](const boost::json::value& item) {
    values.push_back(item.is_string() ? std::string(item.get_string())
                                      : boost::json::serialize(item));
  };
  if (claim.is_array()) {
    for (const auto& item : claim.get_array()) add(item);
  } else {
    add(claim);
  }
  return values;
}

Value StringList(const std::vector<std::string>& strings) {
  std::vector<Value> items;
  items.reserve(strings.size());
  for (const auto& text : strings) items.emplace_back(text);
  return Value(MakeList(std::move(items)));
}

std::string Joined(const std::vector<std::string>& strings) {
  std::string joined;
  for (size_t i = 0; i < strings.size(); ++i) {
    if (i > 0) joined += ',';
    joined += strings[i];
  }
  return joined;
}

class ClaimDictionary final : public Object {
 public:
  explicit ClaimDictionary(const boost::json::object& payload) {
    for (const auto& [key, claim] : payload) {
      claims_.emplace_back(std::string(key), ClaimStrings(claim));
    }
  }

  std::string_view TypeName() const override { return "IReadOnlyDictionary"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Count") return Value(static_cast<int64_t>(claims_.size()));
    if (name == "Keys") {
      std::vector<Value> keys;
      for (const auto& [key, unused] : claims_) keys.emplace_back(key);
      return Value(MakeList(std::move(keys)));
    }
    return Object::GetMember(name);
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (args.empty() || !args[0].is_string()) return Object::CallMethod(name, args);
    const std::vector<std::string>* found = Find(args[0].AsString());
    if (name == kIndexerMethod && args.size() == 1) {
      if (found == nullptr) {
        return MakeError(ErrorCode::kNotFound, "the JWT has no claim '" + args[0].AsString() + "'");
      }
      return StringList(*found);
    }
    if (name == "ContainsKey" && args.size() == 1) return Value(found != nullptr);
    if (name == "GetValueOrDefault" && args.size() <= 2) {
      if (found != nullptr) return Value(Joined(*found));
      return args.size() == 2 ? args[1] : Value();
    }
    return Object::CallMethod(name, args);
  }

 private:
  const std::vector<std::string>* Find(const std::string& key) const {
    for (const auto& [name, values] : claims_) {
      if (name == key) return &values;
    }
    return nullptr;
  }

  std::vector<std::pair<std::string, std::vector<std::string>>> claims_;
};

class Jwt final : public Object {
 public:
  explicit Jwt(const boost::json::object& payload)
      : payload_(payload), claims_(std::make_shared<ClaimDictionary>(payload)) {}

  std::string_view TypeName() const override { return "Jwt"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Claims") return Value(std::shared_ptr<const Object>(claims_));
    if (name == "Id") return Text("jti");
    if (name == "Issuer") return Text("iss");
    if (name == "Subject") return Text("sub");
    if (name == "Audiences") {
      const boost::json::value* aud = payload_.if_contains("aud");
      return StringList(aud == nullptr ? std::vector<std::string>() : ClaimStrings(*aud));
    }
    if (name == "ExpirationTime") return Seconds("exp");
    if (name == "NotBefore") return Seconds("nbf");
    if (name == "IssuedAt") return Seconds("iat");
    return Object::GetMember(name);
  }

 private:
  Value Text(std::string_view claim) const {
    const boost::json::value* value = payload_.if_contains(claim);
    if (value == nullptr || !value->is_string()) return Value("");
    return Value(std::string(value->get_string()));
  }
  Value Seconds(std::string_view claim) const {
    const boost::json::value* value = payload_.if_contains(claim);
    if (value == nullptr) return Value();
    if (value->is_int64()) return Value(value->get_int64());
    if (value->is_uint64()) return Value(static_cast<int64_t>(value->get_uint64()));
    if (value->is_double()) return Value(static_cast<int64_t>(value->get_double()));
    return Value();
  }

  boost::json::object payload_;
  std::shared_ptr<const ClaimDictionary> claims_;
};

}  // namespace

std::shared_ptr<const Object> MakeJwt(const boost::json::object& payload) {
  return std::make_shared<Jwt>(payload);
}

}  // namespace credgate::policy
