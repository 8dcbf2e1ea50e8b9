#include "policy/expression_jwt.h"

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "common/secret.h"
#include "policy/expression_time.h"
#include "policy/text.h"

namespace credgate::policy::internal {

namespace {

// Tokens longer than this are not parsed. It matches the limit that validate-jwt applies.
constexpr size_t kMaxTokenBytes = 16 * 1024;

std::string ClaimItemText(const boost::json::value& value) {
  if (value.is_string()) return std::string(value.get_string());
  return boost::json::serialize(value);
}

std::vector<Value> ClaimItems(const boost::json::value& value) {
  std::vector<Value> items;
  if (value.is_array()) {
    for (const auto& item : value.get_array()) items.emplace_back(ClaimItemText(item));
  } else {
    items.emplace_back(ClaimItemText(value));
  }
  return items;
}

// IReadOnlyDictionary<string, string[]> of the claims, with APIM's GetValueOrDefault that
// joins the values of a claim with ",".
class Claims final : public Object {
 public:
  explicit Claims(const boost::json::object& payload) {
    for (const auto& member : payload) {
      entries_.emplace_back(std::string(member.key()), ClaimItems(member.value()));
    }
  }

  std::string_view TypeName() const override { return "Claims"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Count") return Value(static_cast<int64_t>(entries_.size()));
    if (name == "Keys") {
      std::vector<Value> keys;
      for (const auto& entry : entries_) keys.emplace_back(entry.first);
      return Value(MakeList(std::move(keys)));
    }
    return Object::GetMember(name);
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (name != "GetValueOrDefault" && name != "ContainsKey" && name != kIndexerMethod) {
      return Object::CallMethod(name, args);
    }
    size_t max_args = name == "GetValueOrDefault" ? 2 : 1;
    if (args.empty() || args.size() > max_args) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "'Claims." + std::string(name) + "' does not take " +
                           std::to_string(args.size()) + " argument(s)");
    }
    const std::string key = args[0].ToString();
    const std::vector<Value>* found = Find(key);
    if (name == "ContainsKey") return Value(found != nullptr);
    if (name == kIndexerMethod) {
      if (found == nullptr) {
        return MakeError(ErrorCode::kNotFound, "the claim '" + key + "' is not in the token");
      }
      return Value(MakeList(*found));
    }
    if (found == nullptr) return args.size() == 2 ? args[1] : Value();
    std::string joined;
    for (const auto& item : *found) {
      if (!joined.empty()) joined += ',';
      joined += item.AsString();
    }
    return Value(std::move(joined));
  }

 private:
  const std::vector<Value>* Find(std::string_view key) const {
    for (const auto& entry : entries_) {
      if (entry.first == key) return &entry.second;
    }
    return nullptr;
  }

  std::vector<std::pair<std::string, std::vector<Value>>> entries_;
};

class Jwt final : public Object {
 public:
  Jwt(boost::json::object header, boost::json::object payload)
      : header_(std::move(header)),
        payload_(std::move(payload)),
        claims_(std::make_shared<const Claims>(payload_)) {}

  std::string_view TypeName() const override { return "Jwt"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Algorithm") return Text(header_, "alg");
    if (name == "Type") return Text(header_, "typ");
    if (name == "Id") return Text(payload_, "jti");
    if (name == "Issuer") return Text(payload_, "iss");
    if (name == "Subject") return Text(payload_, "sub");
    if (name == "Claims") return Value(claims_);
    if (name == "Audiences") {
      const boost::json::value* aud = payload_.if_contains("aud");
      return Value(MakeList(aud == nullptr ? std::vector<Value>() : ClaimItems(*aud)));
    }
    if (name == "ExpirationTime") return Time("exp");
    if (name == "NotBefore") return Time("nbf");
    if (name == "IssuedAt") return Time("iat");
    return Object::GetMember(name);
  }

 private:
  static Value Text(const boost::json::object& object, std::string_view key) {
    const boost::json::value* value = object.if_contains(key);
    if (value == nullptr || value->is_null()) return Value();
    return Value(ClaimItemText(*value));
  }

  Value Time(std::string_view claim) const {
    const boost::json::value* value = payload_.if_contains(claim);
    if (value == nullptr || !value->is_number()) return Value();
    return DateTimeFromUnixSeconds(value->to_number<double>());
  }

  boost::json::object header_;
  boost::json::object payload_;
  std::shared_ptr<const Object> claims_;
};

class BasicCredentials final : public Object {
 public:
  BasicCredentials(std::string username, std::string password)
      : username_(std::move(username)), password_(std::move(password)) {}

  std::string_view TypeName() const override { return "BasicAuthCredentials"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Username") return Value(username_);
    if (name == "Password") return Value(password_.Expose());
    return Object::GetMember(name);
  }

 private:
  std::string username_;
  Secret password_;
};

std::optional<boost::json::object> DecodeJsonPart(std::string_view part) {
  std::optional<std::string> decoded = Base64UrlDecode(part);
  if (!decoded) return std::nullopt;
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(*decoded, error);
  if (error || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

}  // namespace

std::shared_ptr<const Object> ParseJwtObject(std::string_view token) {
  if (token.size() > kMaxTokenBytes) return nullptr;
  size_t first = token.find('.');
  size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return nullptr;
  }
  auto header = DecodeJsonPart(token.substr(0, first));
  auto payload = DecodeJsonPart(token.substr(first + 1, second - first - 1));
  if (!header || !payload) return nullptr;
  return std::make_shared<const Jwt>(std::move(*header), std::move(*payload));
}

std::shared_ptr<const Object> ParseBasicCredentials(std::string_view header_value) {
  if (header_value.size() < 6 || !EqualsIgnoreCase(header_value.substr(0, 6), "Basic ")) {
    return nullptr;
  }
  std::string_view encoded = header_value.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  std::optional<std::string> decoded = Base64Decode(encoded);
  if (!decoded) return nullptr;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return nullptr;
  return std::make_shared<const BasicCredentials>(decoded->substr(0, colon),
                                                  decoded->substr(colon + 1));
}

}  // namespace credgate::policy::internal
