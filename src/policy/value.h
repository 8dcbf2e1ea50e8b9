// Value: the runtime value of a policy expression and of an entry in context.Variables. It is
// one of null, bool, int64, double, string or an Object, in the manner of the .NET object that
// an Azure API Management policy expression produces. Values are cheap to copy except strings;
// objects are immutable and shared through std::shared_ptr<const Object>, so a Value may be read
// from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/result.h"

namespace boost::json {
class object;
class value;
}  // namespace boost::json

namespace credgate::policy {

class Object;

class Value {
 public:
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kObject };

  Value() = default;                                                       // null
  Value(bool value) : data_(value) {}                                      // NOLINT: implicit
  Value(int value) : data_(static_cast<int64_t>(value)) {}                 // NOLINT: implicit
  Value(int64_t value) : data_(value) {}                                   // NOLINT: implicit
  Value(double value) : data_(value) {}                                    // NOLINT: implicit
  Value(std::string value) : data_(std::move(value)) {}                    // NOLINT: implicit
  Value(std::string_view value) : data_(std::string(value)) {}             // NOLINT: implicit
  Value(const char* value) : data_(std::string(value)) {}                  // NOLINT: implicit
  Value(std::shared_ptr<const Object> value) : data_(std::move(value)) {}  // NOLINT: implicit

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_double() const { return kind() == Kind::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_object() const { return kind() == Kind::kObject; }

  // Accessors for the held alternative; calling the wrong one is a programming error.
  bool AsBool() const { return std::get<bool>(data_); }
  int64_t AsInt() const { return std::get<int64_t>(data_); }
  double AsDouble() const { return std::get<double>(data_); }
  // Returns the number as a double, converting an int64.
  double AsNumber() const { return is_int() ? static_cast<double>(AsInt()) : AsDouble(); }
  const std::string& AsString() const { return std::get<std::string>(data_); }
  std::string& MutableString() { return std::get<std::string>(data_); }
  const Object& AsObject() const { return *std::get<std::shared_ptr<const Object>>(data_); }
  const std::shared_ptr<const Object>& object() const {
    return std::get<std::shared_ptr<const Object>>(data_);
  }

  // Appends what C#'s Convert.ToString() writes: "" for null, "True"/"False", decimal digits,
  // the shortest round-trip form of a double, the string itself, or Object::ToString().
  void AppendTo(std::string& out) const;
  std::string ToString() const;

  // Returns the .NET name of the held type for error messages: "null", "Boolean", "Int64",
  // "Double", "String" or Object::TypeName().
  std::string_view TypeName() const;

 private:
  std::variant<std::monostate, bool, int64_t, double, std::string, std::shared_ptr<const Object>>
      data_;
};

// Returns whether C#'s == holds: numbers compare by value across int64 and double, strings by
// ordinal content, objects by identity, and null equals only null.
bool ValuesEqual(const Value& a, const Value& b);

// The name under which an object's indexer (obj[key]) is called, as in .NET metadata.
inline constexpr std::string_view kIndexerMethod = "get_Item";

// An immutable object reachable from an expression. Implementations must be thread-safe for
// concurrent const calls. Errors: kNotFound for an unknown member or method, kInvalidArgument
// for wrong arguments; the executor reports either as an expression evaluation failure.
class Object {
 public:
  virtual ~Object() = default;

  // Returns the .NET type name that a cast such as (Authorization)x compares against.
  virtual std::string_view TypeName() const = 0;
  // Returns whether a cast to `type_name` succeeds. The default accepts TypeName() and "object".
  virtual bool IsInstanceOf(std::string_view type_name) const;

  // Reads a property such as Authorization.AccessToken.
  virtual Result<Value> GetMember(std::string_view name) const;
  // Calls a method such as Claims.GetValueOrDefault("sub"). The indexer is kIndexerMethod.
  virtual Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const;

  virtual std::string ToString() const { return std::string(TypeName()); }

  // The number of items when the object is a sequence that LINQ methods and foreach can walk
  // (a list, a JSON array or object, a dictionary), or nullopt.
  virtual std::optional<size_t> SequenceSize() const { return std::nullopt; }
  // Returns item `index`, which is below SequenceSize().
  virtual Value SequenceItem(size_t index) const;

  // Returns whether C#'s == is true against `other`. The default compares identity, and value
  // types such as DateTime compare their contents.
  virtual bool Equals(const Object& other) const { return this == &other; }
  // Returns <0, 0 or >0 as this orders before, with or after `other`, or nullopt when the two
  // have no order (the default). DateTime and TimeSpan order by their ticks.
  virtual std::optional<int> CompareTo(const Object& other) const;

  // Returns a copy that owns everything it refers to, or null when this object does already
  // (the default). OwnedValue() uses it for values that outlive their request.
  virtual std::shared_ptr<const Object> Owned() const { return nullptr; }
};

// Returns `value` with each object in it, nested ones too, replaced by its Owned() copy, so that
// the result keeps nothing of the request alive. cache-store-value stores values through it.
Value OwnedValue(Value value);

using Entries = std::vector<std::pair<std::string, Value>>;

// Returns an Authorization object, the value that get-authorization-context stores: members
// AccessToken (string) and Claims (a read-only dictionary, see MakeDictionary).
std::shared_ptr<const Object> MakeAuthorization(std::string access_token, Entries claims);
// Same, with claims taken from a decoded JWT payload. Nested JSON objects become dictionaries
// and arrays become lists (see ValueFromJson).
std::shared_ptr<const Object> MakeAuthorization(std::string access_token,
                                                const boost::json::object& claims);
// Same, without copies: the object reads `access_token` and `claims` where they are and keeps
// `owner`, which must keep both alive (a stored token set, for example). Claims are converted
// when an expression first reads them. Every copy of the object keeps `owner` alive, and its
// Owned() copy contains copies of the token and the claims instead.
std::shared_ptr<const Object> MakeAuthorization(std::shared_ptr<const void> owner,
                                                std::string_view access_token,
                                                const boost::json::object& claims);

// Returns a read-only dictionary like .NET's IReadOnlyDictionary<string, object>, with
// GetValueOrDefault(key[, default]), ContainsKey(key), the indexer (fails on a missing key),
// Count and Keys. Keys compare ordinally, or ASCII-case-insensitively when `ignore_case` is set.
// Entries keep their order; a repeated key keeps its first value.
std::shared_ptr<const Object> MakeDictionary(Entries entries, bool ignore_case);

// Returns a read-only list (TypeName "Array") with Length, Count, the indexer and Contains.
std::shared_ptr<const Object> MakeList(std::vector<Value> items);

// Returns an IResponse, the value that send-request stores under response-variable-name, with
// StatusCode, StatusReason, Headers (a dictionary whose keys ignore ASCII case; a repeated
// header's values are joined with ",") and Body. Body is read with As<string>(),
// As<JObject>(), As<JArray>() or As<JToken>(), as context.Response.Body is.
std::shared_ptr<const Object> MakeResponse(int status_code, std::string reason, Entries headers,
                                           std::string body);

// The parts of an IResponse, which return-response sends.
struct ResponseParts {
  int status_code = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // Repeated values joined by ",".
  std::string body;
};
// Returns the parts of an IResponse made by MakeResponse, or nullopt for any other value.
std::optional<ResponseParts> ResponsePartsOf(const Value& value);

// Returns a byte array (TypeName "Byte[]"), the value of Encoding.UTF8.GetBytes and
// Convert.FromBase64String, with Length and an indexer that reads one byte as an integer.
std::shared_ptr<const Object> MakeBytes(std::string bytes);
// Returns the bytes of a byte array made by MakeBytes, or nullptr for any other value.
const std::string* BytesOf(const Value& value);

// Converts a JSON value: null, bool, int64 (uint64 above INT64_MAX becomes double), double,
// string, object (MakeDictionary, ordinal keys) or array (MakeList).
Value ValueFromJson(const boost::json::value& json);

}  // namespace credgate::policy
