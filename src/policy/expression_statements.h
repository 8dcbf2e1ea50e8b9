// Statements of a @{ ... } block: declarations and assignments, if/else, foreach, return, and
// calls or JSON indexer assignments run for their effect. Internal to the policy module.
#pragma once

#include <memory>
#include <vector>

#include "policy/expression_nodes.h"

namespace credgate::policy::internal {

// A statement of a @{ ... } block. Run() returns true once a return statement ran, with the
// returned value in *result.
class BlockStatement {
 public:
  virtual ~BlockStatement() = default;
  virtual Result<bool> Run(EvalFrame& frame, Value* result) const = 0;
};

using BlockStatementPtr = std::unique_ptr<const BlockStatement>;

// `var x = value;` and `x = value;`
class AssignStatement final : public BlockStatement {
 public:
  AssignStatement(size_t slot, NodePtr value) : slot_(slot), value_(std::move(value)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  size_t slot_;
  NodePtr value_;
};

class IfStatement final : public BlockStatement {
 public:
  IfStatement(NodePtr condition, BlockStatementPtr then_branch, BlockStatementPtr else_branch)
      : condition_(std::move(condition)),
        then_branch_(std::move(then_branch)),
        else_branch_(std::move(else_branch)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  NodePtr condition_;
  BlockStatementPtr then_branch_;
  BlockStatementPtr else_branch_;  // May be null.
};

class ReturnStatement final : public BlockStatement {
 public:
  explicit ReturnStatement(NodePtr value) : value_(std::move(value)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  NodePtr value_;
};

class CompoundStatement final : public BlockStatement {
 public:
  explicit CompoundStatement(std::vector<BlockStatementPtr> statements)
      : statements_(std::move(statements)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  std::vector<BlockStatementPtr> statements_;
};

// `foreach (var item in sequence) body`, over a list, a JSON array or object, or a dictionary.
class ForeachStatement final : public BlockStatement {
 public:
  ForeachStatement(size_t slot, NodePtr sequence, BlockStatementPtr body)
      : slot_(slot), sequence_(std::move(sequence)), body_(std::move(body)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  size_t slot_;
  NodePtr sequence_;
  BlockStatementPtr body_;
};

// `while (condition) body` and `for (init; condition; updates) body`. The iterations of all
// loops of one evaluation count towards kMaxLoopIterations.
class LoopStatement final : public BlockStatement {
 public:
  LoopStatement(size_t offset, BlockStatementPtr init, NodePtr condition,
                std::vector<BlockStatementPtr> updates, BlockStatementPtr body)
      : offset_(offset),
        init_(std::move(init)),
        condition_(std::move(condition)),
        updates_(std::move(updates)),
        body_(std::move(body)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  size_t offset_;             // Of the keyword, for errors.
  BlockStatementPtr init_;    // May be null.
  NodePtr condition_;         // Null: the loop runs until a return or the iteration limit.
  std::vector<BlockStatementPtr> updates_;
  BlockStatementPtr body_;
};

// `target[key] = value;`
class IndexAssignStatement final : public BlockStatement {
 public:
  IndexAssignStatement(NodePtr target, NodePtr value)
      : target_(std::move(target)), value_(std::move(value)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  NodePtr target_;  // An IndexNode.
  NodePtr value_;
};

// A call run for its effect, as `body.Remove("secret");`. Its value is discarded.
class ExpressionStatement final : public BlockStatement {
 public:
  explicit ExpressionStatement(NodePtr expression) : expression_(std::move(expression)) {}
  Result<bool> Run(EvalFrame& frame, Value* result) const override;

 private:
  NodePtr expression_;
};

}  // namespace credgate::policy::internal
