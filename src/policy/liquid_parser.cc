// Compiles a Liquid template into the tree of liquid_nodes.h. The template is split into text,
// {{ output }} and {% tag %} segments. The markup of each segment is parsed by liquid_markup.h,
// and tags with a body (if, unless, case, for, capture) collect the segments up to their end tag.
#include <algorithm>
#include <string_view>

#include "policy/liquid_markup.h"
#include "policy/liquid_nodes.h"
#include "policy/liquid_template.h"

namespace credgate::policy::liquid {

namespace {

// A piece of the template between tags: text, {{ output }} or {% tag %}.
struct Segment {
  enum class Kind { kText, kOutput, kTag };
  Kind kind = Kind::kText;
  std::string text;  // kText: the text; kTag: the tag name.
  Markup markup;     // kOutput: the whole markup; kTag: the markup after the tag name.
  size_t offset = 0;
};

// Returns the tag name and the offset after it in `markup`.
std::pair<std::string_view, size_t> TagName(std::string_view markup) {
  size_t start = 0;
  while (start < markup.size() && IsSpace(markup[start])) ++start;
  size_t end = start;
  while (end < markup.size() && IsIdentChar(markup[end])) ++end;
  return {markup.substr(start, end - start), end};
}

bool IsIntermediateOrEndTag(std::string_view name) {
  static constexpr std::string_view kTags[] = {"elsif",     "else",    "when",   "endif",
                                               "endunless", "endcase", "endfor", "endcapture"};
  return std::find(std::begin(kTags), std::end(kTags), name) != std::end(kTags);
}

class TemplateParser {
 public:
  explicit TemplateParser(std::string_view text) : text_(text) {}

  Parsed<Block> ParseAll() {
    if (auto failure = Split()) return *failure;
    std::string end_tag;
    auto block = ParseBlock({}, &end_tag, 0);
    return block;
  }

 private:
  // Finds the {% name %} that closes a raw or comment tag opened before `from`, counting nested
  // comment tags. Returns the offset of its "{%" and sets `*after` past its "%}", or npos.
  size_t FindEndTag(size_t from, std::string_view name, size_t* after) const {
    std::string end_name = "end" + std::string(name);
    size_t depth = 1;
    for (size_t open = text_.find("{%", from); open != std::string_view::npos;
         open = text_.find("{%", open + 2)) {
      size_t close = text_.find("%}", open + 2);
      if (close == std::string_view::npos) return std::string_view::npos;
      std::string_view inner = text_.substr(open + 2, close - open - 2);
      if (inner.starts_with("-")) inner.remove_prefix(1);
      std::string_view tag = TagName(inner).first;
      if (tag == name && name == "comment") ++depth;
      if (tag == end_name && --depth == 0) {
        *after = close + 2;
        return open;
      }
    }
    return std::string_view::npos;
  }

  void AddText(std::string_view text, size_t offset, bool strip_left) {
    if (strip_left) {
      while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1), ++offset;
    }
    if (text.empty()) return;
    segments_.push_back(Segment{Segment::Kind::kText, std::string(text), {}, offset});
  }

  void StripTrailingSpace() {
    if (segments_.empty() || segments_.back().kind != Segment::Kind::kText) return;
    std::string& text = segments_.back().text;
    while (!text.empty() && IsSpace(text.back())) text.pop_back();
    if (text.empty()) segments_.pop_back();
  }

  std::optional<CompileFailure> Split() {
    size_t i = 0;
    bool strip_left = false;
    while (i < text_.size()) {
      size_t output = text_.find("{{", i);
      size_t tag = text_.find("{%", i);
      size_t open = std::min(output, tag);
      if (open == std::string_view::npos) {
        AddText(text_.substr(i), i, strip_left);
        break;
      }
      AddText(text_.substr(i, open - i), i, strip_left);
      const bool is_output = open == output;
      std::string_view close_text = is_output ? "}}" : "%}";
      size_t close = text_.find(close_text, open + 2);
      if (close == std::string_view::npos) {
        return CompileFailure{open, std::string("'") + (is_output ? "{{" : "{%") +
                                        "' is not closed by '" + std::string(close_text) + "'"};
      }
      size_t inner_start = open + 2;
      size_t inner_end = close;
      if (inner_start < inner_end && text_[inner_start] == '-') {
        ++inner_start;
        StripTrailingSpace();
      }
      strip_left = inner_end > inner_start && text_[inner_end - 1] == '-';
      if (strip_left) --inner_end;
      std::string_view inner = text_.substr(inner_start, inner_end - inner_start);
      i = close + 2;
      if (is_output) {
        segments_.push_back(
            Segment{Segment::Kind::kOutput, "", DecodeMarkup(inner, inner_start), open});
        continue;
      }
      auto [name, name_end] = TagName(inner);
      if (name.empty()) return CompileFailure{inner_start, "missing tag name after '{%'"};
      if (name == "raw" || name == "comment") {
        size_t after = 0;
        size_t end = FindEndTag(i, name, &after);
        if (end == std::string_view::npos) {
          return CompileFailure{
              open, "{% " + std::string(name) + " %} has no {% end" + std::string(name) + " %}"};
        }
        if (name == "raw") AddText(text_.substr(i, end - i), i, strip_left);
        strip_left = text_[after - 3] == '-';
        i = after;
        continue;
      }
      segments_.push_back(Segment{Segment::Kind::kTag, std::string(name),
                                  DecodeMarkup(inner.substr(name_end), inner_start + name_end),
                                  open});
    }
    return std::nullopt;
  }

  // Parses segments into a block until a tag in `end_tags`, whose name goes to `*end_tag`, or
  // until the end of the template when `end_tags` is empty.
  Parsed<Block> ParseBlock(std::initializer_list<std::string_view> end_tags, std::string* end_tag,
                           size_t depth) {
    Block block;
    while (next_ < segments_.size()) {
      Segment& segment = segments_[next_++];
      Node node;
      node.offset = segment.offset;
      if (segment.kind == Segment::Kind::kText) {
        node.content = TextNode{std::move(segment.text)};
        block.nodes.push_back(std::move(node));
        continue;
      }
      auto tokens = Tokenize(segment.markup);
      if (auto* failure = std::get_if<CompileFailure>(&tokens)) return *failure;
      MarkupParser markup(std::move(std::get<std::vector<Token>>(tokens)));
      if (segment.kind == Segment::Kind::kOutput) {
        auto output = markup.ParseOutput();
        if (auto* failure = std::get_if<CompileFailure>(&output)) return *failure;
        if (auto failure = markup.ExpectEnd()) return *failure;
        node.content = OutputNode{std::move(std::get<Output>(output))};
        block.nodes.push_back(std::move(node));
        continue;
      }
      if (std::find(end_tags.begin(), end_tags.end(), segment.text) != end_tags.end()) {
        *end_tag = segment.text;
        --next_;
        return block;
      }
      if (end_tags.size() != 0 && IsIntermediateOrEndTag(segment.text)) {
        return CompileFailure{segment.offset, "expected {% " + std::string(*(end_tags.end() - 1)) +
                                                  " %}, found {% " + segment.text + " %}"};
      }
      if (depth >= kMaxNesting) {
        return CompileFailure{
            segment.offset, "tags nest more than " + std::to_string(kMaxNesting) + " levels deep"};
      }
      auto content = ParseTag(segment, markup, depth + 1);
      if (auto* failure = std::get_if<CompileFailure>(&content)) return *failure;
      node.content = std::move(std::get<decltype(node.content)>(content));
      block.nodes.push_back(std::move(node));
    }
    if (end_tags.size() != 0) {
      return CompileFailure{text_.size(), "missing {% " + std::string(*end_tags.begin()) + " %}"};
    }
    return block;
  }

  using NodeContent = decltype(Node::content);

  // Parses the body of a block tag up to one of `end_tags`, whose segment is left to read next.
  // A missing end tag is reported at the opening tag `open_name`.
  Parsed<Block> ParseBody(std::initializer_list<std::string_view> end_tags, std::string* end_tag,
                          size_t depth, size_t open_offset, std::string_view open_name) {
    auto body = ParseBlock(end_tags, end_tag, depth);
    if (auto* failure = std::get_if<CompileFailure>(&body)) {
      if (failure->offset == text_.size()) {
        return CompileFailure{open_offset, "{% " + std::string(open_name) + " %} has no {% end" +
                                               std::string(open_name) + " %}"};
      }
      return *failure;
    }
    return body;
  }

  Parsed<NodeContent> ParseTag(Segment& segment, MarkupParser& markup, size_t depth) {
    const std::string& name = segment.text;
    if (name == "if" || name == "unless") return ParseIf(segment, markup, depth);
    if (name == "case") return ParseCase(segment, markup, depth);
    if (name == "for") return ParseFor(segment, markup, depth);
    if (name == "assign") {
      if (markup.Peek().kind != Token::Kind::kIdent) return markup.Unexpected("a variable name");
      AssignNode assign;
      assign.name = std::string(markup.Next().text);
      if (auto failure = markup.ExpectPunct("=")) return *failure;
      auto value = markup.ParseOutput();
      if (auto* failure = std::get_if<CompileFailure>(&value)) return *failure;
      if (auto failure = markup.ExpectEnd()) return *failure;
      assign.value = std::move(std::get<Output>(value));
      return NodeContent(std::move(assign));
    }
    if (name == "capture") {
      if (markup.Peek().kind != Token::Kind::kIdent) return markup.Unexpected("a variable name");
      CaptureNode capture;
      capture.name = std::string(markup.Next().text);
      if (auto failure = markup.ExpectEnd()) return *failure;
      std::string end_tag;
      auto body = ParseBody({"endcapture"}, &end_tag, depth, segment.offset, name);
      if (auto* failure = std::get_if<CompileFailure>(&body)) return *failure;
      ++next_;
      capture.body = std::move(std::get<Block>(body));
      return NodeContent(std::move(capture));
    }
    if (name == "break" || name == "continue") {
      if (auto failure = markup.ExpectEnd()) return *failure;
      return NodeContent(LoopJumpNode{name == "break"});
    }
    if (IsIntermediateOrEndTag(name)) {
      return CompileFailure{segment.offset, "{% " + name + " %} without its opening tag"};
    }
    return CompileFailure{segment.offset,
                          "unsupported tag '" + name +
                              "'; supported tags are if, unless, case, for, assign, capture, "
                              "comment, raw, break and continue"};
  }

  Parsed<NodeContent> ParseIf(Segment& segment, MarkupParser& markup, size_t depth) {
    const bool unless = segment.text == "unless";
    const std::string end_name = unless ? "endunless" : "endif";
    IfNode node;
    IfNode::Branch branch;
    branch.negate = unless;
    auto condition = markup.ParseCondition();
    if (auto* failure = std::get_if<CompileFailure>(&condition)) return *failure;
    if (auto failure = markup.ExpectEnd()) return *failure;
    branch.condition = std::move(std::get<Condition>(condition));
    while (true) {
      std::string end_tag;
      auto body =
          ParseBody({"elsif", "else", end_name}, &end_tag, depth, segment.offset, segment.text);
      if (auto* failure = std::get_if<CompileFailure>(&body)) return *failure;
      branch.body = std::move(std::get<Block>(body));
      node.branches.push_back(std::move(branch));
      Segment& end = segments_[next_++];
      if (end_tag == end_name) return NodeContent(std::move(node));
      auto tokens = Tokenize(end.markup);
      if (auto* failure = std::get_if<CompileFailure>(&tokens)) return *failure;
      MarkupParser end_markup(std::move(std::get<std::vector<Token>>(tokens)));
      if (end_tag == "else") {
        if (auto failure = end_markup.ExpectEnd()) return *failure;
        auto else_body = ParseBody({end_name}, &end_tag, depth, segment.offset, segment.text);
        if (auto* failure = std::get_if<CompileFailure>(&else_body)) return *failure;
        ++next_;
        node.else_body = std::move(std::get<Block>(else_body));
        return NodeContent(std::move(node));
      }
      // {% elsif condition %}
      auto next_condition = end_markup.ParseCondition();
      if (auto* failure = std::get_if<CompileFailure>(&next_condition)) return *failure;
      if (auto failure = end_markup.ExpectEnd()) return *failure;
      branch = IfNode::Branch{};
      branch.condition = std::move(std::get<Condition>(next_condition));
    }
  }

  Parsed<NodeContent> ParseCase(Segment& segment, MarkupParser& markup, size_t depth) {
    CaseNode node;
    auto subject = markup.ParseExpr();
    if (auto* failure = std::get_if<CompileFailure>(&subject)) return *failure;
    if (auto failure = markup.ExpectEnd()) return *failure;
    node.subject = std::move(std::get<Expr>(subject));
    // Only whitespace may stand between {% case %} and the first {% when %}.
    std::string end_tag;
    auto leading = ParseBody({"when", "else", "endcase"}, &end_tag, depth, segment.offset, "case");
    if (auto* failure = std::get_if<CompileFailure>(&leading)) return *failure;
    for (const Node& stray : std::get<Block>(leading).nodes) {
      const auto* text = std::get_if<TextNode>(&stray.content);
      if (text == nullptr ||
          std::any_of(text->text.begin(), text->text.end(), [](char c) { return !IsSpace(c); })) {
        return CompileFailure{stray.offset, "only {% when %} and {% else %} may follow {% case %}"};
      }
    }
    while (true) {
      Segment& end = segments_[next_++];
      if (end_tag == "endcase") return NodeContent(std::move(node));
      auto tokens = Tokenize(end.markup);
      if (auto* failure = std::get_if<CompileFailure>(&tokens)) return *failure;
      MarkupParser when_markup(std::move(std::get<std::vector<Token>>(tokens)));
      if (end_tag == "else") {
        if (auto failure = when_markup.ExpectEnd()) return *failure;
        auto else_body = ParseBody({"endcase"}, &end_tag, depth, segment.offset, "case");
        if (auto* failure = std::get_if<CompileFailure>(&else_body)) return *failure;
        node.else_body = std::move(std::get<Block>(else_body));
        continue;
      }
      CaseNode::When when;
      while (true) {
        auto value = when_markup.ParseExpr();
        if (auto* failure = std::get_if<CompileFailure>(&value)) return *failure;
        when.values.push_back(std::move(std::get<Expr>(value)));
        if (!when_markup.IsPunct(",") && !when_markup.IsIdent("or")) break;
        when_markup.Next();
      }
      if (auto failure = when_markup.ExpectEnd()) return *failure;
      auto body = ParseBody({"when", "else", "endcase"}, &end_tag, depth, segment.offset, "case");
      if (auto* failure = std::get_if<CompileFailure>(&body)) return *failure;
      when.body = std::move(std::get<Block>(body));
      node.whens.push_back(std::move(when));
    }
  }

  Parsed<NodeContent> ParseFor(Segment& segment, MarkupParser& markup, size_t depth) {
    ForNode node;
    if (markup.Peek().kind != Token::Kind::kIdent) return markup.Unexpected("a variable name");
    node.variable = std::string(markup.Next().text);
    if (!markup.IsIdent("in")) return markup.Unexpected("'in'");
    markup.Next();
    auto collection = markup.ParseExpr();
    if (auto* failure = std::get_if<CompileFailure>(&collection)) return *failure;
    node.collection = std::move(std::get<Expr>(collection));

    // Options, in any order.
    while (!markup.AtEnd()) {
      if (markup.IsIdent("reversed")) {
        markup.Next();
        node.reversed = true;
        continue;
      }
      if (!markup.IsIdent("limit") && !markup.IsIdent("offset")) {
        return markup.Unexpected("'limit:', 'offset:' or 'reversed'");
      }
      const bool is_limit = markup.Next().text == "limit";
      if (auto failure = markup.ExpectPunct(":")) return *failure;
      auto value = markup.ParseExpr();
      if (auto* failure = std::get_if<CompileFailure>(&value)) return *failure;
      (is_limit ? node.limit : node.offset) = std::move(std::get<Expr>(value));
    }

    std::string end_tag;
    auto body = ParseBody({"else", "endfor"}, &end_tag, depth, segment.offset, "for");
    if (auto* failure = std::get_if<CompileFailure>(&body)) return *failure;
    node.body = std::move(std::get<Block>(body));
    ++next_;
    if (end_tag == "else") {
      auto else_body = ParseBody({"endfor"}, &end_tag, depth, segment.offset, "for");
      if (auto* failure = std::get_if<CompileFailure>(&else_body)) return *failure;
      ++next_;
      node.else_body = std::move(std::get<Block>(else_body));
    }
    return NodeContent(std::move(node));
  }

  std::string_view text_;
  std::vector<Segment> segments_;
  size_t next_ = 0;
};

}  // namespace

Template::Template() = default;
Template::~Template() = default;

Result<std::shared_ptr<const Template>> CompileTemplate(std::string_view text,
                                                        size_t* error_offset) {
  TemplateParser parser(text);
  auto parsed = parser.ParseAll();
  if (auto* failure = std::get_if<CompileFailure>(&parsed)) {
    if (error_offset != nullptr) *error_offset = failure->offset;
    return MakeError(ErrorCode::kInvalidArgument, failure->message);
  }
  std::shared_ptr<Template> compiled(new Template());
  compiled->root_ = std::make_unique<const Block>(std::move(std::get<Block>(parsed)));
  return std::shared_ptr<const Template>(std::move(compiled));
}

}  // namespace credgate::policy::liquid
