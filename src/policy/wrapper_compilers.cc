#include "policy/wrapper_compilers.h"

#include "policy/concurrency_slots.h"
#include "policy/document.h"
#include "policy/statement_compilers.h"

namespace credgate::policy::internal {

namespace {

#define WRAPPER_ASSIGN_OR_RETURN(name, expr)             \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

constexpr int64_t kMaxRetryCount = 50;
constexpr int64_t kMaxIntervalSeconds = 300;

Status CheckNesting(const ElementReader& element) {
  // Compiling, running and destroying nested blocks recurse, so the depth is bounded.
  if (element.scope().outer_blocks + EnclosingBlockCount(element.node()) >= kMaxChooseNesting) {
    return element.Fail("<" + std::string(element.name()) + "> is nested more than " +
                        std::to_string(kMaxChooseNesting) + " blocks deep");
  }
  return OkStatus();
}

bool AnyAsync(const StatementList& statements) {
  for (const Statement& statement : statements) {
    if (statement.is_async) return true;
  }
  return false;
}

}  // namespace

size_t EnclosingBlockCount(pugi::xml_node node) {
  size_t count = 0;
  for (pugi::xml_node parent = node.parent(); parent; parent = parent.parent()) {
    std::string_view name = parent.name();
    if (name == "choose" || name == "retry" || name == "limit-concurrency") ++count;
  }
  return count;
}

bool InsideWrapper(pugi::xml_node node) {
  for (pugi::xml_node parent = node.parent(); parent; parent = parent.parent()) {
    std::string_view name = parent.name();
    if (name == "retry" || name == "limit-concurrency") return true;
  }
  return false;
}

Result<Statement> CompileRetry(const ElementReader& element, const std::string& path) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes(
      {"condition", "count", "interval", "max-interval", "delta", "first-fast-retry"}));
  CREDGATE_RETURN_IF_ERROR(CheckNesting(element));
  RetrySpec spec;
  WRAPPER_ASSIGN_OR_RETURN(condition, element.ExpressionAttribute("condition"));
  spec.condition = std::move(condition);
  WRAPPER_ASSIGN_OR_RETURN(count, element.RequiredIntegerAttribute("count", 1, kMaxRetryCount));
  spec.count = count;
  WRAPPER_ASSIGN_OR_RETURN(interval,
                           element.RequiredIntegerAttribute("interval", 0, kMaxIntervalSeconds));
  spec.interval = std::chrono::seconds(interval);
  if (element.Attribute("max-interval")) {
    WRAPPER_ASSIGN_OR_RETURN(max,
                             element.IntegerAttribute("max-interval", 0, 0, kMaxIntervalSeconds));
    spec.max_interval = std::chrono::seconds(max);
  }
  if (element.Attribute("delta")) {
    WRAPPER_ASSIGN_OR_RETURN(delta, element.IntegerAttribute("delta", 0, 0, kMaxIntervalSeconds));
    spec.delta = std::chrono::seconds(delta);
  }
  if (spec.max_interval && !spec.delta) {
    return element.FailAt("max-interval", "attribute 'max-interval' on <retry> needs 'delta'");
  }
  WRAPPER_ASSIGN_OR_RETURN(fast, element.BoolAttribute("first-fast-retry", false));
  spec.first_fast_retry = fast;
  WRAPPER_ASSIGN_OR_RETURN(statements,
                           CompileStatements(element.node(), element.scope(), path + "/", false));
  spec.statements = std::move(statements);
  Statement statement = element.NewStatement(std::move(spec));
  statement.is_async = true;  // Waiting between attempts suspends.
  return statement;
}

Result<Statement> CompileLimitConcurrency(const ElementReader& element, const std::string& path) {
  CREDGATE_RETURN_IF_ERROR(element.CheckAttributes({"key", "max-count"}));
  CREDGATE_RETURN_IF_ERROR(CheckNesting(element));
  LimitConcurrencySpec spec;
  WRAPPER_ASSIGN_OR_RETURN(key, element.RequiredTemplateAttribute("key"));
  spec.key = std::move(key);
  WRAPPER_ASSIGN_OR_RETURN(max, element.RequiredIntegerAttribute("max-count", 1, 1'000'000));
  spec.max_count = max;
  WRAPPER_ASSIGN_OR_RETURN(statements,
                           CompileStatements(element.node(), element.scope(), path + "/", false));
  spec.statements = std::move(statements);
  spec.slots = std::make_shared<ConcurrencySlots>();
  const bool is_async = AnyAsync(spec.statements);
  Statement statement = element.NewStatement(std::move(spec));
  statement.is_async = is_async;
  return statement;
}

}  // namespace credgate::policy::internal
