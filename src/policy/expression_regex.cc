#include "policy/expression_regex.h"

#include <string>

namespace credgate::policy::internal {

namespace {

// One group of a match: Success, Value, Index and Length, as .NET's Group.
class Group final : public Object {
 public:
  Group(bool success, std::string value, int64_t index)
      : success_(success), value_(std::move(value)), index_(index) {}

  std::string_view TypeName() const override { return "Group"; }
  std::string ToString() const override { return value_; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Success") return Value(success_);
    if (name == "Value") return Value(value_);
    if (name == "Index") return Value(index_);
    if (name == "Length") return Value(static_cast<int64_t>(value_.size()));
    return Object::GetMember(name);
  }

 private:
  bool success_;
  std::string value_;
  int64_t index_;
};

// The result of one regex_search. The match positions point into `input`, which it owns.
struct MatchData {
  std::shared_ptr<const boost::regex> regex;
  std::string input;
  boost::smatch match;

  bool Success() const { return !match.empty() && match[0].matched; }

  Group GroupAt(size_t index) const {
    if (!Success() || index >= match.size() || !match[index].matched) return Group(false, "", 0);
    return Group(true, match.str(index), match.position(index));
  }

  // A name that the pattern does not define reads as an unsuccessful group, as in .NET.
  Group GroupNamed(const std::string& name) const {
    if (!Success()) return Group(false, "", 0);
    int index = match.named_subexpression_index(name.data(), name.data() + name.size());
    if (index < 0) return Group(false, "", 0);
    return GroupAt(static_cast<size_t>(index));
  }
};

// Match.Groups, indexed by number or by the name of a (?<name>...) group.
class Groups final : public Object {
 public:
  explicit Groups(std::shared_ptr<const MatchData> data) : data_(std::move(data)) {}
  std::string_view TypeName() const override { return "GroupCollection"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Count") return Value(static_cast<int64_t>(data_->match.size()));
    return Object::GetMember(name);
  }

  Result<Value> CallMethod(std::string_view name, std::span<const Value> args) const override {
    if (name != kIndexerMethod || args.size() != 1) return Object::CallMethod(name, args);
    Group group = args[0].is_int() && args[0].AsInt() >= 0
                      ? data_->GroupAt(static_cast<size_t>(args[0].AsInt()))
                      : data_->GroupNamed(args[0].ToString());
    return Value(std::make_shared<const Group>(std::move(group)));
  }

 private:
  std::shared_ptr<const MatchData> data_;
};

// Regex.Match's result: Success, Value, Index, Length of the whole match, and Groups.
class Match final : public Object {
 public:
  explicit Match(std::shared_ptr<const MatchData> data) : data_(std::move(data)) {}

  std::string_view TypeName() const override { return "Match"; }
  std::string ToString() const override { return data_->GroupAt(0).ToString(); }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "Groups") return Value(std::make_shared<const Groups>(data_));
    if (name == "Success" || name == "Value" || name == "Index" || name == "Length") {
      return data_->GroupAt(0).GetMember(name);
    }
    return Object::GetMember(name);
  }

 private:
  std::shared_ptr<const MatchData> data_;
};

Result<std::string> StringArgument(const Value& value, std::string_view what) {
  if (!value.is_string()) {
    return MakeError(ErrorCode::kInvalidArgument, "Regex: the " + std::string(what) +
                                                      " must be a String, not " +
                                                      std::string(value.TypeName()));
  }
  return value.AsString();
}

}  // namespace

Result<std::shared_ptr<const boost::regex>> CompileRegex(const std::string& pattern,
                                                         bool ignore_case) {
  boost::regex::flag_type flags = boost::regex::perl;
  if (ignore_case) flags |= boost::regex::icase;
  // Boost.Regex reports a syntax error only by exception, which carries the position.
  try {
    return std::shared_ptr<const boost::regex>(std::make_shared<boost::regex>(pattern, flags));
  } catch (const boost::regex_error& error) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid regular expression '" + pattern + "' at character " +
                         std::to_string(error.position() + 1) + ": " + error.what());
  }
}

StaticType RegexCallNode::TypeOf(RegexFunction function) {
  switch (function) {
    case RegexFunction::kIsMatch:
      return StaticType{StaticKind::kBool};
    case RegexFunction::kMatch:
      return StaticType{StaticKind::kObject, "Match"};
    case RegexFunction::kReplace:
      return StaticType{StaticKind::kString};
  }
  return {};
}

Result<Value> RegexCallNode::Evaluate(EvalFrame& frame) const {
  ArgumentValues args;
  CREDGATE_RETURN_IF_ERROR(EvaluateAll(args_, frame, args));
  auto input = StringArgument(args[0], "input");
  if (!input.ok()) return Fail(input.error().message);
  std::shared_ptr<const boost::regex> regex = compiled_;
  if (!regex) {
    auto pattern = StringArgument(args[1], "pattern");
    if (!pattern.ok()) return Fail(pattern.error().message);
    auto compiled = CompileRegex(*pattern, ignore_case_);
    if (!compiled.ok()) return Fail(compiled.error().message);
    regex = std::move(compiled).value();
  }

  // Boost.Regex throws when a match exceeds its complexity limit, which a hostile input can
  // reach. The request path must not throw, so that becomes an evaluation failure.
  try {
    switch (function_) {
      case RegexFunction::kIsMatch:
        return Value(boost::regex_search(*input, *regex));
      case RegexFunction::kReplace: {
        auto replacement = StringArgument(args[2], "replacement");
        if (!replacement.ok()) return Fail(replacement.error().message);
        return Value(boost::regex_replace(*input, *regex, *replacement,
                                          boost::format_perl | boost::match_default));
      }
      case RegexFunction::kMatch: {
        auto data = std::make_shared<MatchData>();
        data->regex = std::move(regex);
        data->input = std::move(input).value();
        boost::regex_search(data->input, data->match, *data->regex);
        return Value(std::make_shared<const Match>(std::move(data)));
      }
    }
  } catch (const std::exception& error) {
    return Fail(std::string("the regular expression failed: ") + error.what());
  }
  return Value();
}

}  // namespace credgate::policy::internal
