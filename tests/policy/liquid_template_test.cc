#include "policy/liquid_template.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace credgate::policy::liquid {
namespace {

const char* kGlobals = R"({
  "body": {
    "name": "Ada Lovelace",
    "count": 7,
    "price": 2.5,
    "active": true,
    "missing": null,
    "tags": ["b", "a", "c", "a"],
    "items": [{"sku": "x1", "qty": 2}, {"sku": "y2", "qty": 5}],
    "nested": {"level": {"deep": "yes"}},
    "html": "<p>Hi &amp; <b>bye</b></p>",
    "padded": "  spaced  ",
    "when": "2024-05-01T10:20:30Z"
  },
  "context": {"Request": {"Method": "POST", "Headers": {"Content-Type": "application/json"},
              "Url": {"Path": "/orders", "ToString": "https://gw.test/orders"}}}
})";

class LiquidTemplateTest : public ::testing::Test {
 protected:
  LiquidTemplateTest() : globals_(boost::json::parse(kGlobals).as_object()) {}

  // Compiles and renders `text`. Returns the output, "compile error: <message>" or
  // "error: <message>".
  std::string Render(std::string_view text) {
    auto compiled = CompileTemplate(text);
    if (!compiled.ok()) return "compile error: " + compiled.error().message;
    auto rendered = (*compiled)->Render(globals_);
    if (!rendered.ok()) return "error: " + rendered.error().message;
    return *rendered;
  }

  // Returns the compile error message and its offset as "offset: message".
  std::string CompileError(std::string_view text) {
    size_t offset = 0;
    auto compiled = CompileTemplate(text, &offset);
    if (compiled.ok()) return "<compiled>";
    return std::to_string(offset) + ": " + compiled.error().message;
  }

  boost::json::object globals_;
};

struct RenderCase {
  const char* name;
  const char* text;
  const char* expected;
};

class LiquidRenderTest : public LiquidTemplateTest,
                         public ::testing::WithParamInterface<RenderCase> {};

TEST_P(LiquidRenderTest, Renders) {
  EXPECT_EQ(Render(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, LiquidRenderTest,
    ::testing::Values(
        RenderCase{"PlainText", "{\"a\": 1}", "{\"a\": 1}"},
        RenderCase{"Member", "{{body.name}}", "Ada Lovelace"},
        RenderCase{"NestedMember", "{{ body.nested.level.deep }}", "yes"},
        RenderCase{"Index", "{{ body.items[1].sku }}", "y2"},
        RenderCase{"NegativeIndex", "{{ body.tags[-1] }}", "a"},
        RenderCase{"StringKey", "{{ context.Request.Headers[\"Content-Type\"] }}",
                   "application/json"},
        RenderCase{"KeyIgnoresCase", "{{ context.Request.Headers[\"content-type\"] }}",
                   "application/json"},
        RenderCase{"UrlToString", "{{ context.Request.Url }}", "https://gw.test/orders"},
        RenderCase{"UndefinedIsEmpty", "[{{ body.nothing.here }}]", "[]"},
        RenderCase{"NullIsEmpty", "[{{ body.missing }}]", "[]"},
        RenderCase{"Booleans", "{{ body.active }}", "true"},
        RenderCase{"Double", "{{ body.price }}", "2.5"},
        RenderCase{"SizeMember", "{{ body.tags.size }} {{ body.name.size }}", "4 12"},
        RenderCase{"FirstLastMembers", "{{ body.tags.first }}{{ body.tags.last }}", "ba"},
        RenderCase{"ArrayRendersItems", "{{ body.tags }}",
                   "bac"
                   "a"},
        RenderCase{"IfTrue", "{% if body.active %}on{% endif %}", "on"},
        RenderCase{"IfElsifElse",
                   "{% if body.count > 10 %}big{% elsif body.count > 5 %}mid{% else %}small"
                   "{% endif %}",
                   "mid"},
        RenderCase{"IfEquals", "{% if context.Request.Method == 'POST' %}post{% endif %}", "post"},
        RenderCase{"IfNotEqualsAlternate", "{% if body.count <> 7 %}no{% else %}yes{% endif %}",
                   "yes"},
        RenderCase{"IfContainsString", "{% if body.name contains 'Love' %}y{% endif %}", "y"},
        RenderCase{"IfContainsArray", "{% if body.tags contains 'c' %}y{% endif %}", "y"},
        RenderCase{"AndOrFromRight", "{% if false or true and true %}y{% else %}n{% endif %}", "y"},
        RenderCase{"AndBindsRight", "{% if true and false or false %}y{% else %}n{% endif %}", "n"},
        RenderCase{"NilIsFalse", "{% if body.missing %}y{% else %}n{% endif %}", "n"},
        RenderCase{"EmptyStringIsTrue", "{% assign e = '' %}{% if e %}y{% endif %}", "y"},
        RenderCase{"CompareEmpty", "{% if body.missing == empty %}y{% else %}n{% endif %}", "n"},
        RenderCase{"CompareBlank", "{% if body.missing == blank %}y{% endif %}", "y"},
        RenderCase{"EmptyArray", "{% assign a = '' | Split: ',' %}{% if a == empty %}y{% endif %}",
                   "y"},
        RenderCase{"Unless", "{% unless body.active %}off{% else %}on{% endunless %}", "on"},
        RenderCase{"Case",
                   "{% case body.count %}{% when 1, 2 %}low{% when 7 or 8 %}seven{% else %}"
                   "other{% endcase %}",
                   "seven"},
        RenderCase{"CaseElse", "{% case body.name %}{% when 'x' %}x{% else %}else{% endcase %}",
                   "else"},
        RenderCase{"ForArray", "{% for t in body.tags %}{{ t }},{% endfor %}", "b,a,c,a,"},
        RenderCase{"ForObjects", "{% for i in body.items %}{{ i.sku }}={{ i.qty }};{% endfor %}",
                   "x1=2;y2=5;"},
        RenderCase{"ForLoopVariables",
                   "{% for t in body.tags %}{{ forloop.index }}/{{ forloop.length }}"
                   "{% if forloop.first %}F{% endif %}{% if forloop.last %}L{% endif %} "
                   "{% endfor %}",
                   "1/4F 2/4 3/4 4/4L "},
        RenderCase{"ForRindex", "{% for t in body.tags %}{{ forloop.rindex0 }}{% endfor %}",
                   "3210"},
        RenderCase{"ForLimitOffset",
                   "{% for t in body.tags limit: 2 offset: 1 %}{{ t }}{% endfor %}", "ac"},
        RenderCase{"ForReversed", "{% for t in body.tags reversed %}{{ t }}{% endfor %}", "acab"},
        RenderCase{"ForRange", "{% for i in (1..body.count) %}{{ i }}{% endfor %}", "1234567"},
        RenderCase{"ForElse", "{% for t in body.missing %}x{% else %}none{% endfor %}", "none"},
        RenderCase{"ForBreakContinue",
                   "{% for i in (1..9) %}{% if i == 2 %}{% continue %}{% endif %}"
                   "{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}",
                   "13"},
        RenderCase{"NestedForloop",
                   "{% for a in (1..2) %}{% for b in (1..2) %}{{ forloop.index }}{% endfor %}"
                   "{{ forloop.index }};{% endfor %}",
                   "121;122;"},
        RenderCase{"Assign", "{% assign n = body.name | Upcase %}{{ n }}", "ADA LOVELACE"},
        RenderCase{"AssignInLoopKeepsWalk",
                   "{% assign list = body.tags %}{% for t in list %}{% assign list = 'x' %}{{ t }}"
                   "{% endfor %}",
                   "baca"},
        RenderCase{"Capture",
                   "{% capture greeting %}Hello {{ body.name }}{% endcapture %}{{ greeting }}!",
                   "Hello Ada Lovelace!"},
        RenderCase{"Comment", "a{% comment %}{{ body.name }}{% if %}{% endcomment %}b", "ab"},
        RenderCase{"Raw", "{% raw %}{{ body.name }}{% endraw %}", "{{ body.name }}"},
        RenderCase{"WhitespaceControl", "a  {{- body.count -}}  b\n{%- if true -%}\n c{% endif %}",
                   "a7bc"},
        RenderCase{
            "XmlReferencesInMarkup",
            "{% if body.count &lt; 10 %}small{% endif %}{{ body.name | Append: &quot;!&quot; }}",
            "smallAda Lovelace!"},
        RenderCase{"LiteralTextKeepsReferences", "a &amp; b", "a &amp; b"},
        // Filters.
        RenderCase{"Upcase", "{{ body.name | Upcase }}", "ADA LOVELACE"},
        RenderCase{"Downcase", "{{ body.name | Downcase }}", "ada lovelace"},
        RenderCase{"Capitalize", "{{ 'hello world' | Capitalize }}", "Hello world"},
        RenderCase{"AppendPrepend", "{{ body.name | Prepend: '<' | Append: '>' }}",
                   "<Ada Lovelace>"},
        RenderCase{"Default", "{{ body.missing | Default: 'n/a' }}", "n/a"},
        RenderCase{"DefaultKeepsValue", "{{ body.count | Default: 1 }}", "7"},
        RenderCase{"DefaultEmptyString", "{{ '' | Default: 'd' }}", "d"},
        RenderCase{"Size", "{{ body.tags | Size }} {{ body.name | Size }}", "4 12"},
        RenderCase{"Join", "{{ body.tags | Join: ', ' }}", "b, a, c, a"},
        RenderCase{"JoinDefaultSeparator", "{{ body.tags | Join }}", "b a c a"},
        RenderCase{"Split", "{{ 'a-b-c' | Split: '-' | Last }}", "c"},
        RenderCase{"SplitDropsTrailingEmpty", "{{ 'a,b,,' | Split: ',' | Size }}", "2"},
        RenderCase{"Replace", "{{ 'aXbXc' | Replace: 'X', '-' }}", "a-b-c"},
        RenderCase{"ReplaceFirst", "{{ 'aXbXc' | ReplaceFirst: 'X', '-' }}", "a-bXc"},
        RenderCase{"Remove", "{{ 'aXbXc' | Remove: 'X' }}", "abc"},
        RenderCase{"RemoveFirst", "{{ 'aXbXc' | RemoveFirst: 'X' }}", "abXc"},
        RenderCase{"Plus", "{{ body.count | Plus: 3 }}", "10"},
        RenderCase{"PlusString", "{{ '4' | Plus: 1 }}", "5"},
        RenderCase{"PlusDouble", "{{ body.price | Plus: 1 }}", "3.5"},
        RenderCase{"Minus", "{{ body.count | Minus: 10 }}", "-3"},
        RenderCase{"Times", "{{ body.price | Times: 4 }}", "10"},
        RenderCase{"DividedByInteger", "{{ body.count | DividedBy: 2 }}", "3"},
        RenderCase{"DividedByDouble", "{{ body.count | DividedBy: 2.0 }}", "3.5"},
        RenderCase{"Modulo", "{{ body.count | Modulo: 4 }}", "3"},
        RenderCase{"Abs", "{{ -5 | Abs }}", "5"},
        RenderCase{"AtLeastAtMost", "{{ 3 | AtLeast: 5 }} {{ 3 | AtMost: 1 }}", "5 1"},
        RenderCase{"Round", "{{ 2.5 | Round }} {{ 3.14159 | Round: 2 }}", "3 3.14"},
        RenderCase{"Currency", "{{ 1234.5 | Currency }}", "$1,234.50"},
        RenderCase{"First", "{{ body.tags | First }}", "b"},
        RenderCase{"Last", "{{ body.tags | Last }}", "a"},
        RenderCase{"Sort", "{{ body.tags | Sort | Join: '' }}", "aabc"},
        RenderCase{"Uniq", "{{ body.tags | Uniq | Join: '' }}", "bac"},
        RenderCase{"Map", "{{ body.items | Map: 'sku' | Join: ',' }}", "x1,y2"},
        RenderCase{"SortByMember", "{{ body.items | Sort: 'qty' | Map: 'qty' | Join: ',' }}",
                   "2,5"},
        RenderCase{"Compact", "{{ body.items | Map: 'none' | Compact | Size }}", "0"},
        RenderCase{"SliceString", "{{ 'liquid' | Slice: 2, 3 }}", "qui"},
        RenderCase{"SliceNegative", "{{ 'liquid' | Slice: -3, 2 }}", "ui"},
        RenderCase{"SliceArray", "{{ body.tags | Slice: 1, 2 | Join: '' }}", "ac"},
        RenderCase{"Strip", "[{{ body.padded | Strip }}]", "[spaced]"},
        RenderCase{"Lstrip", "[{{ body.padded | Lstrip }}]", "[spaced  ]"},
        RenderCase{"Rstrip", "[{{ body.padded | Rstrip }}]", "[  spaced]"},
        RenderCase{"StripHtml", "{{ body.html | StripHtml }}", "Hi &amp; bye"},
        RenderCase{"Escape", "{{ '<a href=\"x\">' | Escape }}", "&lt;a href=&quot;x&quot;&gt;"},
        RenderCase{"H", "{{ 'a&b' | H }}", "a&amp;b"},
        RenderCase{"NewlineToBr", "{% capture t %}a\nb{% endcapture %}{{ t | NewlineToBr }}",
                   "a<br />\nb"},
        RenderCase{"StripNewlines", "{% capture t %}a\r\nb{% endcapture %}{{ t | StripNewlines }}",
                   "ab"},
        RenderCase{"Truncate", "{{ body.name | Truncate: 8 }}", "Ada L..."},
        RenderCase{"TruncateEllipsis", "{{ body.name | Truncate: 5, '' }}", "Ada L"},
        RenderCase{"TruncateWords", "{{ 'one two three four' | TruncateWords: 2 }}", "one two..."},
        RenderCase{"UrlEncode", "{{ 'a b&c/d' | UrlEncode }}", "a+b%26c%2Fd"},
        RenderCase{"UrlDecode", "{{ 'a+b%26c' | UrlDecode }}", "a b&c"},
        RenderCase{"Date", "{{ body.when | Date: 'yyyyMMddTHH:mm:ssZ' }}", "20240501T10:20:30Z"},
        RenderCase{"DateUnixSeconds", "{{ 0 | Date: 'yyyy-MM-dd' }}", "1970-01-01"},
        RenderCase{"DateNotADate", "{{ 'soon' | Date: 'yyyy' }}", "soon"},
        RenderCase{"FilterChain", "{{ body.name | Split: ' ' | First | Downcase | Append: '!' }}",
                   "ada!"}),
    [](const auto& info) { return info.param.name; });

TEST_F(LiquidTemplateTest, DividedByZeroFails) {
  EXPECT_EQ(Render("{{ 1 | DividedBy: 0 }}"), "error: Liquid filter DividedBy: division by zero");
}

TEST_F(LiquidTemplateTest, ModuloByZeroFails) {
  EXPECT_EQ(Render("{{ 1 | Modulo: 0 }}"), "error: Liquid filter Modulo: division by zero");
}

TEST_F(LiquidTemplateTest, LoopLimitStopsRendering) {
  std::string result = Render("{% for i in (1..1000000) %}{% endfor %}");
  EXPECT_NE(result.find("more than 100000 iterations"), std::string::npos) << result;
}

TEST_F(LiquidTemplateTest, OutputLimitStopsRendering) {
  std::string result = Render(
      "{% capture s %}{% for i in (1..1000) %}0123456789{% endfor %}{% endcapture %}"
      "{% for i in (1..1000) %}{{ s }}{% endfor %}");
  EXPECT_NE(result.find("output exceeds"), std::string::npos) << result.substr(0, 80);
}

TEST_F(LiquidTemplateTest, AppendLoopStopsAtLimit) {
  std::string result = Render(
      "{% assign s = 'x' %}{% for i in (1..40) %}{% assign s = s | Append: s %}{% endfor %}");
  EXPECT_EQ(result, "error: Liquid filter Append: the result exceeds 8388608 bytes");
}

TEST_F(LiquidTemplateTest, ReplaceStopsAtLimit) {
  std::string result = Render(
      "{% capture s %}{% for i in (1..1000) %}aaaaaaaaaa{% endfor %}{% endcapture %}"
      "{% assign big = s | Replace: 'a', s %}");
  EXPECT_EQ(result, "error: Liquid filter Replace: the result exceeds 8388608 bytes");
}

TEST_F(LiquidTemplateTest, CaptureInLoopCountsTowardLimit) {
  std::string result = Render(
      "{% capture s %}{% for i in (1..1000) %}0123456789{% endfor %}{% endcapture %}"
      "{% for i in (1..1000) %}{% capture t %}{{ s }}{% endcapture %}{% endfor %}");
  EXPECT_NE(result.find("output exceeds"), std::string::npos) << result.substr(0, 80);
}

TEST_F(LiquidTemplateTest, SplitPartLimit) {
  std::string result = Render(
      "{% capture s %}{% for i in (1..60000) %},,{% endfor %}{% endcapture %}"
      "{{ s | Split: ',' | Size }}");
  EXPECT_EQ(result, "error: Liquid filter Split: the result has more than 100000 parts");
}

TEST_F(LiquidTemplateTest, HugeIndexReadsNil) {
  EXPECT_EQ(
      Render("[{{ body.tags[99999999999999999999] }}{{ body.tags[-99999999999999999999.5] }}]"),
      "[]");
}

TEST_F(LiquidTemplateTest, HugeFilterArgumentsClamp) {
  EXPECT_EQ(Render("{{ 'abc' | Slice: 99999999999999999999, 2 }}|{{ 'abc' | Truncate: "
                   "-99999999999999999999.5 }}"),
            "|abc");
}

TEST_F(LiquidTemplateTest, UnsupportedCurrencyCultureFails) {
  EXPECT_EQ(Render("{{ 1 | Currency: 'de-DE' }}"),
            "error: Liquid filter Currency: culture 'de-DE' is not supported; only en-US is");
}

struct RejectCase {
  const char* name;
  const char* text;
  const char* expected;  // "offset: message".
};

class LiquidRejectTest : public LiquidTemplateTest,
                         public ::testing::WithParamInterface<RejectCase> {};

TEST_P(LiquidRejectTest, Rejects) { EXPECT_EQ(CompileError(GetParam().text), GetParam().expected); }

INSTANTIATE_TEST_SUITE_P(
    Cases, LiquidRejectTest,
    ::testing::Values(
        RejectCase{"UnknownFilter", "ab{{ x | upcase }}",
                   "9: unknown filter 'upcase'; filters are written in PascalCase, for example "
                   "Upcase or DividedBy"},
        RejectCase{"FilterArgumentCount", "{{ x | Replace }}",
                   "7: filter 'Replace' takes 1 to 2 arguments, not 0"},
        RejectCase{"FilterTooManyArguments", "{{ x | Upcase: 1 }}",
                   "7: filter 'Upcase' takes 0 arguments, not 1"},
        RejectCase{"UnclosedOutput", "a {{ x", "2: '{{' is not closed by '}}'"},
        RejectCase{"UnclosedTag", "{% if x }}", "0: '{%' is not closed by '%}'"},
        RejectCase{"MissingEndif", "x{% if a %}y", "1: {% if %} has no {% endif %}"},
        RejectCase{"MissingEndforInsideIf", "{% if a %}{% for i in b %}{% endif %}",
                   "26: expected {% endfor %}, found {% endif %}"},
        RejectCase{"StrayEndif", "a{% endif %}", "1: {% endif %} without its opening tag"},
        RejectCase{"UnknownTag", "{% cycle 'a', 'b' %}",
                   "0: unsupported tag 'cycle'; supported tags are if, unless, case, for, "
                   "assign, capture, comment, raw, break and continue"},
        RejectCase{"MissingEndraw", "{% raw %}x", "0: {% raw %} has no {% endraw %}"},
        RejectCase{"BadCondition", "{% if a == %}x{% endif %}",
                   "11: expected a value, found the end of the tag"},
        RejectCase{"UnterminatedString", "{{ 'abc }}", "3: unterminated string"},
        RejectCase{"ForWithoutIn", "{% for i body %}{% endfor %}",
                   "9: expected 'in', found 'body'"},
        RejectCase{"ForUnknownOption", "{% for i in a sorted %}{% endfor %}",
                   "14: expected 'limit:', 'offset:' or 'reversed', found 'sorted'"},
        RejectCase{"TextInCase", "{% case a %}x{% when 1 %}{% endcase %}",
                   "12: only {% when %} and {% else %} may follow {% case %}"},
        RejectCase{"TrailingMarkup", "{{ a b }}", "5: expected the end of the tag, found 'b'"},
        RejectCase{"AssignWithoutEquals", "{% assign a 1 %}", "12: expected '=', found '1'"}),
    [](const auto& info) { return info.param.name; });

TEST_F(LiquidTemplateTest, DeepNestingRejected) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "{% if a %}";
  for (int i = 0; i < 40; ++i) text += "{% endif %}";
  std::string error = CompileError(text);
  EXPECT_NE(error.find("tags nest more than 32 levels deep"), std::string::npos) << error;
}

}  // namespace
}  // namespace credgate::policy::liquid
