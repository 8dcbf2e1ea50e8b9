// Regex.IsMatch, Regex.Match and Regex.Replace of policy expressions, on Boost.Regex's Perl
// syntax, which shares .NET's common constructs: classes, quantifiers, anchors, alternation,
// (?<name>...) groups and lookahead. Internal to the policy module.
#pragma once

#include <boost/regex.hpp>
#include <memory>
#include <vector>

#include "policy/expression_nodes.h"

namespace credgate::policy::internal {

enum class RegexFunction { kIsMatch, kMatch, kReplace };

// Compiles `pattern`, ignoring case when `ignore_case` is set. Errors: kInvalidArgument naming
// the character where the syntax error is.
Result<std::shared_ptr<const boost::regex>> CompileRegex(const std::string& pattern,
                                                         bool ignore_case);

// Regex.Function(input, pattern[, replacement][, RegexOptions.IgnoreCase]). A literal pattern is
// compiled with the policy, any other pattern at each evaluation.
class RegexCallNode final : public Node {
 public:
  RegexCallNode(size_t offset, RegexFunction function, std::vector<NodePtr> args,
                std::shared_ptr<const boost::regex> compiled, bool ignore_case)
      : Node(offset, TypeOf(function), HeightOver({}, args)),
        function_(function),
        args_(std::move(args)),
        compiled_(std::move(compiled)),
        ignore_case_(ignore_case) {}
  Result<Value> Evaluate(EvalFrame& frame) const override;

  static StaticType TypeOf(RegexFunction function);

 private:
  RegexFunction function_;
  std::vector<NodePtr> args_;  // input, pattern and, for Replace, the replacement.
  std::shared_ptr<const boost::regex> compiled_;  // Null unless the pattern is a literal.
  bool ignore_case_;
};

}  // namespace credgate::policy::internal
