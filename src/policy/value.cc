#include "policy/value.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <mutex>

#include "common/secret.h"
#include "policy/expression_json.h"
#include "policy/text.h"

namespace credgate::policy {

namespace {

Error UnknownMember(std::string_view type, std::string_view name) {
  return MakeError(ErrorCode::kNotFound,
                   "'" + std::string(type) + "' has no member '" + std::string(name) + "'");
}

Error WrongArguments(std::string_view type, std::string_view method, size_t count) {
  return MakeError(ErrorCode::kInvalidArgument, "'" + std::string(type) + "." +
                                                    std::string(method) + "' does not take " +
                                                    std::to_string(count) + " argument(s)");
}

// Returns `value` with its object replaced by the object's Owned() copy, or nullopt when the
// object owns everything already or `value` is not an object.
std::optional<Value> OwnedCopy(const Value& value) {
  if (!value.is_object()) return std::nullopt;
  std::shared_ptr<const Object> owned = value.AsObject().Owned();
  if (!owned) return std::nullopt;
  return Value(std::move(owned));
}

// An entry of a dictionary as LINQ and foreach see it, with members Key and Value.
class KeyValuePair final : public Object {
 public:
  KeyValuePair(std::string key, Value value) : key_(std::move(key)), value_(std::move(value)) {}

  std::string_view TypeName() const override { return "KeyValuePair"; }
  std::string ToString() const override { return "[" + key_ + ", " + value_.ToString() + "]"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Key") return Value(key_);
    if (name == "Value") return value_;
    return UnknownMember(TypeName(), name);
  }

  std::shared_ptr<const Object> Owned() const override {
    std::optional<Value> owned = OwnedCopy(value_);
    if (!owned) return nullptr;
    return std::make_shared<const KeyValuePair>(key_, std::move(*owned));
  }

 private:
  std::string key_;
  Value value_;
};

class Dictionary final : public Object {
 public:
  Dictionary(Entries entries, bool ignore_case) : ignore_case_(ignore_case) {
    entries_.reserve(entries.size());
    for (auto& entry : entries) {
      if (Find(entry.first) == nullptr) entries_.push_back(std::move(entry));
    }
  }

  std::string_view TypeName() const override { return "IReadOnlyDictionary"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Count") return Value(static_cast<int64_t>(entries_.size()));
    if (name == "Keys") {
      std::vector<Value> keys;
      keys.reserve(entries_.size());
      for (const auto& entry : entries_) keys.emplace_back(entry.first);
      return Value(MakeList(std::move(keys)));
    }
    return UnknownMember(TypeName(), name);
  }

  std::optional<size_t> SequenceSize() const override { return entries_.size(); }
  Value SequenceItem(size_t index) const override {
    return Value(
        std::make_shared<const KeyValuePair>(entries_[index].first, entries_[index].second));
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (name == "GetValueOrDefault" || name == "ContainsKey" || name == kIndexerMethod) {
      if (args.empty() || args.size() > 2 || (args.size() == 2 && name != "GetValueOrDefault")) {
        return WrongArguments(TypeName(), name, args.size());
      }
      const std::string key = args[0].ToString();
      const Value* found = Find(key);
      if (name == "ContainsKey") return Value(found != nullptr);
      if (found != nullptr) return *found;
      if (name == "GetValueOrDefault") return args.size() == 2 ? args[1] : Value();
      return MakeError(ErrorCode::kNotFound,
                       "the key '" + key + "' is not present in the dictionary");
    }
    return UnknownMember(TypeName(), name);
  }

  std::shared_ptr<const Object> Owned() const override {
    std::optional<Entries> copy;
    for (size_t i = 0; i < entries_.size(); ++i) {
      std::optional<Value> owned = OwnedCopy(entries_[i].second);
      if (!owned) continue;
      if (!copy) copy = entries_;
      (*copy)[i].second = std::move(*owned);
    }
    if (!copy) return nullptr;
    return std::make_shared<const Dictionary>(std::move(*copy), ignore_case_);
  }

 private:
  const Value* Find(std::string_view key) const {
    for (const auto& entry : entries_) {
      if (ignore_case_ ? EqualsIgnoreCase(entry.first, key) : entry.first == key) {
        return &entry.second;
      }
    }
    return nullptr;
  }

  Entries entries_;
  bool ignore_case_;
};

class List final : public Object {
 public:
  explicit List(std::vector<Value> items) : items_(std::move(items)) {}

  std::string_view TypeName() const override { return "Array"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Length" || name == "Count") return Value(static_cast<int64_t>(items_.size()));
    return UnknownMember(TypeName(), name);
  }

  std::optional<size_t> SequenceSize() const override { return items_.size(); }
  Value SequenceItem(size_t index) const override { return items_[index]; }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (args.size() != 1) return WrongArguments(TypeName(), name, args.size());
    if (name == kIndexerMethod) {
      if (!args[0].is_int() || args[0].AsInt() < 0 ||
          static_cast<uint64_t>(args[0].AsInt()) >= items_.size()) {
        return MakeError(ErrorCode::kInvalidArgument, "index " + args[0].ToString() +
                                                          " is outside the array of length " +
                                                          std::to_string(items_.size()));
      }
      return items_[static_cast<size_t>(args[0].AsInt())];
    }
    if (name == "Contains") {
      for (const auto& item : items_) {
        if (ValuesEqual(item, args[0])) return Value(true);
      }
      return Value(false);
    }
    return UnknownMember(TypeName(), name);
  }

  std::shared_ptr<const Object> Owned() const override {
    std::optional<std::vector<Value>> copy;
    for (size_t i = 0; i < items_.size(); ++i) {
      std::optional<Value> owned = OwnedCopy(items_[i]);
      if (!owned) continue;
      if (!copy) copy = items_;
      (*copy)[i] = std::move(*owned);
    }
    if (!copy) return nullptr;
    return std::make_shared<const List>(std::move(*copy));
  }

 private:
  std::vector<Value> items_;
};

class Bytes final : public Object {
 public:
  explicit Bytes(std::string bytes) : bytes_(std::move(bytes)) {}

  std::string_view TypeName() const override { return "Byte[]"; }
  std::string ToString() const override { return "System.Byte[]"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Length") return Value(static_cast<int64_t>(bytes_.size()));
    return UnknownMember(TypeName(), name);
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (name != kIndexerMethod) return UnknownMember(TypeName(), name);
    if (args.size() != 1) return WrongArguments(TypeName(), name, args.size());
    if (!args[0].is_int() || args[0].AsInt() < 0 ||
        static_cast<uint64_t>(args[0].AsInt()) >= bytes_.size()) {
      return MakeError(ErrorCode::kInvalidArgument, "index " + args[0].ToString() +
                                                        " is outside the byte array of length " +
                                                        std::to_string(bytes_.size()));
    }
    return SequenceItem(static_cast<size_t>(args[0].AsInt()));
  }

  std::optional<size_t> SequenceSize() const override { return bytes_.size(); }
  Value SequenceItem(size_t index) const override {
    return Value(static_cast<int64_t>(static_cast<uint8_t>(bytes_[index])));
  }

  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// The Body of an IResponse. The expression compiler passes the type argument of As<T>() as the
// first argument, because the call has no other way to see it.
class MessageBody final : public Object {
 public:
  explicit MessageBody(std::string body) : body_(std::move(body)) {}

  std::string_view TypeName() const override { return "MessageBody"; }
  const std::string& text() const { return body_; }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (name != "As") return UnknownMember(TypeName(), name);
    if (args.empty() || args.size() > 2 || !args[0].is_string()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "Body.As needs a type argument, as in Body.As<JObject>()");
    }
    const std::string& type = args[0].AsString();
    if (type == "string" || type == "String") return Value(body_);
    if (type == "JObject") return internal::ParseJsonBody(body_, /*want_array=*/false);
    if (type == "JArray") return internal::ParseJsonBody(body_, /*want_array=*/true);
    if (type == "JToken") return internal::ParseJsonToken(body_);
    return MakeError(ErrorCode::kInvalidArgument,
                     "Body.As<" + type +
                         ">() is not supported; use string, JObject, JArray or "
                         "JToken");
  }

 private:
  std::string body_;
};

class Response final : public Object {
 public:
  Response(int status_code, std::string reason, Entries headers, std::string body)
      : status_code_(status_code),
        reason_(std::move(reason)),
        headers_(MakeDictionary(std::move(headers), /*ignore_case=*/true)),
        body_(std::make_shared<const MessageBody>(std::move(body))) {}

  std::string_view TypeName() const override { return "IResponse"; }

  ResponseParts Parts() const {
    ResponseParts parts;
    parts.status_code = status_code_;
    parts.reason = reason_;
    const std::optional<size_t> count = headers_->SequenceSize();
    for (size_t i = 0; i < count.value_or(0); ++i) {
      // Each item is a {Key, Value} pair of the dictionary.
      Value item = headers_->SequenceItem(i);
      if (!item.is_object()) continue;
      auto key = item.AsObject().GetMember("Key");
      auto value = item.AsObject().GetMember("Value");
      if (!key.ok() || !value.ok() || !key->is_string() || !value->is_string()) continue;
      parts.headers.emplace_back(key->AsString(), value->AsString());
    }
    parts.body = static_cast<const MessageBody&>(*body_).text();
    return parts;
  }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "StatusCode") return Value(status_code_);
    if (name == "StatusReason") return Value(reason_);
    if (name == "Headers") return Value(headers_);
    if (name == "Body") return Value(body_);
    return UnknownMember(TypeName(), name);
  }

 private:
  int status_code_;
  std::string reason_;
  std::shared_ptr<const Object> headers_;
  std::shared_ptr<const Object> body_;
};

class Authorization final : public Object {
 public:
  Authorization(std::string access_token, Entries claims)
      : access_token_(std::move(access_token)),
        claims_(MakeDictionary(std::move(claims), /*ignore_case=*/false)) {}

  std::string_view TypeName() const override { return "Authorization"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "AccessToken") return Value(access_token_.Expose());
    if (name == "Claims") return Value(claims_);
    return UnknownMember(TypeName(), name);
  }

 private:
  Secret access_token_;
  std::shared_ptr<const Object> claims_;
};

Entries EntriesFromJson(const boost::json::object& object) {
  Entries entries;
  entries.reserve(object.size());
  for (const auto& member : object) {
    entries.emplace_back(std::string(member.key()), ValueFromJson(member.value()));
  }
  return entries;
}

// The Authorization of a stored token set, read in place so that a request copies neither the
// access token nor the token response. Claims are converted once, on first use.
class BorrowedAuthorization final : public Object {
 public:
  BorrowedAuthorization(std::shared_ptr<const void> owner, std::string_view access_token,
                        const boost::json::object& claims)
      : owner_(std::move(owner)), access_token_(access_token), claims_json_(claims) {}

  std::string_view TypeName() const override { return "Authorization"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "AccessToken") return Value(access_token_);
    if (name == "Claims") {
      std::call_once(claims_once_, [this] {
        claims_ = MakeDictionary(EntriesFromJson(claims_json_), /*ignore_case=*/false);
      });
      return Value(claims_);
    }
    return UnknownMember(TypeName(), name);
  }

  std::shared_ptr<const Object> Owned() const override {
    return std::make_shared<const Authorization>(std::string(access_token_),
                                                 EntriesFromJson(claims_json_));
  }

 private:
  const std::shared_ptr<const void> owner_;  // Keeps access_token_ and claims_json_ alive.
  const std::string_view access_token_;
  const boost::json::object& claims_json_;
  mutable std::once_flag claims_once_;
  mutable std::shared_ptr<const Object> claims_;
};

}  // namespace

void Value::AppendTo(std::string& out) const {
  switch (kind()) {
    case Kind::kNull:
      return;
    case Kind::kBool:
      out += AsBool() ? "True" : "False";
      return;
    case Kind::kInt: {
      char buffer[24];
      auto end = std::to_chars(buffer, buffer + sizeof(buffer), AsInt()).ptr;
      out.append(buffer, end);
      return;
    }
    case Kind::kDouble: {
      char buffer[32];
      auto end = std::to_chars(buffer, buffer + sizeof(buffer), AsDouble()).ptr;
      out.append(buffer, end);
      return;
    }
    case Kind::kString:
      out += AsString();
      return;
    case Kind::kObject:
      out += AsObject().ToString();
      return;
  }
}

std::string Value::ToString() const {
  if (is_string()) return AsString();
  std::string out;
  AppendTo(out);
  return out;
}

std::string_view Value::TypeName() const {
  switch (kind()) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "Boolean";
    case Kind::kInt:
      return "Int64";
    case Kind::kDouble:
      return "Double";
    case Kind::kString:
      return "String";
    case Kind::kObject:
      return AsObject().TypeName();
  }
  return "null";
}

bool ValuesEqual(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) return a.AsInt() == b.AsInt();
    return a.AsNumber() == b.AsNumber();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kNull:
      return true;
    case Value::Kind::kBool:
      return a.AsBool() == b.AsBool();
    case Value::Kind::kString:
      return a.AsString() == b.AsString();
    case Value::Kind::kObject:
      return a.object() == b.object() || a.AsObject().Equals(b.AsObject());
    default:
      return false;
  }
}

bool Object::IsInstanceOf(std::string_view type_name) const {
  return type_name == TypeName() || type_name == "object";
}

Value Object::SequenceItem(size_t) const { return Value(); }

std::optional<int> Object::CompareTo(const Object&) const { return std::nullopt; }

Result<Value> Object::GetMember(std::string_view name) const {
  return UnknownMember(TypeName(), name);
}

Result<Value> Object::CallMethod(std::string_view name, std::span<const Value>) const {
  return UnknownMember(TypeName(), name);
}

std::shared_ptr<const Object> MakeAuthorization(std::string access_token, Entries claims) {
  return std::make_shared<const Authorization>(std::move(access_token), std::move(claims));
}

std::shared_ptr<const Object> MakeAuthorization(std::string access_token,
                                                const boost::json::object& claims) {
  return MakeAuthorization(std::move(access_token), EntriesFromJson(claims));
}

Value OwnedValue(Value value) {
  std::optional<Value> owned = OwnedCopy(value);
  return owned ? std::move(*owned) : std::move(value);
}

std::shared_ptr<const Object> MakeAuthorization(std::shared_ptr<const void> owner,
                                                std::string_view access_token,
                                                const boost::json::object& claims) {
  return std::make_shared<const BorrowedAuthorization>(std::move(owner), access_token, claims);
}

std::shared_ptr<const Object> MakeDictionary(Entries entries, bool ignore_case) {
  return std::make_shared<const Dictionary>(std::move(entries), ignore_case);
}

std::shared_ptr<const Object> MakeList(std::vector<Value> items) {
  return std::make_shared<const List>(std::move(items));
}

std::shared_ptr<const Object> MakeResponse(int status_code, std::string reason, Entries headers,
                                           std::string body) {
  return std::make_shared<const Response>(status_code, std::move(reason), std::move(headers),
                                          std::move(body));
}

std::optional<ResponseParts> ResponsePartsOf(const Value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto* response = dynamic_cast<const Response*>(&value.AsObject());
  if (response == nullptr) return std::nullopt;
  return response->Parts();
}

std::shared_ptr<const Object> MakeBytes(std::string bytes) {
  return std::make_shared<const Bytes>(std::move(bytes));
}

const std::string* BytesOf(const Value& value) {
  if (!value.is_object()) return nullptr;
  const auto* bytes = dynamic_cast<const Bytes*>(&value.AsObject());
  return bytes == nullptr ? nullptr : &bytes->bytes();
}

Value ValueFromJson(const boost::json::value& json) {
  switch (json.kind()) {
    case boost::json::kind::null:
      return Value();
    case boost::json::kind::bool_:
      return Value(json.get_bool());
    case boost::json::kind::int64:
      return Value(json.get_int64());
    case boost::json::kind::uint64:
      if (json.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
        return Value(static_cast<int64_t>(json.get_uint64()));
      }
      return Value(static_cast<double>(json.get_uint64()));
    case boost::json::kind::double_:
      return Value(json.get_double());
    case boost::json::kind::string:
      return Value(std::string_view(json.get_string()));
    case boost::json::kind::array: {
      std::vector<Value> items;
      items.reserve(json.get_array().size());
      for (const auto& item : json.get_array()) items.push_back(ValueFromJson(item));
      return Value(MakeList(std::move(items)));
    }
    case boost::json::kind::object:
      return Value(MakeDictionary(EntriesFromJson(json.get_object()), /*ignore_case=*/false));
  }
  return Value();
}

}  // namespace credgate::policy
