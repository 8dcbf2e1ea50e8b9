// Recursive-descent parser from policy expression tokens to the node tree of
// expression_nodes.h, with names resolved and checked. Internal to the policy module.
#pragma once

#include <string_view>

#include "common/result.h"
#include "policy/expression_nodes.h"
#include "policy/expression_statements.h"

namespace credgate::policy::internal {

struct ParsedExpression {
  NodePtr root;             // Set for "@(...)".
  BlockStatementPtr block;  // Set for "@{...}".
  size_t local_count = 0;   // Slots a block's variables need.
};

// Parses `text`, which starts with "@(" or "@{". Errors as CompileExpression (expression.h).
Result<ParsedExpression> ParseExpression(std::string_view text, size_t* error_offset);

}  // namespace credgate::policy::internal
