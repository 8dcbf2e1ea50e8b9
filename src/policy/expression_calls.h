// Nodes for calls that the parser resolves by name beyond plain member access: static methods
// and properties (int.Parse, Convert, Encoding.UTF8, DateTime, TimeSpan, string.Join, ...),
// LINQ methods with lambdas, out arguments, TryParseJwt and Body.As<T>(). Internal to the
// policy module.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/expression_nodes.h"

namespace credgate::policy::internal {

// A static method or property, such as "int.Parse" or "DateTime.UtcNow". `out` is set when the
// method writes an out argument (int.TryParse).
struct StaticFunction {
  std::string_view name;  // "Class.Member" with the class written as C# keywords write it.
  bool is_property;
  size_t min_args;
  size_t max_args;  // SIZE_MAX for params arrays such as string.Concat.
  bool takes_out;
  StaticType result;
  Result<Value> (*call)(std::span<const Value> args, Value* out);
};

// Returns the function `class_name`.`member`, or nullptr. `class_name` may use the .NET name
// (String, Int32, Int64, Double, Boolean) and "Encoding.UTF8" is one class name.
const StaticFunction* FindStaticFunction(std::string_view class_name, std::string_view member);
// Returns whether `name` starts a static call: string, int, Convert, Encoding, DateTime, ...
bool IsStaticClass(std::string_view name);
// Returns the members of `class_name` separated by ", ", for messages.
std::string StaticMembersOf(std::string_view class_name);

// Formats `value` for string.Format and interpolation holes: ToString(format) for DateTime and
// Guid, ToString() when `format` is empty. Errors: kInvalidArgument for a format on another type.
Result<Value> FormatArgument(const Value& value, std::string_view format);

// `out var name`, `out string[] name` or `out name` as an argument: evaluates to null, and the
// call that receives it writes the local `slot`.
class OutArgumentNode final : public Node {
 public:
  OutArgumentNode(size_t offset, size_t slot, bool string_array = false)
      : Node(offset, {}), slot_(slot), string_array_(string_array) {}
  Result<Value> Evaluate(EvalFrame&) const override { return Value(); }
  size_t slot() const { return slot_; }
  // Whether the local is declared `string[]`, or is a string[] local declared before.
  bool string_array() const { return string_array_; }

 private:
  size_t slot_;
  bool string_array_;
};

class StaticCallNode final : public Node {
 public:
  StaticCallNode(size_t offset, const StaticFunction& function, std::vector<NodePtr> args,
                 std::optional<size_t> out_slot)
      : Node(offset, function.result, HeightOver({}, args)),
        function_(function),
        args_(std::move(args)),
        out_slot_(out_slot) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;
  const StaticFunction& function() const { return function_; }

 private:
  const StaticFunction& function_;
  std::vector<NodePtr> args_;
  std::optional<size_t> out_slot_;
};

// `name => body`, only as an argument of a LINQ method. It binds the item to local `slot`.
class LambdaNode final : public Node {
 public:
  LambdaNode(size_t offset, size_t slot, NodePtr body)
      : Node(offset, {}, HeightOver({&body})), slot_(slot), body_(std::move(body)) {}
  Result<Value> Evaluate(EvalFrame&) const override {
    return Fail("a lambda is valid only as the argument of a LINQ method");
  }
  size_t slot() const { return slot_; }
  const Node& body() const { return *body_; }

 private:
  size_t slot_;
  NodePtr body_;
};

enum class LinqMethod {
  kAny,
  kAll,
  kFirst,
  kFirstOrDefault,
  kLast,
  kLastOrDefault,
  kSingle,
  kSingleOrDefault,
  kWhere,
  kSelect,
  kCount,
  kToArray,
};

// Returns the LINQ method `name` (ToList resolves to ToArray), or nullopt.
std::optional<LinqMethod> FindLinqMethod(std::string_view name);
// Returns the static type of the method's result.
StaticType LinqResultType(LinqMethod method);
// Returns whether the method takes a lambda: 0 = never, 1 = optional, 2 = required.
int LinqLambdaArity(LinqMethod method);

// target.Method(lambda) over a sequence (Object::SequenceSize): a list, a JSON array, the
// properties of a JSON object or the entries of a dictionary.
class LinqNode final : public Node {
 public:
  LinqNode(size_t offset, LinqMethod method, std::string name, NodePtr target, NodePtr lambda,
           bool null_conditional)
      : Node(offset, LinqResultType(method), HeightOver({&target, &lambda})),
        method_(method),
        name_(std::move(name)),
        target_(std::move(target)),
        lambda_(std::move(lambda)),
        null_conditional_(null_conditional) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  LinqMethod method_;
  std::string name_;
  NodePtr target_;
  NodePtr lambda_;  // A LambdaNode, or null.
  bool null_conditional_;
};

// text.TryParseJwt(out var jwt): true when `text` parses as a JWT, which goes to `slot`.
class TryParseJwtNode final : public Node {
 public:
  TryParseJwtNode(size_t offset, NodePtr target, size_t slot, bool null_conditional)
      : Node(offset, {StaticKind::kBool}, HeightOver({&target})),
        target_(std::move(target)),
        slot_(slot),
        null_conditional_(null_conditional) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  NodePtr target_;
  size_t slot_;
  bool null_conditional_;
};

// dictionary.TryGetValue(key, out var value): true and the value when the dictionary contains
// `key`, else false and null, for any value with ContainsKey and an indexer. With `split_values`
// (an `out string[]` local) a string value becomes an array of its comma-separated elements,
// trimmed of spaces and tabs, as APIM gives a header's values. A comma inside a quoted string
// does not split.
class TryGetValueNode final : public Node {
 public:
  TryGetValueNode(size_t offset, NodePtr target, NodePtr key, size_t slot, bool null_conditional,
                  bool split_values = false)
      : Node(offset, {StaticKind::kBool}, HeightOver({&target, &key})),
        target_(std::move(target)),
        key_(std::move(key)),
        slot_(slot),
        null_conditional_(null_conditional),
        split_values_(split_values) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  NodePtr target_;
  NodePtr key_;
  size_t slot_;
  bool null_conditional_;
  bool split_values_;
};

// Splits a field value at the commas outside quoted strings (RFC 9110 §5.6.1) and trims spaces
// and tabs around each element. Empty elements are dropped.
std::vector<Value> SplitFieldValues(std::string_view text);

enum class BodyFormat { kString, kJObject, kJArray, kJToken };

// context.Request.Body.As<T>() and context.Response.Body.As<T>(). The body stays readable
// afterwards whatever the value of preserveContent, because the gateway buffers it.
class BodyNode final : public Node {
 public:
  BodyNode(size_t offset, StaticType type, bool response, BodyFormat format)
      : Node(offset, type), response_(response), format_(format) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  bool response_;
  BodyFormat format_;
};

}  // namespace credgate::policy::internal
