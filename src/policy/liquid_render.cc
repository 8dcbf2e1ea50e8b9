// Renders a compiled Liquid template (liquid_nodes.h) against a JSON object of globals.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "policy/liquid_nodes.h"
#include "policy/liquid_template.h"

namespace credgate::policy::liquid {

namespace json = boost::json;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Returns member `name` of `object`: the exact key, else a key that differs in ASCII case only,
// so that context.Request.Headers["content-type"] finds "Content-Type".
const json::value* FindMember(const json::object& object, std::string_view name) {
  if (const json::value* exact = object.if_contains(name)) return exact;
  for (const auto& member : object) {
    if (EqualsIgnoreCase(member.key(), name)) return &member.value();
  }
  return nullptr;
}

const json::value kNil;

// The value of an expression: a pointer into the globals, the template or a loop's collection,
// or a value computed by a filter or taken from an assigned variable.
struct Ref {
  const json::value* pointer = &kNil;
  json::value owned;
  bool is_owned = false;

  const json::value& get() const { return is_owned ? owned : *pointer; }
  static Ref Own(json::value value) {
    Ref ref;
    ref.owned = std::move(value);
    ref.is_owned = true;
    return ref;
  }
};

bool IsEmptyValue(const json::value& value) {
  if (value.is_string()) return value.get_string().empty();
  if (value.is_array()) return value.get_array().empty();
  if (value.is_object()) return value.get_object().empty();
  return false;
}

bool IsBlankValue(const json::value& value) {
  if (value.is_null()) return true;
  if (value.is_bool()) return !value.get_bool();
  if (value.is_string()) {
    for (char c : value.get_string()) {
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
  }
  return IsEmptyValue(value);
}

bool IsNumber(const json::value& value) {
  return value.is_int64() || value.is_uint64() || value.is_double();
}

bool LiquidEquals(const json::value& a, const json::value& b) {
  if (IsNumber(a) && IsNumber(b)) return a.to_number<double>() == b.to_number<double>();
  return a == b;
}

// Returns <0, 0 or >0, or nullopt when the two values have no order.
std::optional<int> Order(const json::value& a, const json::value& b) {
  if (IsNumber(a) && IsNumber(b)) {
    double x = a.to_number<double>();
    double y = b.to_number<double>();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    int compared = std::string_view(a.get_string()).compare(std::string_view(b.get_string()));
    return compared < 0 ? -1 : (compared > 0 ? 1 : 0);
  }
  return std::nullopt;
}

class Renderer {
 public:
  explicit Renderer(const json::object& globals) : globals_(globals) {}

  Status RenderBlock(const Block& block, std::string& out) {
    for (const Node& node : block.nodes) {
      CREDGATE_RETURN_IF_ERROR(RenderNode(node, out));
      if (jump_ != Jump::kNone) return OkStatus();
    }
    return OkStatus();
  }

 private:
  enum class Jump { kNone, kBreak, kContinue };

  struct LoopVariable {
    std::string_view name;
    const json::value* value;
  };

  // Appends to the output or to a capture. Text written into a capture counts toward the limit
  // too, so a capture inside a loop cannot copy without end.
  Status Append(std::string& out, std::string_view text) {
    if (written_ + text.size() > kMaxRenderBytes) {
      return MakeError(ErrorCode::kInvalidArgument, "the Liquid template's output exceeds " +
                                                        std::to_string(kMaxRenderBytes) + " bytes");
    }
    written_ += text.size();
    out.append(text);
    return OkStatus();
  }

  Status RenderNode(const Node& node, std::string& out) {
    if (const auto* text = std::get_if<TextNode>(&node.content)) return Append(out, text->text);
    if (const auto* output = std::get_if<OutputNode>(&node.content)) {
      auto value = EvaluateOutput(output->output);
      if (!value.ok()) return value.error();
      return Append(out, ToText(value->get()));
    }
    if (const auto* branch = std::get_if<IfNode>(&node.content)) return RenderIf(*branch, out);
    if (const auto* cases = std::get_if<CaseNode>(&node.content)) return RenderCase(*cases, out);
    if (const auto* loop = std::get_if<ForNode>(&node.content)) return RenderFor(*loop, out);
    if (const auto* assign = std::get_if<AssignNode>(&node.content)) {
      auto value = EvaluateOutput(assign->value);
      if (!value.ok()) return value.error();
      json::value stored = value->get();
      assigned_[assign->name] = std::move(stored);
      return OkStatus();
    }
    if (const auto* capture = std::get_if<CaptureNode>(&node.content)) {
      std::string captured;
      CREDGATE_RETURN_IF_ERROR(RenderBlock(capture->body, captured));
      assigned_[capture->name] = json::string(captured);
      return OkStatus();
    }
    const auto& jump = std::get<LoopJumpNode>(node.content);
    // Outside a loop, break and continue end the rendering of the enclosing blocks, as in Liquid.
    jump_ = jump.is_break ? Jump::kBreak : Jump::kContinue;
    return OkStatus();
  }

  Status RenderIf(const IfNode& node, std::string& out) {
    for (const IfNode::Branch& branch : node.branches) {
      auto matches = EvaluateCondition(branch.condition);
      if (!matches.ok()) return matches.error();
      if (*matches != branch.negate) return RenderBlock(branch.body, out);
    }
    if (node.else_body) return RenderBlock(*node.else_body, out);
    return OkStatus();
  }

  Status RenderCase(const CaseNode& node, std::string& out) {
    auto subject = Evaluate(node.subject);
    if (!subject.ok()) return subject.error();
    for (const CaseNode::When& when : node.whens) {
      for (const Expr& value : when.values) {
        auto matches = Compare(subject->get(), "==", value);
        if (!matches.ok()) return matches.error();
        if (*matches) return RenderBlock(when.body, out);
      }
    }
    if (node.else_body) return RenderBlock(*node.else_body, out);
    return OkStatus();
  }

  Result<int64_t> EvaluateInteger(const Expr& expr, std::string_view what) {
    auto value = Evaluate(expr);
    if (!value.ok()) return value.error();
    std::optional<double> number = ToNumber(value->get());
    if (!number || !std::isfinite(*number) || std::fabs(*number) > 1e15) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "the Liquid " + std::string(what) + " '" + ToText(value->get()) + "' is not an integer");
    }
    return static_cast<int64_t>(*number);
  }

  Status RenderFor(const ForNode& node, std::string& out) {
    // The items to walk: a range is walked by number and never materialized.
    json::array items;
    const json::array* array = &items;
    std::optional<Ref> collection;
    int64_t range_from = 0;
    int64_t range_count = 0;
    const bool is_range = node.collection.kind == Expr::Kind::kRange;
    if (is_range) {
      auto from = EvaluateInteger(*node.collection.range_from, "range start");
      if (!from.ok()) return from.error();
      auto to = EvaluateInteger(*node.collection.range_to, "range end");
      if (!to.ok()) return to.error();
      range_from = *from;
      range_count = *to >= *from ? *to - *from + 1 : 0;
    } else {
      assigned_pointer_ = false;
      auto value = Evaluate(node.collection);
      if (!value.ok()) return value.error();
      collection = std::move(value).value();
      // An assigned variable can be replaced by an assign inside the loop, so walk a copy.
      if (!collection->is_owned && assigned_pointer_) collection = Ref::Own(collection->get());
      const json::value& walked = collection->get();
      if (walked.is_array()) {
        array = &walked.get_array();
      } else if (walked.is_object()) {
        // Liquid walks a hash as [key, value] pairs.
        for (const auto& member : walked.get_object()) {
          json::array pair;
          pair.emplace_back(member.key());
          pair.push_back(member.value());
          items.push_back(std::move(pair));
        }
      } else if (!walked.is_null() && !(walked.is_string() && walked.get_string().empty())) {
        items.push_back(walked);
      }
      range_count = static_cast<int64_t>(array->size());
    }

    int64_t offset = 0;
    if (node.offset) {
      auto value = EvaluateInteger(*node.offset, "offset");
      if (!value.ok()) return value.error();
      offset = std::clamp<int64_t>(*value, 0, range_count);
    }
    int64_t count = range_count - offset;
    if (node.limit) {
      auto value = EvaluateInteger(*node.limit, "limit");
      if (!value.ok()) return value.error();
      count = std::clamp<int64_t>(*value, 0, count);
    }
    if (count == 0) {
      if (node.else_body) return RenderBlock(*node.else_body, out);
      return OkStatus();
    }

    json::value item;
    const size_t variables_before = loop_variables_.size();
    loop_variables_.push_back({node.variable, &item});
    loop_variables_.push_back({"forloop", nullptr});
    json::value forloop_value;
    for (int64_t i = 0; i < count; ++i) {
      if (++iterations_ > kMaxRenderIterations) {
        loop_variables_.resize(variables_before);
        return MakeError(ErrorCode::kInvalidArgument, "the Liquid template's loops ran more than " +
                                                          std::to_string(kMaxRenderIterations) +
                                                          " iterations");
      }
      int64_t position = node.reversed ? offset + count - 1 - i : offset + i;
      if (is_range) {
        item = range_from + position;
        loop_variables_[variables_before].value = &item;
      } else {
        loop_variables_[variables_before].value = &(*array)[static_cast<size_t>(position)];
      }
      json::object forloop;
      forloop["index"] = i + 1;
      forloop["index0"] = i;
      forloop["rindex"] = count - i;
      forloop["rindex0"] = count - i - 1;
      forloop["first"] = i == 0;
      forloop["last"] = i == count - 1;
      forloop["length"] = count;
      forloop_value = std::move(forloop);
      loop_variables_[variables_before + 1].value = &forloop_value;
      Status status = RenderBlock(node.body, out);
      if (!status.ok()) {
        loop_variables_.resize(variables_before);
        return status;
      }
      if (jump_ == Jump::kBreak) {
        jump_ = Jump::kNone;
        break;
      }
      jump_ = Jump::kNone;
    }
    loop_variables_.resize(variables_before);
    return OkStatus();
  }

  Result<bool> EvaluateCondition(const Condition& condition) {
    // Liquid joins from the right: a or b and c is a or (b and c).
    size_t last = condition.terms.size() - 1;
    auto result = EvaluateComparison(condition.terms[last]);
    if (!result.ok()) return result;
    for (size_t i = last; i-- > 0;) {
      bool right = *result;
      if (condition.joined_by_and[i] && !right) continue;
      if (!condition.joined_by_and[i] && right) continue;
      result = EvaluateComparison(condition.terms[i]);
      if (!result.ok()) return result;
    }
    return result;
  }

  Result<bool> EvaluateComparison(const Comparison& comparison) {
    auto left = Evaluate(comparison.left);
    if (!left.ok()) return left.error();
    if (comparison.op.empty()) {
      if (comparison.left.kind == Expr::Kind::kEmpty ||
          comparison.left.kind == Expr::Kind::kBlank) {
        return true;
      }
      return IsTruthy(left->get());
    }
    return Compare(left->get(), comparison.op, comparison.right);
  }

  Result<bool> Compare(const json::value& left, std::string_view op, const Expr& right_expr) {
    if (right_expr.kind == Expr::Kind::kEmpty || right_expr.kind == Expr::Kind::kBlank) {
      bool matches =
          right_expr.kind == Expr::Kind::kEmpty ? IsEmptyValue(left) : IsBlankValue(left);
      if (op == "==") return matches;
      if (op == "!=") return !matches;
      return false;
    }

    auto right_ref = Evaluate(right_expr);
    if (!right_ref.ok()) return right_ref.error();
    const json::value& right = right_ref->get();
    if (op == "==") return LiquidEquals(left, right);
    if (op == "!=") return !LiquidEquals(left, right);

    if (op == "contains") {
      if (left.is_string()) {
        return std::string_view(left.get_string()).find(ToText(right)) != std::string_view::npos;
      }
      if (left.is_array()) {
        for (const json::value& item : left.get_array()) {
          if (LiquidEquals(item, right)) return true;
        }
        return false;
      }
      if (left.is_object() && right.is_string()) {
        return left.get_object().contains(right.get_string());
      }
      return false;
    }

    std::optional<int> order = Order(left, right);
    if (!order) return false;
    if (op == "<") return *order < 0;
    if (op == ">") return *order > 0;
    if (op == "<=") return *order <= 0;
    return *order >= 0;
  }

  Result<Ref> EvaluateOutput(const Output& output) {
    auto value = Evaluate(output.value);
    if (!value.ok()) return value;
    if (output.filters.empty()) return value;
    json::value current = value->get();
    std::vector<json::value> args;
    for (const FilterCall& call : output.filters) {
      args.clear();
      for (const Expr& arg : call.args) {
        auto evaluated = Evaluate(arg);
        if (!evaluated.ok()) return evaluated.error();
        args.push_back(evaluated->get());
      }
      auto filtered = call.spec->function(current, args);
      if (!filtered.ok()) return filtered.error();
      current = std::move(filtered).value();
      // Each filter's result is bounded by a multiple of its inputs, so this check stops a chain
      // or a loop of filters that would grow a string without end.
      if (current.is_string() && current.get_string().size() > kMaxRenderBytes) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "Liquid filter " + std::string(call.spec->name) + ": the result exceeds " +
                             std::to_string(kMaxRenderBytes) + " bytes");
      }
    }
    return Ref::Own(std::move(current));
  }

  const json::value* LookUp(std::string_view name) {
    for (size_t i = loop_variables_.size(); i-- > 0;) {
      if (loop_variables_[i].name == name) return loop_variables_[i].value;
    }
    if (const json::value* value = assigned_.if_contains(name)) {
      assigned_pointer_ = true;
      return value;
    }
    return globals_.if_contains(name);
  }

  Result<Ref> Evaluate(const Expr& expr) {
    switch (expr.kind) {
      case Expr::Kind::kLiteral: {
        Ref ref;
        ref.pointer = &expr.literal;
        return ref;
      }
      case Expr::Kind::kEmpty:
        return Ref::Own(json::string());
      case Expr::Kind::kBlank:
        return Ref::Own(json::string());
      case Expr::Kind::kRange:
        return EvaluateRange(expr);
      case Expr::Kind::kVariable:
        break;
    }
    const json::value* current = LookUp(expr.root);
    Ref ref;
    for (const Expr::Step& step : expr.steps) {
      if (current == nullptr) break;
      if (step.index) {
        // The index is evaluated into a copy, because evaluating it may overwrite `ref`.
        auto index = Evaluate(*step.index);
        if (!index.ok()) return index.error();
        json::value key = index->get();
        current = Index(*current, key, &ref);
      } else {
        current = Member(*current, step.member, &ref);
      }
    }
    if (current == nullptr) return Ref();
    if (current == &ref.owned) {
      ref.is_owned = true;
      return ref;
    }
    Ref result;
    result.pointer = current;
    return result;
  }

  Result<Ref> EvaluateRange(const Expr& expr) {
    auto from = EvaluateInteger(*expr.range_from, "range start");
    if (!from.ok()) return from.error();
    auto to = EvaluateInteger(*expr.range_to, "range end");
    if (!to.ok()) return to.error();
    if (*to >= *from && *to - *from >= static_cast<int64_t>(kMaxRenderIterations)) {
      return MakeError(
          ErrorCode::kInvalidArgument,
          "the Liquid range has more than " + std::to_string(kMaxRenderIterations) + " items");
    }
    json::array items;
    for (int64_t i = *from; i <= *to; ++i) items.push_back(i);
    return Ref::Own(std::move(items));
  }

  // Returns member `name` of `value`, or the size, first or last item that Liquid offers on
  // arrays, strings and objects. A computed value is stored in `scratch->owned`.
  static const json::value* Member(const json::value& value, std::string_view name, Ref* scratch) {
    if (value.is_object()) {
      if (const json::value* member = FindMember(value.get_object(), name)) return member;
      if (name == "size") {
        scratch->owned = static_cast<int64_t>(value.get_object().size());
        return &scratch->owned;
      }
      return nullptr;
    }
    if (value.is_array()) {
      const json::array& array = value.get_array();
      if (name == "size") {
        scratch->owned = static_cast<int64_t>(array.size());
        return &scratch->owned;
      }
      if (name == "first") return array.empty() ? nullptr : &array.front();
      if (name == "last") return array.empty() ? nullptr : &array.back();
      return nullptr;
    }
    if (value.is_string() && name == "size") {
      scratch->owned = static_cast<int64_t>(value.get_string().size());
      return &scratch->owned;
    }
    return nullptr;
  }

  static const json::value* Index(const json::value& value, const json::value& key, Ref* scratch) {
    if (value.is_array() && IsNumber(key)) {
      const json::array& array = value.get_array();
      const double number = key.to_number<double>();
      if (!(std::fabs(number) <= 1e15)) return nullptr;  // Also rejects NaN.
      auto index = static_cast<int64_t>(number);
      if (index < 0) index += static_cast<int64_t>(array.size());
      if (index < 0 || index >= static_cast<int64_t>(array.size())) return nullptr;
      return &array[static_cast<size_t>(index)];
    }
    if (key.is_string()) return Member(value, key.get_string(), scratch);
    return nullptr;
  }

  const json::object& globals_;
  json::object assigned_;
  std::vector<LoopVariable> loop_variables_;
  size_t iterations_ = 0;
  size_t written_ = 0;  // Bytes appended to the output and to captures.
  Jump jump_ = Jump::kNone;
  // Set when a variable lookup resolved to an assigned variable since it was last cleared.
  bool assigned_pointer_ = false;
};

}  // namespace

std::string ToText(const json::value& value) {
  switch (value.kind()) {
    case json::kind::null:
      return "";
    case json::kind::bool_:
      return value.get_bool() ? "true" : "false";
    case json::kind::int64:
      return std::to_string(value.get_int64());
    case json::kind::uint64:
      return std::to_string(value.get_uint64());
    case json::kind::double_: {
      double number = value.get_double();
      if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 1e15) {
        // .NET writes a whole double without a fraction: 3.0 renders as "3".
        return std::to_string(static_cast<int64_t>(number));
      }
      char buffer[32];
      char* end = std::to_chars(buffer, buffer + sizeof(buffer), number).ptr;
      return std::string(buffer, end);
    }
    case json::kind::string:
      return std::string(value.get_string());
    case json::kind::array: {
      std::string text;
      for (const json::value& item : value.get_array()) text += ToText(item);
      return text;
    }
    case json::kind::object: {
      // An object that carries its text form, such as context.Request.Url, renders as that.
      const json::value* text = value.get_object().if_contains("ToString");
      if (text != nullptr && text->is_string()) return std::string(text->get_string());
      return json::serialize(value);
    }
  }
  return "";
}

bool IsTruthy(const json::value& value) {
  return !value.is_null() && !(value.is_bool() && !value.get_bool());
}

std::optional<double> ToNumber(const json::value& value) {
  if (IsNumber(value)) return value.to_number<double>();
  if (!value.is_string()) return std::nullopt;
  std::string_view text = value.get_string();
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  double number = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return number;
}

Result<std::string> Template::Render(const json::object& globals) const {
  Renderer renderer(globals);
  std::string out;
  Status status = renderer.RenderBlock(*root_, out);
  if (!status.ok()) return status.error();
  return out;
}

}  // namespace credgate::policy::liquid
