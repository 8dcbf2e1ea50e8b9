#include "policy/expression_nodes.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "policy/expression_calls.h"
#include "policy/expression_time.h"

namespace credgate::policy::internal {

namespace {

std::string Quote(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

Status EvaluateAll(const std::vector<NodePtr>& args, EvalFrame& frame, ArgumentValues& values) {
  values.reserve(args.size());
  for (const auto& arg : args) {
    auto value = arg->Evaluate(frame);
    if (!value.ok()) return value.error();
    values.push_back(std::move(value).value());
  }
  return OkStatus();
}

size_t HeightOver(std::initializer_list<const NodePtr*> children,
                  const std::vector<NodePtr>& more) {
  size_t tallest = 0;
  for (const NodePtr* child : children) {
    if (*child) tallest = std::max(tallest, (*child)->height());
  }
  for (const NodePtr& child : more) {
    if (child) tallest = std::max(tallest, child->height());
  }
  return tallest + 1;
}

Error Node::Fail(const std::string& what) const {
  return MakeError(ErrorCode::kInvalidArgument,
                   what + " at column " + std::to_string(offset_ + 1) + " of the expression",
                   "ExpressionValueEvaluationFailure");
}

Result<bool> ToCondition(const Value& value, const Node& node) {
  if (!value.is_bool()) {
    return node.Fail("expected a Boolean condition, got " + std::string(value.TypeName()));
  }
  return value.AsBool();
}

Result<Value> ContextValueNode::Evaluate(EvalFrame& frame) const {
  if (InfoOf(field_).parent == ContextField::kLastError && !frame.context.last_error &&
      !null_conditional_) {
    return Fail("context.LastError is null because no error occurred; read " + PathOf(field_) +
                " with '?.' or only in on-error");
  }
  return ReadContextField(field_, frame.context);
}

Result<Value> ContextCallNode::Evaluate(EvalFrame& frame) const {
  ArgumentValues args;
  CREDGATE_RETURN_IF_ERROR(EvaluateAll(args_, frame, args));
  auto result = CallContextDictionary(field_, method_, args, frame.context);
  if (!result.ok()) return Fail(result.error().message);
  return result;
}

Result<Value> MemberNode::Evaluate(EvalFrame& frame) const {
  auto target = target_->Evaluate(frame);
  if (!target.ok()) return target;
  const Value& value = *target;
  if (value.is_null()) {
    if (null_conditional_) return Value();
    return Fail("null reference: cannot read " + Quote(name_) + " of null; use '?." + name_ +
                "' when the value may be null");
  }
  if (value.is_string() && name_ == "Length") {
    return Value(static_cast<int64_t>(value.AsString().size()));
  }
  if (value.is_object()) {
    auto member = value.AsObject().GetMember(name_);
    if (!member.ok()) return Fail(member.error().message);
    return member;
  }
  return Fail(std::string(value.TypeName()) + " has no member " + Quote(name_));
}

Result<Value> MethodNode::Evaluate(EvalFrame& frame) const {
  auto target = target_->Evaluate(frame);
  if (!target.ok()) return target;
  const Value& value = *target;
  if (value.is_null()) {
    if (null_conditional_) return Value();
    return Fail("null reference: cannot call " + Quote(name_) + " on null; use '?." + name_ +
                "' when the value may be null");
  }
  ArgumentValues args;
  CREDGATE_RETURN_IF_ERROR(EvaluateAll(args_, frame, args));
  if (value.is_string() && string_method_ != nullptr) {
    // The compiler checks the argument count only when it knows the target is a String. A
    // target whose type is known only now (a variable, GetValueOrDefault) is checked here,
    // because CallStringMethod reads the arguments it expects without checking.
    if (args.size() < string_method_->min_args || args.size() > string_method_->max_args) {
      return Fail("String." + name_ + " takes " + std::to_string(string_method_->min_args) +
                  (string_method_->max_args != string_method_->min_args
                       ? " to " + std::to_string(string_method_->max_args)
                       : std::string()) +
                  " argument(s), not " + std::to_string(args.size()));
    }
    auto result = CallStringMethod(string_method_->method, value.AsString(), args);
    if (!result.ok()) return Fail(result.error().message);
    return result;
  }
  if (name_ == "ToString" && args.empty()) return Value(value.ToString());
  if (value.is_object()) {
    auto result = value.AsObject().CallMethod(name_, args);
    if (!result.ok()) return Fail(result.error().message);
    return result;
  }
  return Fail(std::string(value.TypeName()) + " has no method " + Quote(name_));
}

Result<Value> IndexNode::Evaluate(EvalFrame& frame) const {
  auto target = target_->Evaluate(frame);
  if (!target.ok()) return target;
  const Value& value = *target;
  if (value.is_null()) {
    if (null_conditional_) return Value();
    return Fail("null reference: cannot index null; use '?[' when the value may be null");
  }
  ArgumentValues args;
  CREDGATE_RETURN_IF_ERROR(EvaluateAll(args_, frame, args));
  if (value.is_string() && args.size() == 1 && args[0].is_int()) {
    int64_t index = args[0].AsInt();
    if (index < 0 || index >= static_cast<int64_t>(value.AsString().size())) {
      return Fail("index " + std::to_string(index) + " is outside the string of length " +
                  std::to_string(value.AsString().size()));
    }
    return Value(std::string(1, value.AsString()[static_cast<size_t>(index)]));
  }
  if (value.is_object()) {
    auto result = value.AsObject().CallMethod(kIndexerMethod, args);
    if (!result.ok()) return Fail(result.error().message);
    return result;
  }
  return Fail(std::string(value.TypeName()) + " cannot be indexed");
}

Status IndexNode::Assign(EvalFrame& frame, Value value) const {
  auto target = target_->Evaluate(frame);
  if (!target.ok()) return target.error();
  if (target->is_null()) return Fail("null reference: cannot assign an item of null");
  if (!target->is_object()) {
    return Fail(std::string(target->TypeName()) + " items cannot be assigned");
  }
  ArgumentValues args;
  CREDGATE_RETURN_IF_ERROR(EvaluateAll(args_, frame, args));
  args.push_back(std::move(value));
  auto result = target->AsObject().CallMethod("set_Item", args);
  if (!result.ok()) return Fail(result.error().message);
  return OkStatus();
}

Result<Value> CastNode::Evaluate(EvalFrame& frame) const {
  auto operand = operand_->Evaluate(frame);
  if (!operand.ok()) return operand;
  Value& value = *operand;
  const auto fail = [&](std::string_view target) {
    return Fail("invalid cast from " + std::string(value.TypeName()) + " to " +
                std::string(target));
  };
  switch (type().kind) {
    case StaticKind::kString:
      if (value.is_null() || value.is_string()) return std::move(value);
      return fail("String");
    case StaticKind::kInt:
      if (value.is_int()) return std::move(value);
      if (value.is_double() && std::isfinite(value.AsDouble()) &&
          std::fabs(value.AsDouble()) < 9.2e18) {
        return Value(static_cast<int64_t>(value.AsDouble()));
      }
      return fail("Int64");
    case StaticKind::kDouble:
      if (value.is_number()) return Value(value.AsNumber());
      return fail("Double");
    case StaticKind::kBool:
      if (value.is_bool()) return std::move(value);
      return fail("Boolean");
    case StaticKind::kObject:
      if (value.is_null() ||
          (value.is_object() && value.AsObject().IsInstanceOf(type().object_type))) {
        return std::move(value);
      }
      return fail(type().object_type);
    default:
      return std::move(value);
  }
}

Result<Value> UnaryNode::Evaluate(EvalFrame& frame) const {
  auto operand = operand_->Evaluate(frame);
  if (!operand.ok()) return operand;
  if (op_ == UnaryOperator::kNot) {
    if (!operand->is_bool()) {
      return Fail("operator '!' expects a Boolean, got " + std::string(operand->TypeName()));
    }
    return Value(!operand->AsBool());
  }
  if (operand->is_int()) {
    if (operand->AsInt() == std::numeric_limits<int64_t>::min()) return Fail("integer overflow");
    return Value(-operand->AsInt());
  }
  if (operand->is_double()) return Value(-operand->AsDouble());
  return Fail("operator '-' expects a number, got " + std::string(operand->TypeName()));
}

Result<Value> BinaryNode::Evaluate(EvalFrame& frame) const {
  auto left = left_->Evaluate(frame);
  if (!left.ok()) return left;

  // Short-circuit operators evaluate the right operand only when needed.
  if (op_ == BinaryOperator::kAnd || op_ == BinaryOperator::kOr) {
    auto left_bool = ToCondition(*left, *left_);
    if (!left_bool.ok()) return left_bool.error();
    if (*left_bool == (op_ == BinaryOperator::kOr)) return Value(*left_bool);
    auto right = right_->Evaluate(frame);
    if (!right.ok()) return right;
    auto right_bool = ToCondition(*right, *right_);
    if (!right_bool.ok()) return right_bool.error();
    return Value(*right_bool);
  }
  if (op_ == BinaryOperator::kCoalesce) {
    if (!left->is_null()) return left;
    return right_->Evaluate(frame);
  }

  auto right = right_->Evaluate(frame);
  if (!right.ok()) return right;
  switch (op_) {
    case BinaryOperator::kEqual:
      return Value(ValuesEqual(*left, *right));
    case BinaryOperator::kNotEqual:
      return Value(!ValuesEqual(*left, *right));
    case BinaryOperator::kLess:
    case BinaryOperator::kGreater:
    case BinaryOperator::kLessOrEqual:
    case BinaryOperator::kGreaterOrEqual:
      return Compare(*left, *right);
    default:
      return Arithmetic(*left, *right);
  }
}

Result<Value> BinaryNode::Arithmetic(const Value& left, const Value& right) const {
  // C# + concatenates when either operand is a string; null concatenates as "".
  if (op_ == BinaryOperator::kAdd && (left.is_string() || right.is_string())) {
    std::string out;
    if (left.is_string()) out.reserve(left.AsString().size() + 16);
    left.AppendTo(out);
    right.AppendTo(out);
    return Value(std::move(out));
  }
  if (left.is_object() || right.is_object()) return TimeArithmetic(left, right);
  if (!left.is_number() || !right.is_number()) {
    return Fail("operator cannot be applied to " + std::string(left.TypeName()) + " and " +
                std::string(right.TypeName()));
  }
  if (left.is_int() && right.is_int()) {
    int64_t a = left.AsInt();
    int64_t b = right.AsInt();
    int64_t out = 0;
    switch (op_) {
      case BinaryOperator::kAdd:
        if (__builtin_add_overflow(a, b, &out)) return Fail("integer overflow");
        return Value(out);
      case BinaryOperator::kSubtract:
        if (__builtin_sub_overflow(a, b, &out)) return Fail("integer overflow");
        return Value(out);
      case BinaryOperator::kMultiply:
        if (__builtin_mul_overflow(a, b, &out)) return Fail("integer overflow");
        return Value(out);
      case BinaryOperator::kDivide:
      case BinaryOperator::kRemainder:
        if (b == 0) return Fail("division by zero");
        if (a == std::numeric_limits<int64_t>::min() && b == -1) return Fail("integer overflow");
        return Value(op_ == BinaryOperator::kDivide ? a / b : a % b);
      default:
        break;
    }
  }
  double a = left.AsNumber();
  double b = right.AsNumber();
  switch (op_) {
    case BinaryOperator::kAdd:
      return Value(a + b);
    case BinaryOperator::kSubtract:
      return Value(a - b);
    case BinaryOperator::kMultiply:
      return Value(a * b);
    case BinaryOperator::kDivide:
      return Value(a / b);
    case BinaryOperator::kRemainder:
      return Value(std::fmod(a, b));
    default:
      return Fail("unsupported operator");
  }
}

Result<Value> BinaryNode::TimeArithmetic(const Value& left, const Value& right) const {
  std::optional<int64_t> left_date = DateTimeTicks(left);
  std::optional<int64_t> left_span = TimeSpanTicks(left);
  std::optional<int64_t> right_date = DateTimeTicks(right);
  std::optional<int64_t> right_span = TimeSpanTicks(right);
  int64_t out = 0;
  bool overflow = false;
  if (op_ == BinaryOperator::kSubtract && left_date && right_date) {
    return Value(MakeTimeSpan(*left_date - *right_date));
  }
  if ((op_ == BinaryOperator::kAdd || op_ == BinaryOperator::kSubtract) && right_span &&
      (left_date || left_span)) {
    int64_t base = left_date ? *left_date : *left_span;
    overflow = op_ == BinaryOperator::kAdd ? __builtin_add_overflow(base, *right_span, &out)
                                           : __builtin_sub_overflow(base, *right_span, &out);
    if (left_span) {
      if (overflow) return Fail("TimeSpan overflow");
      return Value(MakeTimeSpan(out));
    }
    if (overflow || out < 0 || out > kMaxDateTimeTicks) {
      return Fail("the result is outside the range of DateTime");
    }
    return Value(MakeDateTime(out));
  }
  return Fail("operator cannot be applied to " + std::string(left.TypeName()) + " and " +
              std::string(right.TypeName()));
}

Result<Value> BinaryNode::Compare(const Value& left, const Value& right) const {
  if (left.is_object() && right.is_object()) {
    std::optional<int> order = left.AsObject().CompareTo(right.AsObject());
    if (!order) {
      return Fail("comparison cannot order " + std::string(left.TypeName()) + " and " +
                  std::string(right.TypeName()));
    }
    switch (op_) {
      case BinaryOperator::kLess:
        return Value(*order < 0);
      case BinaryOperator::kGreater:
        return Value(*order > 0);
      case BinaryOperator::kLessOrEqual:
        return Value(*order <= 0);
      default:
        return Value(*order >= 0);
    }
  }
  if (!left.is_number() || !right.is_number()) {
    return Fail("comparison expects numbers, got " + std::string(left.TypeName()) + " and " +
                std::string(right.TypeName()));
  }
  bool less;
  bool equal;
  if (left.is_int() && right.is_int()) {
    less = left.AsInt() < right.AsInt();
    equal = left.AsInt() == right.AsInt();
  } else {
    less = left.AsNumber() < right.AsNumber();
    equal = left.AsNumber() == right.AsNumber();
  }
  switch (op_) {
    case BinaryOperator::kLess:
      return Value(less);
    case BinaryOperator::kGreater:
      return Value(!less && !equal && !std::isnan(left.AsNumber()));
    case BinaryOperator::kLessOrEqual:
      return Value(less || equal);
    default:
      return Value((!less || equal) && !std::isnan(left.AsNumber()) &&
                   !std::isnan(right.AsNumber()));
  }
}

Result<Value> IsNode::Evaluate(EvalFrame& frame) const {
  auto operand = operand_->Evaluate(frame);
  if (!operand.ok()) return operand;
  const Value& value = *operand;
  bool is = false;
  switch (tested_.kind) {
    case StaticKind::kNull:
      is = value.is_null();
      break;
    case StaticKind::kString:
      is = value.is_string();
      break;
    case StaticKind::kInt:
      is = value.is_int();
      break;
    case StaticKind::kDouble:
      is = value.is_double();
      break;
    case StaticKind::kBool:
      is = value.is_bool();
      break;
    case StaticKind::kObject:
      is = value.is_object() && value.AsObject().IsInstanceOf(tested_.object_type);
      break;
    case StaticKind::kAny:
      is = !value.is_null();
      break;
  }
  if (is_as_) return is ? std::move(operand) : Value();
  return Value(is);
}

Result<Value> InterpolationNode::Evaluate(EvalFrame& frame) const {
  std::string out;
  for (const Part& part : parts_) {
    out += part.literal;
    if (!part.hole) continue;
    auto value = part.hole->Evaluate(frame);
    if (!value.ok()) return value;
    if (part.format.empty()) {
      value->AppendTo(out);
      continue;
    }
    auto formatted = FormatArgument(*value, part.format);
    if (!formatted.ok()) return part.hole->Fail(formatted.error().message);
    out += formatted->ToString();
  }
  return Value(std::move(out));
}

Result<Value> ConditionalNode::Evaluate(EvalFrame& frame) const {
  auto condition = condition_->Evaluate(frame);
  if (!condition.ok()) return condition;
  auto flag = ToCondition(*condition, *condition_);
  if (!flag.ok()) return flag.error();
  return *flag ? when_true_->Evaluate(frame) : when_false_->Evaluate(frame);
}

}  // namespace credgate::policy::internal
