#include "policy/expression_parser.h"

#include <string>
#include <utility>
#include <vector>

#include "policy/expression.h"
#include "policy/expression_calls.h"
#include "policy/expression_lexer.h"
#include "policy/expression_regex.h"
#include "policy/static_types.h"

namespace credgate::policy::internal {

namespace {

// Declares `name` from a Result-returning expression, or returns its error.
#define POLICY_ASSIGN_OR_RETURN(name, expr)              \
  auto name##_result = (expr);                           \
  if (!name##_result.ok()) return name##_result.error(); \
  auto name = std::move(name##_result).value()

constexpr StaticType kAnyType{};
constexpr StaticType kBoolType{StaticKind::kBool};
// The static type of an array local (`string[] parts`): the type of String.Split's result.
constexpr StaticType kArrayLocalType{StaticKind::kObject, "Array"};

bool IsNumeric(StaticType type) {
  return type.kind == StaticKind::kInt || type.kind == StaticKind::kDouble;
}

class Parser {
 public:
  Parser(std::string_view source, std::vector<Token> tokens, size_t* error_offset)
      : source_(source), tokens_(std::move(tokens)), error_offset_(error_offset) {}

  Result<ParsedExpression> ParseRoot() {
    ParsedExpression parsed;
    scopes_.emplace_back();  // Holds `out var` locals of a single expression.
    if (Accept("(")) {
      POLICY_ASSIGN_OR_RETURN(root, ParseExpression());
      CREDGATE_RETURN_IF_ERROR(Expect(")", "to close the expression"));
      parsed.root = std::move(root);
    } else if (Peek().text == "{") {
      size_t offset = Peek().offset;
      POLICY_ASSIGN_OR_RETURN(block, ParseCompound());
      if (!always_returns_) {
        return Fail(offset,
                    "the block can finish without a return statement; end it with "
                    "'return value;'");
      }
      parsed.block = std::move(block);
    } else {
      return Fail(Peek().offset, "an expression starts with '@(' or '@{'");
    }
    if (Peek().kind != TokenKind::kEnd) {
      return Fail(Peek().offset,
                  "unexpected '" + std::string(Peek().text) + "' after the end of the expression");
    }
    parsed.local_count = local_types_.size();
    return parsed;
  }

 private:
  // ---- Token helpers.

  const Token& Peek(size_t ahead = 0) const {
    return tokens_[std::min(position_ + ahead, tokens_.size() - 1)];
  }
  bool IsPunctuator(const Token& token, std::string_view text) const {
    return token.kind == TokenKind::kPunctuator && token.text == text;
  }
  bool IsKeyword(const Token& token, std::string_view text) const {
    return token.kind == TokenKind::kIdentifier && token.text == text;
  }
  bool Accept(std::string_view punctuator) {
    if (!IsPunctuator(Peek(), punctuator)) return false;
    ++position_;
    return true;
  }
  const Token& Next() {
    const Token& token = Peek();
    if (position_ < tokens_.size() - 1) ++position_;
    return token;
  }
  Status Expect(std::string_view punctuator, std::string_view purpose) {
    if (Accept(punctuator)) return OkStatus();
    return Fail(Peek().offset, "expected '" + std::string(punctuator) + "' " +
                                   std::string(purpose) + ", found " + Describe(Peek()));
  }
  std::string Describe(const Token& token) const {
    if (token.kind == TokenKind::kEnd) return "the end of the expression";
    return "'" + std::string(token.text) + "'";
  }
  Error Fail(size_t offset, const std::string& what) {
    if (error_offset_ != nullptr) *error_offset_ = offset;
    return MakeError(ErrorCode::kInvalidArgument,
                     what + " at column " + std::to_string(offset + 1) + " of the expression");
  }
  Error FailTooDeep(size_t offset) {
    return Fail(offset, "the expression nests deeper than " + std::to_string(kMaxExpressionDepth) +
                            " levels; move parts of it into variables of a @{...} block");
  }

  // ---- Nesting limits (kMaxExpressionDepth).

  // Runs `parse` one nesting level deeper. Every recursive step of the parser goes through
  // here, so the parser's own recursion stays within the limit.
  template <typename T>
  Result<T> Nested(Result<T> (Parser::*parse)()) {
    if (depth_ >= kMaxExpressionDepth) return FailTooDeep(Peek().offset);
    ++depth_;
    Result<T> result = (this->*parse)();
    --depth_;
    return result;
  }

  // Returns `node` unless its tree is taller than the limit. Every node with children passes
  // through here, because Evaluate() and the destructor recurse once per level of height.
  Result<NodePtr> Checked(NodePtr node) {
    if (node->height() > kMaxExpressionDepth) return FailTooDeep(node->offset());
    return node;
  }

  // ---- Block statements.

  Result<BlockStatementPtr> ParseCompound() {
    CREDGATE_RETURN_IF_ERROR(Expect("{", "to open the block"));
    scopes_.emplace_back();
    std::vector<BlockStatementPtr> statements;
    bool returns = false;
    while (!IsPunctuator(Peek(), "}")) {
      if (Peek().kind == TokenKind::kEnd) return Fail(Peek().offset, "missing '}' of the block");
      if (returns) return Fail(Peek().offset, "unreachable statement after return");
      POLICY_ASSIGN_OR_RETURN(statement, Nested(&Parser::ParseStatement));
      returns = always_returns_;
      statements.push_back(std::move(statement));
    }
    Next();
    scopes_.pop_back();
    always_returns_ = returns;
    return BlockStatementPtr(std::make_unique<CompoundStatement>(std::move(statements)));
  }

  Result<BlockStatementPtr> ParseStatement() {
    const Token& token = Peek();
    always_returns_ = false;
    if (IsPunctuator(token, "{")) return ParseCompound();
    if (IsKeyword(token, "return")) {
      Next();
      POLICY_ASSIGN_OR_RETURN(value, ParseExpression());
      CREDGATE_RETURN_IF_ERROR(Expect(";", "after the return value"));
      always_returns_ = true;
      return BlockStatementPtr(std::make_unique<ReturnStatement>(std::move(value)));
    }
    if (IsKeyword(token, "if")) return ParseIf();
    if (IsKeyword(token, "foreach")) return ParseForeach();
    if (IsKeyword(token, "while")) return ParseWhile();
    if (IsKeyword(token, "for")) return ParseFor();
    if (IsKeyword(token, "break") || IsKeyword(token, "continue")) {
      return Fail(token.offset, "'" + std::string(token.text) +
                                    "' is not supported; end the loop through its condition");
    }
    if (token.kind == TokenKind::kIdentifier && Peek(1).kind == TokenKind::kIdentifier &&
        (IsKeyword(token, "var") || TypeForName(token.text))) {
      return ParseDeclaration();
    }
    if (ArrayTypeAt(0) && Peek(3).kind == TokenKind::kIdentifier) return ParseDeclaration();
    if (IsLocalUpdate()) {
      POLICY_ASSIGN_OR_RETURN(update, ParseLocalUpdate());
      CREDGATE_RETURN_IF_ERROR(Expect(";", "after the assignment"));
      return update;
    }
    return ParseExpressionStatement();
  }

  // Reports whether the next tokens start `x = v`, `x += v`, `x -= v`, `x++` or `x--`.
  bool IsLocalUpdate() {
    if (Peek().kind != TokenKind::kIdentifier) return false;
    for (std::string_view op : {"=", "+=", "-="}) {
      if (IsPunctuator(Peek(1), op)) return true;
    }
    return IncrementAt(1).has_value();
  }

  // Returns "+" or "-" when the tokens at `ahead` and after it are "++" or "--" with nothing
  // between them. The lexer reads them as two tokens, so that "--1" stays two negations.
  std::optional<std::string_view> IncrementAt(size_t ahead) {
    const Token& first = Peek(ahead);
    const Token& second = Peek(ahead + 1);
    for (std::string_view sign : {"+", "-"}) {
      if (IsPunctuator(first, sign) && IsPunctuator(second, sign) &&
          second.offset == first.offset + 1) {
        return sign;
      }
    }
    return std::nullopt;
  }

  // Parses a local update (IsLocalUpdate) without its ';'. `x++` is `x = x + 1`.
  Result<BlockStatementPtr> ParseLocalUpdate() {
    const Token& token = Next();
    const size_t* slot = FindLocal(token.text);
    if (slot == nullptr) {
      return Fail(token.offset, "unknown variable '" + std::string(token.text) +
                                    "'; declare it first with 'var " + std::string(token.text) +
                                    " = ...;'");
    }
    size_t target = *slot;
    std::optional<std::string_view> increment = IncrementAt(0);
    const Token& op = Next();
    NodePtr value;
    if (increment) {
      Next();
      value = std::make_unique<LiteralNode>(op.offset, StaticType{StaticKind::kInt},
                                            Value(int64_t{1}));
    } else {
      POLICY_ASSIGN_OR_RETURN(parsed, ParseExpression());
      value = std::move(parsed);
    }
    if (op.text != "=") {
      const BinaryOperator arithmetic = op.text == "+=" || (increment && *increment == "+")
                                            ? BinaryOperator::kAdd
                                            : BinaryOperator::kSubtract;
      auto local = std::make_unique<LocalNode>(token.offset, target, local_types_[target]);
      POLICY_ASSIGN_OR_RETURN(type, ResultType(arithmetic, *local, *value, op.offset));
      POLICY_ASSIGN_OR_RETURN(
          combined, Checked(std::make_unique<BinaryNode>(op.offset, type, arithmetic,
                                                         std::move(local), std::move(value))));
      value = std::move(combined);
    }
    if (local_types_[target].kind != value->type().kind) local_types_[target] = kAnyType;
    return BlockStatementPtr(std::make_unique<AssignStatement>(target, std::move(value)));
  }

  Result<BlockStatementPtr> ParseWhile() {
    const size_t offset = Next().offset;
    CREDGATE_RETURN_IF_ERROR(Expect("(", "after 'while'"));
    POLICY_ASSIGN_OR_RETURN(condition, ParseExpression());
    CREDGATE_RETURN_IF_ERROR(CheckBoolean(*condition, "a while condition"));
    CREDGATE_RETURN_IF_ERROR(Expect(")", "to close the while condition"));
    POLICY_ASSIGN_OR_RETURN(body, Nested(&Parser::ParseStatement));
    // The loop may run zero times, so it never counts as returning.
    always_returns_ = false;
    return BlockStatementPtr(std::make_unique<LoopStatement>(
        offset, nullptr, std::move(condition), std::vector<BlockStatementPtr>(), std::move(body)));
  }

  // `for (init; condition; updates) body`, where init is a declaration or local updates, and
  // updates are local updates separated by ','.
  Result<BlockStatementPtr> ParseFor() {
    const size_t offset = Next().offset;
    CREDGATE_RETURN_IF_ERROR(Expect("(", "after 'for'"));
    scopes_.emplace_back();  // The scope of a variable that init declares.
    BlockStatementPtr init;
    const Token& first = Peek();
    if (first.kind == TokenKind::kIdentifier && Peek(1).kind == TokenKind::kIdentifier &&
        (IsKeyword(first, "var") || TypeForName(first.text))) {
      POLICY_ASSIGN_OR_RETURN(declaration, ParseDeclaration(/*expect_semicolon=*/false));
      init = std::move(declaration);
    } else if (IsLocalUpdate()) {
      POLICY_ASSIGN_OR_RETURN(update, ParseLocalUpdate());
      init = std::move(update);
    } else if (!IsPunctuator(first, ";")) {
      return Fail(first.offset, "expected a declaration or an assignment in the for header, "
                                "found " + Describe(first));
    }
    CREDGATE_RETURN_IF_ERROR(Expect(";", "after the for initializer"));
    NodePtr condition;
    if (!IsPunctuator(Peek(), ";")) {
      POLICY_ASSIGN_OR_RETURN(parsed, ParseExpression());
      CREDGATE_RETURN_IF_ERROR(CheckBoolean(*parsed, "a for condition"));
      condition = std::move(parsed);
    }
    CREDGATE_RETURN_IF_ERROR(Expect(";", "after the for condition"));
    std::vector<BlockStatementPtr> updates;
    while (!IsPunctuator(Peek(), ")")) {
      if (!updates.empty()) CREDGATE_RETURN_IF_ERROR(Expect(",", "between the for updates"));
      if (!IsLocalUpdate()) {
        return Fail(Peek().offset, "expected an assignment such as i++ in the for header, "
                                   "found " + Describe(Peek()));
      }
      POLICY_ASSIGN_OR_RETURN(update, ParseLocalUpdate());
      updates.push_back(std::move(update));
    }
    Next();
    POLICY_ASSIGN_OR_RETURN(body, Nested(&Parser::ParseStatement));
    scopes_.pop_back();
    always_returns_ = false;
    return BlockStatementPtr(std::make_unique<LoopStatement>(
        offset, std::move(init), std::move(condition), std::move(updates), std::move(body)));
  }

  // `target[key] = value;` or a call run for its effect, such as `body.Remove("x");`.
  Result<BlockStatementPtr> ParseExpressionStatement() {
    const Token& first = Peek();
    if (first.kind != TokenKind::kIdentifier) {
      return Fail(first.offset,
                  "expected a statement (var, if, foreach, return, an assignment or a call), "
                  "found " +
                      Describe(first));
    }
    POLICY_ASSIGN_OR_RETURN(expression, ParseExpression());
    if (IsPunctuator(Peek(), "=")) {
      if (dynamic_cast<const IndexNode*>(expression.get()) == nullptr) {
        return Fail(Peek().offset,
                    "only a local variable or an item of a JObject or JArray can be assigned");
      }
      Next();
      POLICY_ASSIGN_OR_RETURN(value, ParseExpression());
      CREDGATE_RETURN_IF_ERROR(Expect(";", "after the assignment"));
      return BlockStatementPtr(
          std::make_unique<IndexAssignStatement>(std::move(expression), std::move(value)));
    }
    if (dynamic_cast<const MethodNode*>(expression.get()) == nullptr &&
        dynamic_cast<const StaticCallNode*>(expression.get()) == nullptr &&
        dynamic_cast<const TryGetValueNode*>(expression.get()) == nullptr) {
      return Fail(expression->offset(),
                  "only a method call can stand as a statement; assign or return the value");
    }
    CREDGATE_RETURN_IF_ERROR(Expect(";", "after the statement"));
    return BlockStatementPtr(std::make_unique<ExpressionStatement>(std::move(expression)));
  }

  Result<BlockStatementPtr> ParseForeach() {
    Next();
    CREDGATE_RETURN_IF_ERROR(Expect("(", "after 'foreach'"));
    const Token& type = Next();
    if (type.kind != TokenKind::kIdentifier ||
        (!IsKeyword(type, "var") && !TypeForName(type.text))) {
      return Fail(type.offset, "expected 'var' or a type in foreach, found " + Describe(type));
    }
    const Token& name = Next();
    if (name.kind != TokenKind::kIdentifier) {
      return Fail(name.offset, "expected the loop variable's name, found " + Describe(name));
    }
    if (FindLocal(name.text) != nullptr) {
      return Fail(name.offset, "the variable '" + std::string(name.text) +
                                   "' is already declared; choose another name");
    }
    if (!IsKeyword(Next(), "in")) return Fail(name.offset, "expected 'in' after the loop variable");
    POLICY_ASSIGN_OR_RETURN(sequence, ParseExpression());
    CREDGATE_RETURN_IF_ERROR(Expect(")", "to close the foreach header"));
    size_t slot = local_types_.size();
    std::optional<StaticType> declared = TypeForName(type.text);
    local_types_.push_back(declared ? *declared : kAnyType);
    scopes_.emplace_back();
    scopes_.back().emplace_back(std::string(name.text), slot);
    POLICY_ASSIGN_OR_RETURN(body, Nested(&Parser::ParseStatement));
    scopes_.pop_back();
    // The loop may run zero times, so it never counts as returning.
    always_returns_ = false;
    return BlockStatementPtr(
        std::make_unique<ForeachStatement>(slot, std::move(sequence), std::move(body)));
  }

  Result<BlockStatementPtr> ParseIf() {
    Next();
    CREDGATE_RETURN_IF_ERROR(Expect("(", "after 'if'"));
    POLICY_ASSIGN_OR_RETURN(condition, ParseExpression());
    CREDGATE_RETURN_IF_ERROR(CheckBoolean(*condition, "an if condition"));
    CREDGATE_RETURN_IF_ERROR(Expect(")", "to close the if condition"));
    POLICY_ASSIGN_OR_RETURN(then_branch, Nested(&Parser::ParseStatement));
    bool then_returns = always_returns_;
    BlockStatementPtr else_branch;
    bool else_returns = false;
    if (IsKeyword(Peek(), "else")) {
      Next();
      POLICY_ASSIGN_OR_RETURN(parsed_else, Nested(&Parser::ParseStatement));
      else_branch = std::move(parsed_else);
      else_returns = always_returns_;
    }
    always_returns_ = then_returns && else_returns;
    return BlockStatementPtr(std::make_unique<IfStatement>(
        std::move(condition), std::move(then_branch), std::move(else_branch)));
  }

  // Returns whether the tokens `ahead` of the cursor read `T[]` for a type T that a cast accepts.
  bool ArrayTypeAt(size_t ahead) const {
    return Peek(ahead).kind == TokenKind::kIdentifier && TypeForName(Peek(ahead).text) &&
           IsPunctuator(Peek(ahead + 1), "[") && IsPunctuator(Peek(ahead + 2), "]");
  }

  // Parses `T name = value`, `var name = value`, `T[] name = value` or, as a statement, `T name;`
  // and `T[] name;`, whose local starts as null. An array local has the type of String.Split's
  // result whatever T is.
  Result<BlockStatementPtr> ParseDeclaration(bool expect_semicolon = true) {
    const Token& type = Next();
    std::optional<StaticType> declared = TypeForName(type.text);
    if (IsPunctuator(Peek(), "[")) {
      position_ += 2;
      declared = kArrayLocalType;
    }
    const Token& name = Next();
    if (FindLocal(name.text) != nullptr) {
      return Fail(name.offset, "the variable '" + std::string(name.text) +
                                   "' is already declared; choose another name");
    }
    if (expect_semicolon && declared && IsPunctuator(Peek(), ";")) {
      Next();
      size_t slot = local_types_.size();
      local_types_.push_back(*declared);
      scopes_.back().emplace_back(std::string(name.text), slot);
      always_returns_ = false;
      NodePtr null_value =
          std::make_unique<LiteralNode>(name.offset, StaticType{StaticKind::kNull}, Value());
      return BlockStatementPtr(std::make_unique<AssignStatement>(slot, std::move(null_value)));
    }
    CREDGATE_RETURN_IF_ERROR(Expect("=", "after the variable name"));
    POLICY_ASSIGN_OR_RETURN(value, ParseExpression());
    if (expect_semicolon) CREDGATE_RETURN_IF_ERROR(Expect(";", "after the declaration"));
    size_t slot = local_types_.size();
    local_types_.push_back(declared ? *declared : value->type());
    scopes_.back().emplace_back(std::string(name.text), slot);
    always_returns_ = false;
    return BlockStatementPtr(std::make_unique<AssignStatement>(slot, std::move(value)));
  }

  const size_t* FindLocal(std::string_view name) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      for (const auto& [local, slot] : *scope) {
        if (local == name) return &slot;
      }
    }
    return nullptr;
  }

  Status CheckBoolean(const Node& node, std::string_view what) {
    StaticKind kind = node.type().kind;
    if (kind == StaticKind::kAny || kind == StaticKind::kBool) return OkStatus();
    return Fail(node.offset(), std::string(what) + " must be a Boolean, not " +
                                   std::string(StaticTypeName(node.type())));
  }

  // ---- Expressions, lowest precedence first (C# operator precedence).

  Result<NodePtr> ParseExpression() {
    POLICY_ASSIGN_OR_RETURN(condition, ParseCoalesce());
    if (!IsPunctuator(Peek(), "?")) return condition;
    size_t offset = Next().offset;
    CREDGATE_RETURN_IF_ERROR(CheckBoolean(*condition, "the condition of '?:'"));
    POLICY_ASSIGN_OR_RETURN(when_true, Nested(&Parser::ParseExpression));
    CREDGATE_RETURN_IF_ERROR(Expect(":", "in the conditional operator"));
    POLICY_ASSIGN_OR_RETURN(when_false, Nested(&Parser::ParseExpression));
    StaticType type =
        when_true->type().kind == when_false->type().kind ? when_true->type() : kAnyType;
    return Checked(std::make_unique<ConditionalNode>(offset, type, std::move(condition),
                                                     std::move(when_true), std::move(when_false)));
  }

  Result<NodePtr> ParseCoalesce() {
    POLICY_ASSIGN_OR_RETURN(left, ParseOr());
    if (!IsPunctuator(Peek(), "??")) return left;
    size_t offset = Next().offset;
    POLICY_ASSIGN_OR_RETURN(right, Nested(&Parser::ParseCoalesce));
    StaticType type = left->type().kind == right->type().kind ? left->type() : kAnyType;
    return Checked(std::make_unique<BinaryNode>(offset, type, BinaryOperator::kCoalesce,
                                                std::move(left), std::move(right)));
  }

  struct OperatorEntry {
    std::string_view text;
    BinaryOperator op;
  };

  // Parses a left-associative chain of the operators in `entries` over `operand`.
  template <typename OperandParser>
  Result<NodePtr> ParseChain(std::initializer_list<OperatorEntry> entries, OperandParser operand) {
    POLICY_ASSIGN_OR_RETURN(left, (this->*operand)());
    while (true) {
      const OperatorEntry* match = nullptr;
      for (const auto& entry : entries) {
        if (IsPunctuator(Peek(), entry.text)) match = &entry;
      }
      if (match == nullptr) return left;
      size_t offset = Next().offset;
      POLICY_ASSIGN_OR_RETURN(right, (this->*operand)());
      POLICY_ASSIGN_OR_RETURN(type, ResultType(match->op, *left, *right, offset));
      POLICY_ASSIGN_OR_RETURN(
          node, Checked(std::make_unique<BinaryNode>(offset, type, match->op, std::move(left),
                                                     std::move(right))));
      left = std::move(node);
    }
  }

  Result<StaticType> ResultType(BinaryOperator op, const Node& left, const Node& right,
                                size_t offset) {
    StaticType a = left.type();
    StaticType b = right.type();
    switch (op) {
      case BinaryOperator::kAnd:
      case BinaryOperator::kOr:
        CREDGATE_RETURN_IF_ERROR(CheckBoolean(left, "an operand of '&&' and '||'"));
        CREDGATE_RETURN_IF_ERROR(CheckBoolean(right, "an operand of '&&' and '||'"));
        return kBoolType;
      case BinaryOperator::kEqual:
      case BinaryOperator::kNotEqual:
      case BinaryOperator::kLess:
      case BinaryOperator::kGreater:
      case BinaryOperator::kLessOrEqual:
      case BinaryOperator::kGreaterOrEqual:
        return kBoolType;
      case BinaryOperator::kAdd:
        if (a.kind == StaticKind::kString || b.kind == StaticKind::kString) {
          return StaticType{StaticKind::kString};
        }
        [[fallthrough]];
      default:
        if (a.kind == StaticKind::kBool || b.kind == StaticKind::kBool) {
          return Fail(offset, "arithmetic operators do not apply to Boolean operands");
        }
        if (a.kind == StaticKind::kInt && b.kind == StaticKind::kInt) return a;
        if (IsNumeric(a) && IsNumeric(b)) return StaticType{StaticKind::kDouble};
        return kAnyType;
    }
  }

  Result<NodePtr> ParseOr() { return ParseChain({{"||", BinaryOperator::kOr}}, &Parser::ParseAnd); }
  Result<NodePtr> ParseAnd() {
    return ParseChain({{"&&", BinaryOperator::kAnd}}, &Parser::ParseEquality);
  }
  Result<NodePtr> ParseEquality() {
    return ParseChain({{"==", BinaryOperator::kEqual}, {"!=", BinaryOperator::kNotEqual}},
                      &Parser::ParseRelational);
  }
  Result<NodePtr> ParseRelational() {
    return ParseChain({{"<", BinaryOperator::kLess},
                       {">", BinaryOperator::kGreater},
                       {"<=", BinaryOperator::kLessOrEqual},
                       {">=", BinaryOperator::kGreaterOrEqual}},
                      &Parser::ParseTypeTest);
  }

  // operand is Type, operand is null, operand is not null, operand as Type.
  Result<NodePtr> ParseTypeTest() {
    POLICY_ASSIGN_OR_RETURN(operand, ParseAdditive());
    while (IsKeyword(Peek(), "is") || IsKeyword(Peek(), "as")) {
      const Token& op = Next();
      bool is_as = op.text == "as";
      bool negated = !is_as && IsKeyword(Peek(), "not");
      if (negated) Next();
      const Token& name = Next();
      std::optional<StaticType> type;
      if (!is_as && IsKeyword(name, "null")) {
        type = StaticType{StaticKind::kNull};
      } else if (name.kind == TokenKind::kIdentifier) {
        type = TypeForName(name.text);
      }
      if (!type || (is_as && type->kind != StaticKind::kString &&
                    type->kind != StaticKind::kObject && type->kind != StaticKind::kAny)) {
        return Fail(name.offset, "expected a " + std::string(is_as ? "reference type" : "type") +
                                     " after '" + std::string(op.text) + "', found " +
                                     Describe(name));
      }
      POLICY_ASSIGN_OR_RETURN(
          test, Checked(std::make_unique<IsNode>(op.offset, *type, is_as, std::move(operand))));
      operand = std::move(test);
      if (negated) {
        POLICY_ASSIGN_OR_RETURN(
            not_node, Checked(std::make_unique<UnaryNode>(op.offset, kBoolType, UnaryOperator::kNot,
                                                          std::move(operand))));
        operand = std::move(not_node);
      }
    }
    return operand;
  }
  Result<NodePtr> ParseAdditive() {
    return ParseChain({{"+", BinaryOperator::kAdd}, {"-", BinaryOperator::kSubtract}},
                      &Parser::ParseMultiplicative);
  }
  Result<NodePtr> ParseMultiplicative() {
    return ParseChain({{"*", BinaryOperator::kMultiply},
                       {"/", BinaryOperator::kDivide},
                       {"%", BinaryOperator::kRemainder}},
                      &Parser::ParseUnary);
  }

  // Returns the cast type when the tokens at the cursor read "(Type)" followed by an operand.
  std::optional<StaticType> CastAhead() const {
    if (!IsPunctuator(Peek(), "(") || Peek(1).kind != TokenKind::kIdentifier ||
        !IsPunctuator(Peek(2), ")")) {
      return std::nullopt;
    }
    std::optional<StaticType> type = TypeForName(Peek(1).text);
    if (!type) return std::nullopt;
    const Token& after = Peek(3);
    bool operand_follows = after.kind == TokenKind::kIdentifier ||
                           after.kind == TokenKind::kString || after.kind == TokenKind::kInteger ||
                           after.kind == TokenKind::kReal ||
                           after.kind == TokenKind::kInterpolated || IsPunctuator(after, "(") ||
                           IsPunctuator(after, "!");
    return operand_follows ? type : std::nullopt;
  }

  Result<NodePtr> ParseUnary() {
    const Token& token = Peek();
    if (IsPunctuator(token, "!") || IsPunctuator(token, "-")) {
      Next();
      bool is_not = token.text == "!";
      POLICY_ASSIGN_OR_RETURN(operand, Nested(&Parser::ParseUnary));
      if (is_not) CREDGATE_RETURN_IF_ERROR(CheckBoolean(*operand, "the operand of '!'"));
      StaticType type = is_not ? kBoolType : operand->type();
      return Checked(std::make_unique<UnaryNode>(
          token.offset, type, is_not ? UnaryOperator::kNot : UnaryOperator::kNegate,
          std::move(operand)));
    }
    if (std::optional<StaticType> cast = CastAhead()) {
      size_t offset = token.offset;
      position_ += 3;
      POLICY_ASSIGN_OR_RETURN(operand, Nested(&Parser::ParseUnary));
      return Checked(std::make_unique<CastNode>(offset, *cast, std::move(operand)));
    }
    POLICY_ASSIGN_OR_RETURN(primary, ParsePrimary());
    return ParsePostfix(std::move(primary));
  }

  // Parses arguments up to `close`. `out var name` declares a local in the current scope, and
  // `name => body` is a lambda, which only LINQ methods accept.
  Result<std::vector<NodePtr>> ParseArguments(std::string_view close) {
    std::vector<NodePtr> args;
    if (Accept(close)) return args;
    while (true) {
      NodePtr arg;
      if (IsKeyword(Peek(), "out")) {
        POLICY_ASSIGN_OR_RETURN(out, ParseOutArgument());
        arg = std::move(out);
      } else if (IsKeyword(Peek(), "preserveContent") && IsPunctuator(Peek(1), ":")) {
        // The named argument of Body.As<T>(preserveContent: true); the name is dropped.
        position_ += 2;
        POLICY_ASSIGN_OR_RETURN(value, Nested(&Parser::ParseExpression));
        arg = std::move(value);
      } else if (Peek().kind == TokenKind::kIdentifier && IsPunctuator(Peek(1), "=>")) {
        POLICY_ASSIGN_OR_RETURN(lambda, Nested(&Parser::ParseLambda));
        arg = std::move(lambda);
      } else {
        POLICY_ASSIGN_OR_RETURN(value, Nested(&Parser::ParseExpression));
        arg = std::move(value);
      }
      args.push_back(std::move(arg));
      if (Accept(close)) return args;
      CREDGATE_RETURN_IF_ERROR(Expect(",", "between arguments"));
    }
  }

  // Parses `out var name`, `out T name`, `out T[] name`, or `out name` for a local declared
  // before.
  Result<NodePtr> ParseOutArgument() {
    const Token& out = Next();
    if (Peek().kind == TokenKind::kIdentifier && !IsPunctuator(Peek(1), "[") &&
        Peek(1).kind != TokenKind::kIdentifier) {
      const Token& existing = Next();
      const size_t* slot = FindLocal(existing.text);
      if (slot == nullptr) {
        return Fail(existing.offset, "unknown variable '" + std::string(existing.text) +
                                         "' as the out argument; declare it first or write "
                                         "'out var " +
                                         std::string(existing.text) + "'");
      }
      const bool is_array = local_types_[*slot].object_type == kArrayLocalType.object_type;
      return NodePtr(std::make_unique<OutArgumentNode>(out.offset, *slot, is_array));
    }
    const bool is_array = ArrayTypeAt(0);
    const Token& type = Next();
    if (is_array) position_ += 2;
    const Token& name = Next();
    if (type.kind != TokenKind::kIdentifier || name.kind != TokenKind::kIdentifier ||
        (!IsKeyword(type, "var") && !TypeForName(type.text) && type.text != "Jwt")) {
      return Fail(out.offset, "expected 'out var name' as the out argument");
    }
    if (FindLocal(name.text) != nullptr) {
      return Fail(name.offset, "the variable '" + std::string(name.text) +
                                   "' is already declared; choose another name");
    }
    size_t slot = local_types_.size();
    local_types_.push_back(is_array ? kArrayLocalType : kAnyType);
    scopes_.back().emplace_back(std::string(name.text), slot);
    return NodePtr(std::make_unique<OutArgumentNode>(out.offset, slot, is_array));
  }

  Result<NodePtr> ParseLambda() {
    const Token& name = Next();
    Next();  // =>
    if (FindLocal(name.text) != nullptr) {
      return Fail(name.offset, "the lambda parameter '" + std::string(name.text) +
                                   "' hides a variable of the same name; choose another name");
    }
    size_t slot = local_types_.size();
    local_types_.push_back(kAnyType);
    scopes_.emplace_back();
    scopes_.back().emplace_back(std::string(name.text), slot);
    auto body = ParseExpression();
    scopes_.pop_back();
    if (!body.ok()) return body.error();
    return Checked(std::make_unique<LambdaNode>(name.offset, slot, std::move(body).value()));
  }

  // Rejects lambdas and out arguments in calls that take neither.
  Status CheckPlainArguments(const std::vector<NodePtr>& args, std::string_view method) {
    for (const auto& arg : args) {
      if (dynamic_cast<const LambdaNode*>(arg.get()) != nullptr) {
        return Fail(arg->offset(), std::string(method) + " does not take a lambda");
      }
      if (dynamic_cast<const OutArgumentNode*>(arg.get()) != nullptr) {
        return Fail(arg->offset(), std::string(method) + " does not take an out argument");
      }
    }
    return OkStatus();
  }

  // Parses "<Type>" after a generic method name, as in GetValueOrDefault<string>(...).
  Result<std::optional<StaticType>> ParseGenericArgument() {
    if (!IsPunctuator(Peek(), "<") || Peek(1).kind != TokenKind::kIdentifier ||
        !IsPunctuator(Peek(2), ">") || !IsPunctuator(Peek(3), "(")) {
      return std::optional<StaticType>();
    }
    const Token& name = Peek(1);
    std::optional<StaticType> type = TypeForName(name.text);
    if (!type) {
      return Fail(name.offset, "unknown type '" + std::string(name.text) +
                                   "'; use string, int, long, bool, double, object, "
                                   "Authorization, JObject, JArray or JToken");
    }
    position_ += 3;
    return type;
  }

  Result<NodePtr> WrapGeneric(NodePtr node, std::optional<StaticType> generic) {
    if (!generic) return node;
    size_t offset = node->offset();
    return Checked(std::make_unique<CastNode>(offset, *generic, std::move(node)));
  }

  Result<NodePtr> ParsePostfix(NodePtr target) {
    bool conditional_chain = false;  // Set after ?. so the rest of the chain short-circuits.
    while (true) {
      const Token& token = Peek();
      bool conditional = IsPunctuator(token, "?.");
      if (IsPunctuator(token, "[") || IsPunctuator(token, "?[")) {
        Next();
        conditional_chain = conditional_chain || token.text == "?[";
        POLICY_ASSIGN_OR_RETURN(args, ParseArguments("]"));
        CREDGATE_RETURN_IF_ERROR(CheckPlainArguments(args, "the indexer"));
        POLICY_ASSIGN_OR_RETURN(
            index, Checked(std::make_unique<IndexNode>(token.offset, std::move(target),
                                                       std::move(args), conditional_chain)));
        target = std::move(index);
        continue;
      }
      if (!conditional && !IsPunctuator(token, ".")) return target;
      Next();
      conditional_chain = conditional_chain || conditional;
      const Token& name = Next();
      if (name.kind != TokenKind::kIdentifier) {
        return Fail(name.offset, "expected a member name after '" + std::string(token.text) +
                                     "', found " + Describe(name));
      }
      POLICY_ASSIGN_OR_RETURN(generic, ParseGenericArgument());
      if (!IsPunctuator(Peek(), "(")) {
        std::string error;
        std::optional<StaticType> type = MemberType(target->type(), name.text, &error);
        if (!type) return Fail(name.offset, error);
        POLICY_ASSIGN_OR_RETURN(member, Checked(std::make_unique<MemberNode>(
                                            name.offset, *type, std::move(target),
                                            std::string(name.text), conditional_chain)));
        target = std::move(member);
        continue;
      }
      Next();
      POLICY_ASSIGN_OR_RETURN(args, ParseArguments(")"));
      if (name.text == "As" && generic) {
        // Body.As<T>() of an IResponse receives T as its first argument.
        args.insert(args.begin(),
                    std::make_unique<LiteralNode>(name.offset, StaticType{StaticKind::kString},
                                                  Value(StaticTypeName(*generic))));
      }
      POLICY_ASSIGN_OR_RETURN(
          node, MakeMethod(std::move(target), name, std::move(args), conditional_chain));
      POLICY_ASSIGN_OR_RETURN(wrapped, WrapGeneric(std::move(node), generic));
      target = std::move(wrapped);
    }
  }

  Result<NodePtr> MakeMethod(NodePtr target, const Token& name, std::vector<NodePtr> args,
                             bool conditional) {
    std::optional<LinqMethod> linq = FindLinqMethod(name.text);
    bool is_string = target->type().kind == StaticKind::kString;
    bool has_lambda = !args.empty() && dynamic_cast<const LambdaNode*>(args[0].get()) != nullptr;
    // A LINQ name is a LINQ call unless the target is known to be a String, and only with a
    // lambda or no argument: "a".Contains("b") and list.Contains(x) stay ordinary methods.
    if (linq && is_string && has_lambda) {
      return Fail(name.offset, "String is not a sequence, so it has no method '" +
                                   std::string(name.text) + "'; use Split first");
    }
    if (linq && !is_string && (has_lambda || args.empty())) {
      return MakeLinq(*linq, std::move(target), name, std::move(args), conditional);
    }
    if (name.text == "TryParseJwt" && args.size() == 1 &&
        dynamic_cast<const OutArgumentNode*>(args[0].get()) != nullptr) {
      size_t slot = static_cast<const OutArgumentNode&>(*args[0]).slot();
      local_types_[slot] = StaticType{StaticKind::kObject, "Jwt"};
      return Checked(
          std::make_unique<TryParseJwtNode>(name.offset, std::move(target), slot, conditional));
    }
    if (name.text == "TryGetValue" && args.size() == 2 &&
        dynamic_cast<const OutArgumentNode*>(args[1].get()) != nullptr &&
        target->type().kind != StaticKind::kString) {
      const auto& out = static_cast<const OutArgumentNode&>(*args[1]);
      size_t slot = out.slot();
      local_types_[slot] = out.string_array() ? kArrayLocalType : kAnyType;
      NodePtr key = std::move(args[0]);
      return Checked(std::make_unique<TryGetValueNode>(
          name.offset, std::move(target), std::move(key), slot, conditional, out.string_array()));
    }
    CREDGATE_RETURN_IF_ERROR(CheckPlainArguments(args, name.text));
    const StringMethodInfo* string_method = FindStringMethod(name.text);
    StaticType type = kAnyType;
    if (target->type().kind == StaticKind::kString) {
      if (string_method == nullptr) {
        return Fail(name.offset, "unknown method '" + std::string(name.text) +
                                     "' on String; String has: " + StringMethodNames());
      }
      if (args.size() < string_method->min_args || args.size() > string_method->max_args) {
        return Fail(name.offset, "String." + std::string(name.text) + " takes " +
                                     std::to_string(string_method->min_args) +
                                     (string_method->max_args != string_method->min_args
                                          ? " to " + std::to_string(string_method->max_args)
                                          : std::string()) +
                                     " argument(s), not " + std::to_string(args.size()));
      }
      type = string_method->result;
    } else {
      std::string error;
      std::optional<StaticType> found = MethodType(target->type(), name.text, args.size(), &error);
      if (!found) return Fail(name.offset, error);
      type = *found;
    }
    return Checked(std::make_unique<MethodNode>(name.offset, type, std::move(target),
                                                std::string(name.text), string_method,
                                                std::move(args), conditional));
  }

  Result<NodePtr> MakeLinq(LinqMethod method, NodePtr target, const Token& name,
                           std::vector<NodePtr> args, bool conditional) {
    int arity = LinqLambdaArity(method);
    if (args.size() > 1 || (arity == 0 && !args.empty()) || (arity == 2 && args.empty())) {
      return Fail(name.offset,
                  std::string(name.text) + (arity == 0   ? " takes no argument"
                                            : arity == 1 ? " takes no argument or one lambda"
                                                         : " takes one lambda, as x => x != null"));
    }
    NodePtr lambda = args.empty() ? nullptr : std::move(args[0]);
    StaticKind target_kind = target->type().kind;
    if (target_kind != StaticKind::kAny && target_kind != StaticKind::kObject) {
      return Fail(name.offset, std::string(StaticTypeName(target->type())) +
                                   " is not a sequence, so it has no method '" +
                                   std::string(name.text) + "'");
    }
    bool predicate = method != LinqMethod::kSelect;
    if (lambda && predicate) {
      CREDGATE_RETURN_IF_ERROR(CheckBoolean(static_cast<const LambdaNode&>(*lambda).body(),
                                            "the lambda of " + std::string(name.text)));
    }
    return Checked(std::make_unique<LinqNode>(name.offset, method, std::string(name.text),
                                              std::move(target), std::move(lambda), conditional));
  }

  // Parses the holes of an interpolated string with the tokens of each hole in place of the
  // main token stream, so they share the block's variables.
  Result<NodePtr> ParseInterpolated(const Token& token) {
    std::vector<InterpolationNode::Part> parts;
    size_t height = 1;
    for (const InterpolationPart& piece : token.parts) {
      InterpolationNode::Part part{piece.literal, nullptr, piece.format};
      if (piece.hole_end > piece.hole_begin || piece.hole_begin != 0) {
        POLICY_ASSIGN_OR_RETURN(hole_tokens,
                                Tokenize(source_, piece.hole_begin, error_offset_, piece.hole_end));
        if (hole_tokens.size() == 1) {
          return Fail(piece.hole_begin, "an interpolation hole '{}' needs an expression");
        }
        std::vector<Token> saved = std::exchange(tokens_, std::move(hole_tokens));
        size_t saved_position = std::exchange(position_, 0);
        auto hole = Nested(&Parser::ParseExpression);
        bool at_end = hole.ok() && Peek().kind == TokenKind::kEnd;
        size_t stray = Peek().offset;
        std::string stray_text(Peek().text);
        tokens_ = std::move(saved);
        position_ = saved_position;
        if (!hole.ok()) return hole.error();
        if (!at_end) {
          return Fail(stray, "unexpected '" + stray_text + "' in the interpolation hole");
        }
        height = std::max(height, (*hole)->height() + 1);
        part.hole = std::move(hole).value();
      }
      parts.push_back(std::move(part));
    }
    return Checked(std::make_unique<InterpolationNode>(token.offset, std::move(parts), height));
  }

  // Returns the type of the value that a TryParse method writes to its out argument.
  static StaticType OutType(std::string_view function) {
    if (function.starts_with("double.")) return StaticType{StaticKind::kDouble};
    if (function.starts_with("bool.")) return kBoolType;
    return StaticType{StaticKind::kInt};
  }

  // Parses Regex.IsMatch(input, pattern[, options]), Regex.Match(input, pattern[, options]) or
  // Regex.Replace(input, pattern, replacement[, options]). A literal pattern is compiled now, so
  // a syntax error rejects the policy.
  Result<NodePtr> ParseRegexCall(const Token& class_token, const Token& name) {
    std::optional<RegexFunction> function;
    if (IsKeyword(name, "IsMatch")) function = RegexFunction::kIsMatch;
    if (IsKeyword(name, "Match")) function = RegexFunction::kMatch;
    if (IsKeyword(name, "Replace")) function = RegexFunction::kReplace;
    if (!function) {
      return Fail(name.offset, "unknown member '" + std::string(name.text) +
                                   "' of Regex; supported: IsMatch, Match, Replace");
    }
    CREDGATE_RETURN_IF_ERROR(Expect("(", "after the method name"));
    POLICY_ASSIGN_OR_RETURN(args, ParseArguments(")"));
    CREDGATE_RETURN_IF_ERROR(CheckPlainArguments(args, "Regex." + std::string(name.text)));

    bool ignore_case = false;
    auto* options = args.empty() ? nullptr : dynamic_cast<const StaticCallNode*>(args.back().get());
    if (options != nullptr && options->function().name.starts_with("RegexOptions.")) {
      ignore_case = options->function().name == "RegexOptions.IgnoreCase";
      args.pop_back();
    }
    size_t expected = *function == RegexFunction::kReplace ? 3 : 2;
    if (args.size() != expected) {
      return Fail(name.offset,
                  "Regex." + std::string(name.text) + " takes " + std::to_string(expected) +
                      " arguments and optionally RegexOptions, not " + std::to_string(args.size()));
    }

    std::shared_ptr<const boost::regex> compiled;
    if (auto* literal = dynamic_cast<const LiteralNode*>(args[1].get());
        literal != nullptr && literal->value().is_string()) {
      auto regex = CompileRegex(literal->value().AsString(), ignore_case);
      if (!regex.ok()) return Fail(literal->offset(), regex.error().message);
      compiled = std::move(regex).value();
    }
    return Checked(std::make_unique<RegexCallNode>(class_token.offset, *function, std::move(args),
                                                   std::move(compiled), ignore_case));
  }

  // Parses Class.Member or Class.Member(args) for a static class such as int or DateTime.
  Result<NodePtr> ParseStaticCall(const Token& class_token) {
    std::string class_name(class_token.text);
    CREDGATE_RETURN_IF_ERROR(Expect(".", "after '" + class_name + "'"));
    const Token* name = &Next();
    if (class_name == "Regex") return ParseRegexCall(class_token, *name);
    if (class_name == "Encoding" && IsKeyword(*name, "UTF8")) {
      class_name = "Encoding.UTF8";
      CREDGATE_RETURN_IF_ERROR(Expect(".", "after 'Encoding.UTF8'"));
      name = &Next();
    }
    const StaticFunction* function =
        name->kind == TokenKind::kIdentifier ? FindStaticFunction(class_name, name->text) : nullptr;
    if (function == nullptr) {
      return Fail(name->offset, "unknown member '" + std::string(name->text) + "' of " +
                                    class_name + "; supported: " + StaticMembersOf(class_name));
    }
    if (function->is_property) {
      return NodePtr(std::make_unique<StaticCallNode>(class_token.offset, *function,
                                                      std::vector<NodePtr>(), std::nullopt));
    }

    CREDGATE_RETURN_IF_ERROR(Expect("(", "after the method name"));
    POLICY_ASSIGN_OR_RETURN(args, ParseArguments(")"));
    std::optional<size_t> out_slot;
    if (function->takes_out && !args.empty()) {
      if (auto* out = dynamic_cast<const OutArgumentNode*>(args.back().get())) {
        out_slot = out->slot();
        local_types_[*out_slot] = OutType(function->name);
        args.pop_back();
      }
    }

    if (function->takes_out && !out_slot) {
      return Fail(name->offset, std::string(function->name) +
                                    " needs an out argument, as in (text, out var number)");
    }
    CREDGATE_RETURN_IF_ERROR(CheckPlainArguments(args, function->name));

    if (args.size() < function->min_args || args.size() > function->max_args) {
      std::string range = std::to_string(function->min_args);
      if (function->max_args == SIZE_MAX) {
        range += " or more";
      } else if (function->max_args != function->min_args) {
        range += " to " + std::to_string(function->max_args);
      }
      return Fail(name->offset, std::string(function->name) + " takes " + range +
                                    " argument(s), not " + std::to_string(args.size()));
    }
    return Checked(
        std::make_unique<StaticCallNode>(class_token.offset, *function, std::move(args), out_slot));
  }

  // Parses `new T(args)`, `new T(args) { items }` and `new T { items }` for the JSON types as a
  // call of the static function "T.new", with the initializer's items appended to the arguments.
  // A JObject's items are `{ name, value }` (the collection form, which calls Add) or
  // `[name] = value` (the index form), and each becomes a new JProperty(name, value). A JArray's
  // items are values. `new[] { items }`, `new string[] { items }` and `new List<T> { items }` make
  // an array.
  Result<NodePtr> ParseNew(const Token& new_token) {
    if (IsPunctuator(Peek(), "[") ||
        (Peek().kind == TokenKind::kIdentifier && IsPunctuator(Peek(1), "["))) {
      return ParseNewArray(new_token);
    }
    if (Peek().kind == TokenKind::kIdentifier && Peek().text == "List" &&
        IsPunctuator(Peek(1), "<")) {
      return ParseNewList(new_token);
    }
    const Token& type = Next();
    const StaticFunction* function =
        type.kind == TokenKind::kIdentifier ? FindStaticFunction(type.text, "new") : nullptr;
    if (function == nullptr || function->result.object_type == "Array") {
      return Fail(type.offset, "'new " + std::string(type.text) +
                                   "' is not supported; use new JObject(...), new JArray(...), "
                                   "new JProperty(name, value) or new[] { ... }");
    }
    std::vector<NodePtr> args;
    if (IsPunctuator(Peek(), "(") || !IsPunctuator(Peek(), "{")) {
      CREDGATE_RETURN_IF_ERROR(Expect("(", "after 'new " + std::string(type.text) + "'"));
      POLICY_ASSIGN_OR_RETURN(parsed, ParseArguments(")"));
      CREDGATE_RETURN_IF_ERROR(CheckPlainArguments(parsed, function->name));
      args = std::move(parsed);
    }
    if (IsPunctuator(Peek(), "{")) {
      if (type.text == "JProperty") {
        return Fail(Peek().offset, "new JProperty(name, value) takes no initializer");
      }
      POLICY_ASSIGN_OR_RETURN(items, ParseInitializer(/*object_items=*/type.text == "JObject"));
      for (NodePtr& item : items) args.push_back(std::move(item));
    }
    if (args.size() < function->min_args || args.size() > function->max_args) {
      return Fail(type.offset, "new " + std::string(type.text) + " takes " +
                                   std::to_string(function->min_args) + " argument(s), not " +
                                   std::to_string(args.size()));
    }
    return Checked(std::make_unique<StaticCallNode>(new_token.offset, *function, std::move(args),
                                                    std::nullopt));
  }

  // Parses `[] { items }` or `T[] { items }` after `new`, for an element type T that a cast
  // accepts. The array is a list, as String.Split returns.
  Result<NodePtr> ParseNewArray(const Token& new_token) {
    if (Peek().kind == TokenKind::kIdentifier) {
      const Token& element = Next();
      if (!TypeForName(element.text)) {
        return Fail(element.offset, "'new " + std::string(element.text) +
                                        "[]' is not supported; use an element type such as "
                                        "string, int or object");
      }
    }
    CREDGATE_RETURN_IF_ERROR(Expect("[", "after 'new'"));
    if (!IsPunctuator(Peek(), "]")) {
      return Fail(Peek().offset,
                  "an array size is not supported; list the items instead, as "
                  "in new[] { \"a\", \"b\" }");
    }
    Next();
    if (!IsPunctuator(Peek(), "{")) {
      return Fail(Peek().offset,
                  "expected '{' and the items of the array, found " + Describe(Peek()));
    }
    POLICY_ASSIGN_OR_RETURN(items, ParseInitializer(/*object_items=*/false));
    const StaticFunction* function = FindStaticFunction("Array", "new");
    return Checked(std::make_unique<StaticCallNode>(new_token.offset, *function, std::move(items),
                                                    std::nullopt));
  }

  // Parses `List<T>()`, `List<T> { items }` or `List<T>() { items }` after `new`, for an element
  // type T that a cast accepts. The list is an array like new[] { items }, so it has no Add.
  Result<NodePtr> ParseNewList(const Token& new_token) {
    Next();  // List
    Next();  // <
    const Token& element = Next();
    if (element.kind != TokenKind::kIdentifier || !TypeForName(element.text)) {
      return Fail(element.offset, "'new List<" + std::string(element.text) +
                                      ">' is not supported; use an element type such as "
                                      "string, int or object");
    }
    CREDGATE_RETURN_IF_ERROR(Expect(">", "after the element type of the List"));
    const bool has_parentheses = Accept("(");
    if (has_parentheses) {
      CREDGATE_RETURN_IF_ERROR(Expect(")", "because new List<T>() takes no arguments here"));
    }
    std::vector<NodePtr> items;
    if (IsPunctuator(Peek(), "{")) {
      POLICY_ASSIGN_OR_RETURN(parsed, ParseInitializer(/*object_items=*/false));
      items = std::move(parsed);
    } else if (!has_parentheses) {
      return Fail(Peek().offset, "expected '(' or '{' after 'new List<" +
                                     std::string(element.text) + ">', found " + Describe(Peek()));
    }
    const StaticFunction* function = FindStaticFunction("Array", "new");
    return Checked(std::make_unique<StaticCallNode>(new_token.offset, *function, std::move(items),
                                                    std::nullopt));
  }

  // Parses `{ item, item, ... }`, with an optional comma after the last item. `object_items`
  // selects the JObject forms `{ name, value }` and `[name] = value`, each compiled as
  // new JProperty(name, value).
  Result<std::vector<NodePtr>> ParseInitializer(bool object_items) {
    CREDGATE_RETURN_IF_ERROR(Expect("{", "to start the initializer"));
    std::vector<NodePtr> items;
    while (!Accept("}")) {
      const Token& start = Peek();
      if (!object_items) {
        POLICY_ASSIGN_OR_RETURN(value, Nested(&Parser::ParseExpression));
        items.push_back(std::move(value));
      } else if (Accept("{") || Accept("[")) {
        const bool index_form = start.text == "[";
        POLICY_ASSIGN_OR_RETURN(name, Nested(&Parser::ParseExpression));
        if (index_form) {
          CREDGATE_RETURN_IF_ERROR(Expect("]", "after the property name"));
          CREDGATE_RETURN_IF_ERROR(Expect("=", "after [name] in the initializer"));
        } else {
          CREDGATE_RETURN_IF_ERROR(Expect(",", "between the property name and value"));
        }
        POLICY_ASSIGN_OR_RETURN(value, Nested(&Parser::ParseExpression));
        if (!index_form) CREDGATE_RETURN_IF_ERROR(Expect("}", "after the property value"));
        std::vector<NodePtr> pair;
        pair.push_back(std::move(name));
        pair.push_back(std::move(value));
        const StaticFunction* property = FindStaticFunction("JProperty", "new");
        POLICY_ASSIGN_OR_RETURN(node, Checked(std::make_unique<StaticCallNode>(
                                          start.offset, *property, std::move(pair), std::nullopt)));
        items.push_back(std::move(node));
      } else {
        return Fail(start.offset,
                    "expected { name, value } or [name] = value in the JObject "
                    "initializer, found " +
                        Describe(start));
      }
      if (Accept("}")) break;
      CREDGATE_RETURN_IF_ERROR(Expect(",", "between the items of the initializer"));
    }
    return items;
  }

  Result<NodePtr> ParsePrimary() {
    const Token& token = Next();
    switch (token.kind) {
      case TokenKind::kString:
        return NodePtr(std::make_unique<LiteralNode>(token.offset, StaticType{StaticKind::kString},
                                                     Value(token.string_value)));
      case TokenKind::kInteger:
        return NodePtr(std::make_unique<LiteralNode>(token.offset, StaticType{StaticKind::kInt},
                                                     Value(token.integer_value)));
      case TokenKind::kReal:
        return NodePtr(std::make_unique<LiteralNode>(token.offset, StaticType{StaticKind::kDouble},
                                                     Value(token.real_value)));
      case TokenKind::kInterpolated:
        return ParseInterpolated(token);
      case TokenKind::kEnd:
        return Fail(token.offset, "unexpected end of the expression; a value is missing");
      case TokenKind::kPunctuator:
        if (token.text == "(") {
          POLICY_ASSIGN_OR_RETURN(inner, Nested(&Parser::ParseExpression));
          CREDGATE_RETURN_IF_ERROR(Expect(")", "to close the parenthesis"));
          return inner;
        }
        return Fail(token.offset, "expected a value, found '" + std::string(token.text) + "'");
      case TokenKind::kIdentifier:
        break;
    }
    std::string_view name = token.text;
    if (name == "true" || name == "false") {
      return NodePtr(std::make_unique<LiteralNode>(token.offset, kBoolType, Value(name == "true")));
    }
    if (name == "null") {
      return NodePtr(
          std::make_unique<LiteralNode>(token.offset, StaticType{StaticKind::kNull}, Value()));
    }
    if (name == "context") return ParseContext(token.offset);
    if (name == "new") return ParseNew(token);
    if (const size_t* slot = FindLocal(name)) {
      return NodePtr(std::make_unique<LocalNode>(token.offset, *slot, local_types_[*slot]));
    }
    if (IsStaticClass(name) && IsPunctuator(Peek(), ".")) return ParseStaticCall(token);
    return Fail(token.offset, "unknown identifier '" + std::string(name) +
                                  "'; an expression starts from 'context', a literal or a "
                                  "variable declared in the block");
  }

  // Resolves context.A.B... to a ContextField at compile time.
  Result<NodePtr> ParseContext(size_t offset) {
    ContextField field = ContextField::kRoot;
    bool conditional = false;
    while (IsPunctuator(Peek(), ".") || IsPunctuator(Peek(), "?.")) {
      const Token& name = Peek(1);
      if (name.kind != TokenKind::kIdentifier) break;
      const ContextFieldInfo* member = FindContextMember(field, name.text);
      if (member == nullptr) {
        if (InfoOf(field).shape != FieldShape::kGroup) break;
        return Fail(name.offset, "unknown member '" + std::string(name.text) + "' of " +
                                     PathOf(field) + "; its members are: " + MemberNamesOf(field));
      }
      conditional = conditional || IsPunctuator(Peek(), "?.");
      position_ += 2;
      field = member->field;
      offset = name.offset;
      if (member->shape == FieldShape::kDictionary) return ParseContextDictionary(field, offset);
      if (member->shape == FieldShape::kBody) return ParseBody(field, offset);
    }
    if (InfoOf(field).shape == FieldShape::kGroup) {
      return Fail(offset, PathOf(field) +
                              " is not a value; use one of its members: " + MemberNamesOf(field));
    }
    return NodePtr(std::make_unique<ContextValueNode>(offset, field, conditional));
  }

  // Parses .As<T>(preserveContent: true) after context.Request.Body or context.Response.Body.
  Result<NodePtr> ParseBody(ContextField field, size_t offset) {
    const std::string usage = PathOf(field) +
                              " is read with As<string>(), As<JObject>(), "
                              "As<JArray>() or As<JToken>()";
    if (!IsPunctuator(Peek(), ".") || !IsKeyword(Peek(1), "As") || !IsPunctuator(Peek(2), "<") ||
        Peek(3).kind != TokenKind::kIdentifier || !IsPunctuator(Peek(4), ">") ||
        !IsPunctuator(Peek(5), "(")) {
      return Fail(offset, usage);
    }
    const Token& type = Peek(3);
    position_ += 6;
    BodyFormat format;
    StaticType static_type;
    if (type.text == "string" || type.text == "String") {
      format = BodyFormat::kString;
      static_type = StaticType{StaticKind::kString};
    } else if (type.text == "JObject") {
      format = BodyFormat::kJObject;
      static_type = StaticType{StaticKind::kObject, "JObject"};
    } else if (type.text == "JArray") {
      format = BodyFormat::kJArray;
      static_type = StaticType{StaticKind::kObject, "JArray"};
    } else if (type.text == "JToken") {
      format = BodyFormat::kJToken;
      static_type = StaticType{StaticKind::kObject, "JToken"};
    } else {
      return Fail(type.offset, usage);
    }
    // The one argument, preserveContent, may be named or not. Its value does not matter,
    // because the gateway keeps the body either way.
    if (!Accept(")")) {
      if (IsKeyword(Peek(), "preserveContent") && IsPunctuator(Peek(1), ":")) position_ += 2;
      POLICY_ASSIGN_OR_RETURN(preserve, ParseExpression());
      CREDGATE_RETURN_IF_ERROR(CheckBoolean(*preserve, "preserveContent"));
      CREDGATE_RETURN_IF_ERROR(Expect(")", "after preserveContent"));
    }
    return NodePtr(std::make_unique<BodyNode>(offset, static_type,
                                              field == ContextField::kResponseBody, format));
  }

  Result<NodePtr> ParseContextDictionary(ContextField field, size_t offset) {
    StaticType value_type =
        field == ContextField::kVariables ? kAnyType : StaticType{StaticKind::kString};
    if (IsPunctuator(Peek(), "[")) {
      size_t index_offset = Next().offset;
      POLICY_ASSIGN_OR_RETURN(args, ParseArguments("]"));
      CREDGATE_RETURN_IF_ERROR(CheckPlainArguments(args, "the indexer"));
      if (args.size() != 1) return Fail(index_offset, "the indexer takes one key");
      return Checked(std::make_unique<ContextCallNode>(
          index_offset, field, DictionaryMethod::kIndexer, std::move(args), value_type));
    }
    if (IsPunctuator(Peek(), ".") && Peek(1).kind == TokenKind::kIdentifier) {
      const Token& name = Peek(1);
      std::optional<DictionaryMethod> method;
      if (name.text == "GetValueOrDefault") method = DictionaryMethod::kGetValueOrDefault;
      if (name.text == "ContainsKey") method = DictionaryMethod::kContainsKey;
      if (method) {
        position_ += 2;
        POLICY_ASSIGN_OR_RETURN(generic, ParseGenericArgument());
        CREDGATE_RETURN_IF_ERROR(Expect("(", "after the method name"));
        POLICY_ASSIGN_OR_RETURN(args, ParseArguments(")"));
        CREDGATE_RETURN_IF_ERROR(CheckPlainArguments(args, name.text));
        size_t max_args = *method == DictionaryMethod::kGetValueOrDefault ? 2 : 1;
        if (args.empty() || args.size() > max_args) {
          return Fail(name.offset, PathOf(field) + "." + std::string(name.text) + " takes " +
                                       (max_args == 2 ? "1 or 2" : "1") + " argument(s), not " +
                                       std::to_string(args.size()));
        }
        StaticType type = *method == DictionaryMethod::kContainsKey ? kBoolType : value_type;
        if (*method == DictionaryMethod::kGetValueOrDefault && args.size() == 2 &&
            args[1]->type().kind != value_type.kind) {
          type = kAnyType;
        }
        POLICY_ASSIGN_OR_RETURN(call, Checked(std::make_unique<ContextCallNode>(
                                          name.offset, field, *method, std::move(args), type)));
        return WrapGeneric(std::move(call), generic);
      }
    }
    return NodePtr(std::make_unique<ContextValueNode>(offset, field, false));
  }

  std::string_view source_;
  std::vector<Token> tokens_;
  size_t position_ = 0;
  size_t* error_offset_;
  size_t depth_ = 0;  // Nested() levels around the cursor.
  std::vector<std::vector<std::pair<std::string, size_t>>> scopes_;
  std::vector<StaticType> local_types_;
  bool always_returns_ = false;  // Whether the statement parsed last always returns.
};

}  // namespace

Result<ParsedExpression> ParseExpression(std::string_view text, size_t* error_offset) {
  if (!text.starts_with("@(") && !text.starts_with("@{")) {
    if (error_offset != nullptr) *error_offset = 0;
    return MakeError(ErrorCode::kInvalidArgument,
                     "an expression starts with '@(' or '@{' at column 1 of the expression");
  }
  POLICY_ASSIGN_OR_RETURN(tokens, Tokenize(text, /*start=*/1, error_offset));
  Parser parser(text, std::move(tokens), error_offset);
  return parser.ParseRoot();
}

}  // namespace credgate::policy::internal
