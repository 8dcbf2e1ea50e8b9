// The compiled form of a policy expression: a tree of nodes whose names were resolved by the
// parser (context members to ContextField, string methods to StringMethod, locals to slots).
// Nodes are immutable after construction and evaluate without allocation beyond the values
// they produce. Internal to the policy module.
#pragma once

#include <boost/container/small_vector.hpp>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "policy/context.h"
#include "policy/context_fields.h"
#include "policy/string_methods.h"
#include "policy/value.h"

namespace credgate::policy::internal {

// The maximum number of iterations that the for and while loops of one evaluation run together,
// so that a loop whose condition stays true fails instead of blocking the request's thread.
inline constexpr size_t kMaxLoopIterations = 100'000;

struct EvalFrame {
  const PolicyContext& context;
  std::span<Value> locals;  // One slot per block variable, lambda parameter and out variable.
  size_t loop_iterations = 0;  // Iterations of for and while loops so far.
};

// Argument values of one call. Calls with up to four arguments keep them on the stack.
using ArgumentValues = boost::container::small_vector<Value, 4>;

class Node;
using NodePtr = std::unique_ptr<const Node>;

class Node {
 public:
  // `height` is 1 for a leaf, and a node with children passes HeightOver() of them.
  Node(size_t offset, StaticType type, size_t height = 1)
      : offset_(offset), type_(type), height_(height) {}
  virtual ~Node() = default;
  virtual Result<Value> Evaluate(EvalFrame& frame) const = 0;

  size_t offset() const { return offset_; }
  StaticType type() const { return type_; }
  // The number of nodes on the longest path from this node down to a leaf, which is also the
  // recursion depth of Evaluate() and of the destructor.
  size_t height() const { return height_; }

  // Returns a runtime error that names the node's column in the expression.
  Error Fail(const std::string& what) const;

 private:
  size_t offset_;
  StaticType type_;
  size_t height_;
};

// Evaluates `args` into `values`; returns the first failure.
Status EvaluateAll(const std::vector<NodePtr>& args, EvalFrame& frame, ArgumentValues& values);

// Returns one more than the tallest of `children` and `more`, which is the height of a node over
// them. Null entries are skipped.
size_t HeightOver(std::initializer_list<const NodePtr*> children,
                  const std::vector<NodePtr>& more = {});

class LiteralNode final : public Node {
 public:
  LiteralNode(size_t offset, StaticType type, Value value)
      : Node(offset, type), value_(std::move(value)) {}
  Result<Value> Evaluate(EvalFrame&) const override { return value_; }
  const Value& value() const { return value_; }

 private:
  Value value_;
};

class LocalNode final : public Node {
 public:
  LocalNode(size_t offset, size_t slot, StaticType type) : Node(offset, type), slot_(slot) {}
  Result<Value> Evaluate(EvalFrame& frame) const override { return frame.locals[slot_]; }

 private:
  size_t slot_;
};

class ContextValueNode final : public Node {
 public:
  ContextValueNode(size_t offset, ContextField field, bool null_conditional)
      : Node(offset, InfoOf(field).type), field_(field), null_conditional_(null_conditional) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  ContextField field_;
  bool null_conditional_;
};

class ContextCallNode final : public Node {
 public:
  ContextCallNode(size_t offset, ContextField field, DictionaryMethod method,
                  std::vector<NodePtr> args, StaticType type)
      : Node(offset, type, HeightOver({}, args)),
        field_(field),
        method_(method),
        args_(std::move(args)) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  ContextField field_;
  DictionaryMethod method_;
  std::vector<NodePtr> args_;
};

// target.Name, target?.Name
class MemberNode final : public Node {
 public:
  MemberNode(size_t offset, StaticType type, NodePtr target, std::string name,
             bool null_conditional)
      : Node(offset, type, HeightOver({&target})),
        target_(std::move(target)),
        name_(std::move(name)),
        null_conditional_(null_conditional) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  NodePtr target_;
  std::string name_;
  bool null_conditional_;
};

// target.Name(args), target?.Name(args); `string_method` is set when Name is a String method.
class MethodNode final : public Node {
 public:
  MethodNode(size_t offset, StaticType type, NodePtr target, std::string name,
             const StringMethodInfo* string_method, std::vector<NodePtr> args,
             bool null_conditional)
      : Node(offset, type, HeightOver({&target}, args)),
        target_(std::move(target)),
        name_(std::move(name)),
        string_method_(string_method),
        args_(std::move(args)),
        null_conditional_(null_conditional) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  NodePtr target_;
  std::string name_;
  const StringMethodInfo* string_method_;
  std::vector<NodePtr> args_;
  bool null_conditional_;
};

// target[args], target?[args]
class IndexNode final : public Node {
 public:
  // Runs `target[args] = value`, which only JObject and JArray support.
  Status Assign(EvalFrame& frame, Value value) const;

  IndexNode(size_t offset, NodePtr target, std::vector<NodePtr> args, bool null_conditional)
      : Node(offset, {}, HeightOver({&target}, args)),
        target_(std::move(target)),
        args_(std::move(args)),
        null_conditional_(null_conditional) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  NodePtr target_;
  std::vector<NodePtr> args_;
  bool null_conditional_;
};

// (Type)operand. `type` is kString, kInt, kBool, kDouble, kAny (object) or kObject (a named
// object type such as Authorization).
class CastNode final : public Node {
 public:
  CastNode(size_t offset, StaticType type, NodePtr operand)
      : Node(offset, type, HeightOver({&operand})), operand_(std::move(operand)) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  NodePtr operand_;
};

enum class UnaryOperator { kNot, kNegate };

class UnaryNode final : public Node {
 public:
  UnaryNode(size_t offset, StaticType type, UnaryOperator op, NodePtr operand)
      : Node(offset, type, HeightOver({&operand})), op_(op), operand_(std::move(operand)) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  UnaryOperator op_;
  NodePtr operand_;
};

enum class BinaryOperator {
  kAdd,
  kSubtract,
  kMultiply,
  kDivide,
  kRemainder,
  kEqual,
  kNotEqual,
  kLess,
  kGreater,
  kLessOrEqual,
  kGreaterOrEqual,
  kAnd,
  kOr,
  kCoalesce,
};

class BinaryNode final : public Node {
 public:
  BinaryNode(size_t offset, StaticType type, BinaryOperator op, NodePtr left, NodePtr right)
      : Node(offset, type, HeightOver({&left, &right})),
        op_(op),
        left_(std::move(left)),
        right_(std::move(right)) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  Result<Value> Arithmetic(const Value& left, const Value& right) const;
  // DateTime and TimeSpan arithmetic: DateTime - DateTime, DateTime +/- TimeSpan and
  // TimeSpan +/- TimeSpan.
  Result<Value> TimeArithmetic(const Value& left, const Value& right) const;
  Result<Value> Compare(const Value& left, const Value& right) const;

  BinaryOperator op_;
  NodePtr left_;
  NodePtr right_;
};

// operand is Type, operand is null, and operand as Type (null when `is` would be false).
class IsNode final : public Node {
 public:
  IsNode(size_t offset, StaticType tested, bool is_as, NodePtr operand)
      : Node(offset, is_as ? tested : StaticType{StaticKind::kBool}, HeightOver({&operand})),
        tested_(tested),
        is_as_(is_as),
        operand_(std::move(operand)) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  StaticType tested_;  // kNull for `is null`.
  bool is_as_;
  NodePtr operand_;
};

// $"text {hole} text {hole:format}"
class InterpolationNode final : public Node {
 public:
  struct Part {
    std::string literal;  // Text before the hole.
    NodePtr hole;         // Null after the last literal.
    std::string format;   // The format after ':' in the hole, or "".
  };

  InterpolationNode(size_t offset, std::vector<Part> parts, size_t height)
      : Node(offset, {StaticKind::kString}, height), parts_(std::move(parts)) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  std::vector<Part> parts_;
};

// condition ? when_true : when_false
class ConditionalNode final : public Node {
 public:
  ConditionalNode(size_t offset, StaticType type, NodePtr condition, NodePtr when_true,
                  NodePtr when_false)
      : Node(offset, type, HeightOver({&condition, &when_true, &when_false})),
        condition_(std::move(condition)),
        when_true_(std::move(when_true)),
        when_false_(std::move(when_false)) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

 private:
  NodePtr condition_;
  NodePtr when_true_;
  NodePtr when_false_;
};

// Requires `value` to be a Boolean, as C# conditions do.
Result<bool> ToCondition(const Value& value, const Node& node);

}  // namespace credgate::policy::internal
