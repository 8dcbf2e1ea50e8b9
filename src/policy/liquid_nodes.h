// The compiled form of a Liquid template (liquid_template.h): expressions, filter calls and tags.
// Internal to the policy module; liquid_parser.cc builds it and liquid_render.cc walks it.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "common/result.h"

namespace credgate::policy::liquid {

// A value in markup: a literal, a variable path such as body.items[0].name, a range (1..n), or
// one of the special operands `empty` and `blank` that only comparisons use.
struct Expr {
  enum class Kind { kLiteral, kVariable, kRange, kEmpty, kBlank };
  struct Step {
    std::string member;           // Empty when `index` is set.
    std::unique_ptr<Expr> index;  // x[expr].
  };

  Kind kind = Kind::kLiteral;
  boost::json::value literal;
  std::string root;  // kVariable: the first name.
  std::vector<Step> steps;
  std::unique_ptr<Expr> range_from;
  std::unique_ptr<Expr> range_to;
  size_t offset = 0;  // Byte offset in the template, for messages.
};

// A filter's implementation. `args` has between the filter's minimum and maximum count of
// values, which the compiler checks. Errors: kInvalidArgument with a message naming the filter.
using FilterFunction = Result<boost::json::value> (*)(const boost::json::value& input,
                                                      std::span<const boost::json::value> args);

struct FilterSpec {
  std::string_view name;
  size_t min_args = 0;
  size_t max_args = 0;
  FilterFunction function = nullptr;
};

struct FilterCall {
  const FilterSpec* spec = nullptr;
  std::vector<Expr> args;
  size_t offset = 0;
};

// An expression followed by filters: {{ value | Filter: arg, arg }} and the right side of assign.
struct Output {
  Expr value;
  std::vector<FilterCall> filters;
};

// One comparison of a condition. An empty `op` tests the truth of `left`: only nil and false are
// false in Liquid.
struct Comparison {
  Expr left;
  std::string op;  // "", "==", "!=", "<", ">", "<=", ">=" or "contains".
  Expr right;
};

// Comparisons joined by `and` and `or`, which Liquid evaluates from right to left without
// precedence: a or b and c is a or (b and c).
struct Condition {
  std::vector<Comparison> terms;
  std::vector<bool> joined_by_and;  // joined_by_and[i] joins terms[i] and terms[i + 1].
};

struct Node;

struct Block {
  std::vector<Node> nodes;
};

struct TextNode {
  std::string text;
};

struct OutputNode {
  Output output;
};

// if/elsif/else, and unless (one branch with `negate`).
struct IfNode {
  struct Branch {
    Condition condition;
    bool negate = false;
    Block body;
  };
  std::vector<Branch> branches;
  std::optional<Block> else_body;
};

struct CaseNode {
  struct When {
    std::vector<Expr> values;
    Block body;
  };
  Expr subject;
  std::vector<When> whens;
  std::optional<Block> else_body;
};

struct ForNode {
  std::string variable;
  Expr collection;
  std::optional<Expr> limit;
  std::optional<Expr> offset;
  bool reversed = false;
  Block body;
  std::optional<Block> else_body;
};

struct AssignNode {
  std::string name;
  Output value;
};

struct CaptureNode {
  std::string name;
  Block body;
};

struct LoopJumpNode {
  bool is_break = true;  // {% break %}; false for {% continue %}.
};

struct Node {
  std::variant<TextNode, OutputNode, IfNode, CaseNode, ForNode, AssignNode, CaptureNode,
               LoopJumpNode>
      content;
  size_t offset = 0;
};

// Returns the filter named `name` (PascalCase, as APIM requires), or nullptr.
const FilterSpec* FindFilter(std::string_view name);

// Liquid's conversions, shared by the renderer and the filters.
// Returns the text that {{ value }} writes: "" for nil, "true"/"false", decimal numbers, the
// string, the items of an array written one after another, an object's "ToString" member when
// it is a string, or else the object as compact JSON.
std::string ToText(const boost::json::value& value);
// Returns whether a value is true in a condition: everything except nil and false.
bool IsTruthy(const boost::json::value& value);
// Returns the number of a number, or of a string that contains only a number, or nullopt.
std::optional<double> ToNumber(const boost::json::value& value);

}  // namespace credgate::policy::liquid
