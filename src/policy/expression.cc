#include "policy/expression.h"

#include "policy/expression_nodes.h"
#include "policy/expression_parser.h"

namespace credgate::policy {

bool IsExpression(std::string_view text) {
  return text.starts_with("@(") || text.starts_with("@{");
}

namespace {

// Sets the reason that on-error routes on, for a failure that a node did not mark.
Result<Value> WithReason(Result<Value> result) {
  if (result.ok() || !result.error().reason.empty()) return result;
  Error error = std::move(result).take_error();
  error.reason = std::string(kExpressionFailureReason);
  return error;
}

}  // namespace

Expression::Expression() = default;
Expression::~Expression() = default;

Result<Value> Expression::Evaluate(const PolicyContext& context) const {
  // Most blocks have few variables, so their slots live on the stack.
  boost::container::small_vector<Value, 8> locals(local_count_);
  internal::EvalFrame frame{context, std::span<Value>(locals.data(), locals.size())};
  if (root_) return WithReason(root_->Evaluate(frame));

  Value result;
  auto returned = block_->Run(frame, &result);
  if (!returned.ok()) return WithReason(returned.error());
  // The compiler rejects blocks that can finish without return, so `returned` is true here.
  return result;
}

Result<std::shared_ptr<const Expression>> CompileExpression(std::string_view text,
                                                            size_t* error_offset) {
  auto parsed = internal::ParseExpression(text, error_offset);
  if (!parsed.ok()) return parsed.error();
  std::shared_ptr<Expression> expression(new Expression());
  expression->source_ = std::string(text);
  expression->root_ = std::move(parsed->root);
  expression->block_ = std::move(parsed->block);
  expression->local_count_ = parsed->local_count;
  return std::shared_ptr<const Expression>(std::move(expression));
}

Result<Value> ValueTemplate::Evaluate(const PolicyContext& context) const {
  if (expression_) return expression_->Evaluate(context);
  return Value(literal_);
}

Result<std::string> ValueTemplate::EvaluateString(const PolicyContext& context) const {
  if (!expression_) return literal_;
  auto value = expression_->Evaluate(context);
  if (!value.ok()) return value.error();
  if (value->is_string()) return std::move(value->MutableString());
  return value->ToString();
}

Result<ValueTemplate> CompileValueTemplate(std::string_view text, size_t* error_offset) {
  if (!IsExpression(text)) return ValueTemplate(std::string(text));
  auto expression = CompileExpression(text, error_offset);
  if (!expression.ok()) return expression.error();
  return ValueTemplate(std::move(expression).value());
}

}  // namespace credgate::policy
