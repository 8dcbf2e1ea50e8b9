// Policy expressions: the C# subset that Azure API Management accepts in attribute values and
// element text, either a single expression "@(expr)" or a block "@{ ... return x; }".
//
// An Expression is compiled once, when its policy is saved: names of context members, String
// methods and block variables are resolved then, so evaluation walks a tree and never re-parses.
// A compiled Expression is immutable and Evaluate() may run on many threads at once.
//
// Supported (docs/policies.md lists each feature and its differences from APIM):
//   - literals: strings with C# escapes, verbatim @"...", interpolated $"..{x}..", char,
//     integer, real, bool and null;
//   - operators: + - * / %, == != < > <= >=, && || !, ?:, ??, is, as;
//   - member access with . and ?., method calls, indexers, casts such as (string)x;
//   - the `context` root (context_fields.h), String methods (string_methods.h), static members
//     such as int.Parse and DateTime.UtcNow (expression_calls.h), LINQ methods with lambdas,
//     JWT, DateTime, TimeSpan and JSON values;
//   - in blocks: var and typed declarations, =, +=, if/else, foreach, calls and JSON item
//     assignments as statements, and return.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "policy/context.h"
#include "policy/value.h"

namespace credgate::policy {

namespace internal {
class Node;
class BlockStatement;
}  // namespace internal

// The deepest nesting an expression may have. The limit applies to the constructs nested inside
// one another: parentheses, operands of unary operators and casts, arguments, the branches of ?:
// and ??, and statements of a block. It applies as well to the height of the compiled tree,
// which an operator chain such as a + b + c grows by one per operator. Compiling, evaluating and
// destroying recurse once per level, so the limit keeps a long or deeply nested expression from
// overflowing the stack. The parser needs the most, about 9 KB of stack per nested parenthesis
// with g++ 12 -O2, which makes about 0.6 MB at the limit.
inline constexpr size_t kMaxExpressionDepth = 64;

// Reason set on every runtime failure of an expression, as APIM names it in context.LastError.
inline constexpr std::string_view kExpressionFailureReason = "ExpressionValueEvaluationFailure";

// Returns whether `text` is an expression rather than a literal: it starts with "@(" or "@{".
bool IsExpression(std::string_view text);

class Expression {
 public:
  Expression(const Expression&) = delete;
  Expression& operator=(const Expression&) = delete;
  ~Expression();

  // Evaluates the expression against `context`. Errors: kInvalidArgument with reason
  // kExpressionFailureReason, always, on a null dereference without ?., an invalid cast, a wrong
  // operand type, a missing dictionary key read through the indexer, an out-of-range index,
  // text that int.Parse or Body.As<JObject>() cannot parse, or an empty sequence for First().
  // The message names the column inside the expression.
  Result<Value> Evaluate(const PolicyContext& context) const;

  std::string_view source() const { return source_; }

 private:
  friend Result<std::shared_ptr<const Expression>> CompileExpression(std::string_view text,
                                                                     size_t* error_offset);
  Expression();

  std::string source_;
  std::unique_ptr<const internal::Node> root_;             // For "@(...)".
  std::unique_ptr<const internal::BlockStatement> block_;  // For "@{...}".
  size_t local_count_ = 0;
};

// Compiles `text`, which must start with "@(" or "@{". Errors: kInvalidArgument for bad syntax,
// an unknown identifier, member or method, a wrong argument count, a block that can finish
// without return, or nesting deeper than kMaxExpressionDepth. The message names the column
// (1-based, in bytes) inside `text`, and `*error_offset`, when given, receives the same position
// as a 0-based byte offset.
Result<std::shared_ptr<const Expression>> CompileExpression(std::string_view text,
                                                            size_t* error_offset = nullptr);

// An attribute value or element text: a literal string or a compiled expression.
class ValueTemplate {
 public:
  ValueTemplate() = default;
  explicit ValueTemplate(std::string literal) : literal_(std::move(literal)) {}
  explicit ValueTemplate(std::shared_ptr<const Expression> expression)
      : expression_(std::move(expression)) {}

  bool is_expression() const { return expression_ != nullptr; }
  const std::string& literal() const { return literal_; }

  // Returns the literal as a string Value, or the expression's value.
  Result<Value> Evaluate(const PolicyContext& context) const;
  // Same, converted as C#'s Convert.ToString() would (null becomes "").
  Result<std::string> EvaluateString(const PolicyContext& context) const;

 private:
  std::string literal_;
  std::shared_ptr<const Expression> expression_;
};

// Compiles `text` into a literal when it is not an expression. Errors as CompileExpression.
Result<ValueTemplate> CompileValueTemplate(std::string_view text, size_t* error_offset = nullptr);

}  // namespace credgate::policy
