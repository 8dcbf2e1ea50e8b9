#include "policy/expression_json.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <string>
#include <variant>
#include <vector>

#include "policy/expression_time.h"

namespace credgate::policy::internal {

namespace {

// Body documents nest no deeper than this, so a hostile body cannot exhaust the stack of the
// parser or of serialize().
constexpr size_t kMaxJsonDepth = 64;

Error Invalid(const std::string& what) { return MakeError(ErrorCode::kInvalidArgument, what); }

using Document = std::shared_ptr<boost::json::value>;

// The keys and indexes from the document's root to a node. A wrapper stores the path rather
// than a pointer, because a change to the document can move the nodes of an object or array.
using JsonPath = std::vector<std::variant<std::string, size_t>>;

// Returns the node at `path`, or nullptr once a change removed it.
boost::json::value* Resolve(const Document& document, const JsonPath& path) {
  boost::json::value* node = document.get();
  for (const auto& step : path) {
    if (const std::string* key = std::get_if<std::string>(&step)) {
      node = node->is_object() ? node->get_object().if_contains(*key) : nullptr;
    } else {
      size_t index = std::get<size_t>(step);
      node = node->is_array() && index < node->get_array().size() ? &node->get_array()[index]
                                                                  : nullptr;
    }
    if (node == nullptr) return nullptr;
  }
  return node;
}

Value WrapNode(const Document& document, JsonPath path, const boost::json::value& node);

void AppendJson(const boost::json::value& value, std::string& out) {
  switch (value.kind()) {
    case boost::json::kind::double_: {
      // The shortest text that reads back as the same double, as Newtonsoft writes 12.5 where
      // boost::json::serialize writes 1.25E1. Infinity and NaN have no JSON form.
      double number = value.get_double();
      if (!std::isfinite(number)) {
        out += "null";
        return;
      }
      char buffer[32];
      auto end = std::to_chars(buffer, buffer + sizeof(buffer), number).ptr;
      out.append(buffer, end);
      if (std::string_view(buffer, static_cast<size_t>(end - buffer)).find_first_of(".eEn") ==
          std::string_view::npos) {
        out += ".0";
      }
      return;
    }
    case boost::json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (!first) out += ',';
        first = false;
        out += boost::json::serialize(boost::json::string_view(member.key()));
        out += ':';
        AppendJson(member.value(), out);
      }
      out += '}';
      return;
    }
    case boost::json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value.get_array()) {
        if (!first) out += ',';
        first = false;
        AppendJson(item, out);
      }
      out += ']';
      return;
    }
    default:
      out += boost::json::serialize(value);
      return;
  }
}

// Writes `value` as compact JSON. NOTE: Newtonsoft's JToken.ToString() indents; this writes
// the compact form, which is the same JSON.
std::string JsonText(const boost::json::value& value) {
  std::string out;
  AppendJson(value, out);
  return out;
}

Error Removed() { return Invalid("the JSON value was removed from its document"); }

// The named member of a JObject, from JObject.Property(name): Name, Value and Remove().
class JsonProperty final : public Object {
 public:
  JsonProperty(Document document, JsonPath owner, std::string name)
      : document_(std::move(document)), owner_(std::move(owner)), name_(std::move(name)) {}

  std::string_view TypeName() const override { return "JProperty"; }
  const std::string& name() const { return name_; }
  bool IsInstanceOf(std::string_view type) const override {
    return type == "JProperty" || type == "JToken" || type == "object";
  }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Name") return Value(name_);
    if (name == "Value") {
      const boost::json::value* value = Find();
      if (value == nullptr) return Value();
      JsonPath path = owner_;
      path.emplace_back(name_);
      return WrapNode(document_, std::move(path), *value);
    }
    return Object::GetMember(name);
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (name == "Remove" && args.empty()) {
      boost::json::value* owner = Resolve(document_, owner_);
      if (owner == nullptr || !owner->is_object()) return Removed();
      owner->get_object().stable_erase(name_);
      return Value();
    }
    return Object::CallMethod(name, args);
  }

  std::string ToString() const override {
    const boost::json::value* value = Find();
    return boost::json::serialize(boost::json::string(name_)) + ": " +
           (value == nullptr ? std::string("null") : JsonText(*value));
  }

 private:
  const boost::json::value* Find() const {
    boost::json::value* owner = Resolve(document_, owner_);
    if (owner == nullptr || !owner->is_object()) return nullptr;
    return owner->get_object().if_contains(name_);
  }

  Document document_;
  JsonPath owner_;
  std::string name_;
};

class JsonContainer final : public Object {
 public:
  JsonContainer(Document document, JsonPath path, bool is_array)
      : document_(std::move(document)), path_(std::move(path)), is_array_(is_array) {}

  std::string_view TypeName() const override { return is_array_ ? "JArray" : "JObject"; }
  bool IsInstanceOf(std::string_view type) const override {
    return type == TypeName() || type == "JToken" || type == "JContainer" || type == "object";
  }
  std::string ToString() const override {
    const boost::json::value* node = Node();
    return node == nullptr ? std::string() : JsonText(*node);
  }

  // Returns the node, or nullptr once a change removed it or replaced it with another kind.
  boost::json::value* Node() const {
    boost::json::value* node = Resolve(document_, path_);
    if (node == nullptr || node->is_array() != is_array_ || (!is_array_ && !node->is_object())) {
      return nullptr;
    }
    return node;
  }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Count" || name == "HasValues") {
      if (Node() == nullptr) return Removed();
      size_t size = *SequenceSize();
      return name == "Count" ? Value(static_cast<int64_t>(size)) : Value(size > 0);
    }
    return Object::GetMember(name);
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    boost::json::value* node = Node();
    if (node == nullptr) return Removed();
    if (name == kIndexerMethod || name == "Value" || name == "GetValue") {
      if (args.size() != 1) return WrongCount(name, args.size());
      return Child(*node, args[0]);
    }
    if (name == "set_Item") {
      if (args.size() != 2) return WrongCount(name, args.size());
      return Set(*node, args[0], args[1]);
    }
    if (name == "ToString" && args.empty()) return Value(ToString());
    if (name == "SelectToken" && args.size() == 1 && args[0].is_string()) {
      return SelectToken(*node, args[0].AsString());
    }
    if (!is_array_) return CallObjectMethod(node->get_object(), name, args);
    return CallArrayMethod(node->get_array(), name, args);
  }

  std::optional<size_t> SequenceSize() const override {
    const boost::json::value* node = Node();
    if (node == nullptr) return 0;
    return is_array_ ? node->get_array().size() : node->get_object().size();
  }
  // Items of a JArray are its values, and items of a JObject its properties, as in Newtonsoft.
  Value SequenceItem(size_t index) const override {
    boost::json::value* node = Node();
    if (is_array_) {
      JsonPath path = path_;
      path.emplace_back(index);
      return WrapNode(document_, std::move(path), node->get_array()[index]);
    }
    auto it = node->get_object().begin() + static_cast<std::ptrdiff_t>(index);
    return Value(std::make_shared<const JsonProperty>(document_, path_, std::string(it->key())));
  }

 private:
  // Follows a JSONPath of member names and array indexes, as "$.order.items[0]['unit price']".
  // Returns null when a step is missing. Wildcards, filters and recursive descent are rejected.
  Result<Value> SelectToken(const boost::json::value& start, std::string_view path) const {
    JsonPath steps = path_;
    const boost::json::value* node = &start;
    size_t i = path.starts_with("$") ? 1 : 0;
    while (i < path.size()) {
      std::variant<std::string, size_t> step;
      if (path[i] == '.') ++i;
      if (i < path.size() && path[i] == '[') {
        size_t close = path.find(']', i);
        if (close == std::string_view::npos) return Invalid("SelectToken: missing ']' in the path");
        std::string_view inside = path.substr(i + 1, close - i - 1);
        if (inside.size() >= 2 && (inside.front() == '\'' || inside.front() == '"') &&
            inside.back() == inside.front()) {
          step = std::string(inside.substr(1, inside.size() - 2));
        } else {
          size_t index = 0;
          auto [ptr, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), index);
          if (ec != std::errc() || ptr != inside.data() + inside.size()) {
            return Invalid("SelectToken supports names and array indexes, not '[" +
                           std::string(inside) + "]'");
          }
          step = index;
        }
        i = close + 1;
      } else {
        size_t end = path.find_first_of(".[", i);
        if (end == std::string_view::npos) end = path.size();
        std::string_view name = path.substr(i, end - i);
        if (name.empty() || name == "*" || name == ".") {
          return Invalid("SelectToken: invalid path '" + std::string(path) + "'");
        }
        step = std::string(name);
        i = end;
      }
      if (const std::string* key = std::get_if<std::string>(&step)) {
        node = node->is_object() ? node->get_object().if_contains(*key) : nullptr;
      } else {
        size_t index = std::get<size_t>(step);
        node = node->is_array() && index < node->get_array().size() ? &node->get_array()[index]
                                                                    : nullptr;
      }
      if (node == nullptr) return Value();
      steps.push_back(std::move(step));
    }
    return WrapNode(document_, std::move(steps), *node);
  }

  Error WrongCount(std::string_view name, size_t count) const {
    return Invalid("'" + std::string(TypeName()) + "." + std::string(name) + "' does not take " +
                   std::to_string(count) + " argument(s)");
  }

  // Returns obj[key] or arr[index]: null for a missing key, as Newtonsoft does, and an error for
  // an index outside the array.
  Result<Value> Child(const boost::json::value& node, const Value& key) const {
    JsonPath path = path_;
    if (!is_array_) {
      std::string name = key.ToString();
      const boost::json::value* child = node.get_object().if_contains(name);
      if (child == nullptr) return Value();
      path.emplace_back(std::move(name));
      return WrapNode(document_, std::move(path), *child);
    }
    std::optional<size_t> index = IndexOf(node, key);
    if (!index) return OutOfRange(node, key);
    path.emplace_back(*index);
    return WrapNode(document_, std::move(path), node.get_array()[*index]);
  }

  static std::optional<size_t> IndexOf(const boost::json::value& node, const Value& key) {
    if (!key.is_int() || key.AsInt() < 0 ||
        static_cast<uint64_t>(key.AsInt()) >= node.get_array().size()) {
      return std::nullopt;
    }
    return static_cast<size_t>(key.AsInt());
  }

  static Error OutOfRange(const boost::json::value& node, const Value& key) {
    return Invalid("index " + key.ToString() + " is outside the JArray of length " +
                   std::to_string(node.get_array().size()));
  }

  Result<Value> Set(boost::json::value& node, const Value& key, const Value& value) const {
    boost::json::value json = JsonFromValue(value);
    if (!is_array_) {
      node.get_object()[key.ToString()] = std::move(json);
      return Value();
    }
    std::optional<size_t> index = IndexOf(node, key);
    if (!index) return OutOfRange(node, key);
    node.get_array()[*index] = std::move(json);
    return Value();
  }

  Result<Value> CallObjectMethod(boost::json::object& object, std::string_view name,
                                 std::span<const Value> args) const {
    if (name == "ContainsKey" && args.size() == 1) {
      return Value(object.contains(args[0].ToString()));
    }
    if (name == "Remove" && args.size() == 1) {
      return Value(object.stable_erase(args[0].ToString()) > 0);
    }
    if (name == "Add" && args.size() == 2) {
      std::string key = args[0].ToString();
      if (object.contains(key)) {
        return Invalid("the JObject already has a property named '" + key + "'");
      }
      object[key] = JsonFromValue(args[1]);
      return Value();
    }
    if (name == "Property" && args.size() == 1) {
      std::string key = args[0].ToString();
      if (!object.contains(key)) return Value();
      return Value(std::make_shared<const JsonProperty>(document_, path_, std::move(key)));
    }
    return Object::CallMethod(name, args);
  }

  Result<Value> CallArrayMethod(boost::json::array& array, std::string_view name,
                                std::span<const Value> args) const {
    if (name == "Add" && args.size() == 1) {
      array.push_back(JsonFromValue(args[0]));
      return Value();
    }
    if (name == "Contains" && args.size() == 1) {
      for (size_t i = 0; i < array.size(); ++i) {
        if (ValuesEqual(SequenceItem(i), args[0])) return Value(true);
      }
      return Value(false);
    }
    if (name == "RemoveAt" && args.size() == 1) {
      if (!args[0].is_int() || args[0].AsInt() < 0 ||
          static_cast<uint64_t>(args[0].AsInt()) >= array.size()) {
        return Invalid("index " + args[0].ToString() + " is outside the JArray of length " +
                       std::to_string(array.size()));
      }
      array.erase(array.begin() + args[0].AsInt());
      return Value();
    }
    return Object::CallMethod(name, args);
  }

  Document document_;
  JsonPath path_;
  bool is_array_;
};

Value WrapNode(const Document& document, JsonPath path, const boost::json::value& node) {
  if (node.is_object() || node.is_array()) {
    return Value(std::make_shared<const JsonContainer>(document, std::move(path), node.is_array()));
  }
  return ValueFromJson(node);
}

Result<Document> Parse(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code error;
  auto document =
      std::make_shared<boost::json::value>(boost::json::parse(text, error, {}, options));
  if (error) return Invalid("the body is not valid JSON: " + error.message());
  return document;
}

}  // namespace

Result<Value> ParseJsonBody(std::string_view text, bool want_array) {
  auto document = Parse(text);
  if (!document.ok()) return document.error();
  if ((*document)->is_array() != want_array || (!want_array && !(*document)->is_object())) {
    return Invalid(std::string("the body is JSON but not a ") +
                   (want_array ? "JSON array" : "JSON object"));
  }
  return WrapNode(*document, {}, **document);
}

Result<Value> ParseJsonToken(std::string_view text) {
  auto document = Parse(text);
  if (!document.ok()) return document.error();
  return WrapNode(*document, {}, **document);
}

Result<Value> NewJObject(std::span<const Value> args, Value*) {
  auto document = std::make_shared<boost::json::value>(boost::json::object());
  boost::json::object& members = document->get_object();
  for (const Value& arg : args) {
    const Object* object = arg.is_object() ? &arg.AsObject() : nullptr;
    if (const auto* property = dynamic_cast<const JsonProperty*>(object)) {
      auto value = property->GetMember("Value");
      if (!value.ok()) return value.error();
      members[property->name()] = JsonFromValue(*value);
      continue;
    }
    const auto* container = dynamic_cast<const JsonContainer*>(object);
    const boost::json::value* node = container != nullptr ? container->Node() : nullptr;
    if (node != nullptr && node->is_object()) {
      for (const auto& [key, value] : node->get_object()) members[key] = value;
      continue;
    }
    return Invalid("new JObject(...) takes JProperty values or a JObject, as in new JObject(new "
                   "JProperty(\"name\", value)), not " + std::string(arg.TypeName()));
  }
  return WrapNode(document, {}, *document);
}

Result<Value> NewJArray(std::span<const Value> args, Value*) {
  auto document = std::make_shared<boost::json::value>(boost::json::array());
  boost::json::array& items = document->get_array();
  for (const Value& arg : args) {
    const Object* object = arg.is_object() ? &arg.AsObject() : nullptr;
    std::optional<size_t> size = object != nullptr ? object->SequenceSize() : std::nullopt;
    if (size && object->TypeName() == "Array") {
      for (size_t i = 0; i < *size; ++i) items.push_back(JsonFromValue(object->SequenceItem(i)));
    } else {
      items.push_back(JsonFromValue(arg));
    }
  }
  return WrapNode(document, {}, *document);
}

Result<Value> NewJProperty(std::span<const Value> args, Value*) {
  if (!args[0].is_string()) return Invalid("new JProperty(name, value) needs a string name");
  auto document = std::make_shared<boost::json::value>(boost::json::object());
  document->get_object()[args[0].AsString()] = JsonFromValue(args[1]);
  return Value(std::make_shared<const JsonProperty>(document, JsonPath{}, args[0].AsString()));
}

Result<Value> JObjectParse(std::span<const Value> args, Value*) {
  if (!args[0].is_string()) return Invalid("JObject.Parse needs a string");
  return ParseJsonBody(args[0].AsString(), /*want_array=*/false);
}

Result<Value> JArrayParse(std::span<const Value> args, Value*) {
  if (!args[0].is_string()) return Invalid("JArray.Parse needs a string");
  return ParseJsonBody(args[0].AsString(), /*want_array=*/true);
}

Result<Value> SerializeObject(std::span<const Value> args, Value*) {
  return Value(JsonText(JsonFromValue(args[0])));
}

Result<Value> DeserializeObject(std::span<const Value> args, Value*) {
  if (!args[0].is_string()) return Invalid("JsonConvert.DeserializeObject needs a string");
  return ParseJsonToken(args[0].AsString());
}

boost::json::value JsonFromValue(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kBool:
      return value.AsBool();
    case Value::Kind::kInt:
      return value.AsInt();
    case Value::Kind::kDouble:
      return value.AsDouble();
    case Value::Kind::kString:
      return boost::json::string(value.AsString());
    case Value::Kind::kObject:
      break;
  }
  const Object& object = value.AsObject();
  if (auto* container = dynamic_cast<const JsonContainer*>(&object)) {
    const boost::json::value* node = container->Node();
    return node == nullptr ? boost::json::value() : *node;
  }
  if (std::optional<int64_t> ticks = DateTimeTicks(value)) {
    return boost::json::string(FormatDateTime(*ticks, "o"));
  }
  if (std::optional<size_t> size = object.SequenceSize(); size && object.TypeName() == "Array") {
    boost::json::array array;
    for (size_t i = 0; i < *size; ++i) array.push_back(JsonFromValue(object.SequenceItem(i)));
    return array;
  }
  return boost::json::string(object.ToString());
}

}  // namespace credgate::policy::internal
