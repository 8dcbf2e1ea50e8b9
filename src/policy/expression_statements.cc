#include "policy/expression_statements.h"

namespace credgate::policy::internal {

Result<bool> AssignStatement::Run(EvalFrame& frame, Value*) const {
  auto value = value_->Evaluate(frame);
  if (!value.ok()) return value.error();
  frame.locals[slot_] = std::move(value).value();
  return false;
}

Result<bool> IfStatement::Run(EvalFrame& frame, Value* result) const {
  auto condition = condition_->Evaluate(frame);
  if (!condition.ok()) return condition.error();
  auto flag = ToCondition(*condition, *condition_);
  if (!flag.ok()) return flag.error();
  if (*flag) return then_branch_->Run(frame, result);
  if (else_branch_) return else_branch_->Run(frame, result);
  return false;
}

Result<bool> ReturnStatement::Run(EvalFrame& frame, Value* result) const {
  auto value = value_->Evaluate(frame);
  if (!value.ok()) return value.error();
  *result = std::move(value).value();
  return true;
}

Result<bool> CompoundStatement::Run(EvalFrame& frame, Value* result) const {
  for (const auto& statement : statements_) {
    auto returned = statement->Run(frame, result);
    if (!returned.ok() || *returned) return returned;
  }
  return false;
}

Result<bool> ForeachStatement::Run(EvalFrame& frame, Value* result) const {
  auto sequence = sequence_->Evaluate(frame);
  if (!sequence.ok()) return sequence.error();
  std::optional<size_t> size =
      sequence->is_object() ? sequence->AsObject().SequenceSize() : std::nullopt;
  if (!size) {
    return sequence_->Fail("foreach needs a sequence, got " + std::string(sequence->TypeName()));
  }
  // The size is read once, so a body that adds items to a JArray does not loop forever.
  for (size_t i = 0; i < *size && i < *sequence->AsObject().SequenceSize(); ++i) {
    frame.locals[slot_] = sequence->AsObject().SequenceItem(i);
    auto returned = body_->Run(frame, result);
    if (!returned.ok() || *returned) return returned;
  }
  return false;
}

Result<bool> LoopStatement::Run(EvalFrame& frame, Value* result) const {
  if (init_) {
    auto returned = init_->Run(frame, result);
    if (!returned.ok() || *returned) return returned;
  }
  while (true) {
    if (condition_) {
      auto condition = condition_->Evaluate(frame);
      if (!condition.ok()) return condition.error();
      auto flag = ToCondition(*condition, *condition_);
      if (!flag.ok()) return flag.error();
      if (!*flag) return false;
    }
    if (++frame.loop_iterations > kMaxLoopIterations) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the loops ran more than " + std::to_string(kMaxLoopIterations) +
                           " times at column " + std::to_string(offset_ + 1) +
                           " of the expression",
                       "ExpressionValueEvaluationFailure");
    }
    auto returned = body_->Run(frame, result);
    if (!returned.ok() || *returned) return returned;
    for (const auto& update : updates_) {
      auto updated = update->Run(frame, result);
      if (!updated.ok()) return updated;
    }
  }
}

Result<bool> IndexAssignStatement::Run(EvalFrame& frame, Value*) const {
  auto value = value_->Evaluate(frame);
  if (!value.ok()) return value.error();
  const auto& index = static_cast<const IndexNode&>(*target_);
  CREDGATE_RETURN_IF_ERROR(index.Assign(frame, std::move(value).value()));
  return false;
}

Result<bool> ExpressionStatement::Run(EvalFrame& frame, Value*) const {
  auto value = expression_->Evaluate(frame);
  if (!value.ok()) return value.error();
  return false;
}

}  // namespace credgate::policy::internal
