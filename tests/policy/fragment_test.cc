// Policy fragments: <include-fragment> inlining, its errors, and a fragment compiled alone.
#include "policy/fragment.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "policy/document.h"

namespace credgate::policy {
namespace {

class FragmentTest : public testing::Test {
 protected:
  FragmentLookup Lookup() const {
    return [this](std::string_view id) -> std::optional<std::string> {
      auto it = fragments_.find(std::string(id));
      if (it == fragments_.end()) return std::nullopt;
      return it->second;
    };
  }

  Result<CompiledDocument> Compile(const std::string& inbound,
                                   const std::string& backend = "") const {
    std::string xml = "<policies>\n<inbound>\n" + inbound + "\n</inbound>";
    if (!backend.empty()) xml += "<backend>" + backend + "</backend>";
    xml += "</policies>";
    return CompilePolicyDocument(xml, PolicyScope::kGlobal, Lookup());
  }

  std::string CompileError(const std::string& inbound, const std::string& backend = "") const {
    auto document = Compile(inbound, backend);
    return document.ok() ? "" : document.error().message;
  }

  std::map<std::string, std::string> fragments_;
};

TEST_F(FragmentTest, InlinesStatements) {
  fragments_["headers"] =
      "<fragment>\n  <set-header name=\"a\"><value>1</value></set-header>\n"
      "  <set-variable name=\"v\" value=\"@(1 + 1)\" />\n</fragment>";
  auto document = Compile(
      "<set-header name=\"first\"><value>0</value></set-header>\n"
      "<include-fragment fragment-id=\"headers\" />");
  ASSERT_TRUE(document.ok()) << document.error().message;
  const auto& inbound = *document->section(Section::kInbound);
  ASSERT_EQ(inbound.size(), 3u);
  EXPECT_EQ(inbound[1].name, "set-header");
  EXPECT_EQ(inbound[1].path, "include-fragment[1]/set-header[1]");
  EXPECT_EQ(inbound[1].line, 2);  // The line in the fragment.
  EXPECT_EQ(inbound[2].path, "include-fragment[1]/set-variable[1]");
  EXPECT_EQ(document->fragments, (std::set<std::string>{"headers"}));
}

TEST_F(FragmentTest, NestedFragmentsAreListed) {
  fragments_["outer"] = "<fragment><include-fragment fragment-id=\"inner\"/></fragment>";
  fragments_["inner"] = "<fragment><set-variable name=\"v\" value=\"x\"/></fragment>";
  auto document = Compile("<choose><when condition=\"@(true)\">"
                          "<include-fragment fragment-id=\"outer\"/></when></choose>");
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->fragments, (std::set<std::string>{"inner", "outer"}));
  const auto& choose = std::get<ChooseSpec>(document->section(Section::kInbound)->at(0).spec);
  ASSERT_EQ(choose.when[0].statements.size(), 1u);
  EXPECT_EQ(choose.when[0].statements[0].path,
            "choose[1]/when[1]/include-fragment[1]/include-fragment[1]/set-variable[1]");
}

TEST_F(FragmentTest, MissingFragmentNamed) {
  EXPECT_EQ(CompileError("<include-fragment fragment-id=\"nope\" />"),
            "line 3, column 19: policy fragment 'nope' was not found; create it with PUT "
            "/policyFragments/nope first");
}

TEST_F(FragmentTest, MissingFragmentWithoutLookup) {
  auto document = CompilePolicyDocument(
      "<policies><inbound><include-fragment fragment-id=\"x\"/></inbound></policies>",
      PolicyScope::kGlobal);
  ASSERT_FALSE(document.ok());
  EXPECT_NE(document.error().message.find("policy fragment 'x' was not found"),
            std::string::npos);
}

TEST_F(FragmentTest, ErrorInsideFragmentNamesBothPlaces) {
  fragments_["bad"] = "<fragment>\n<set-header nam=\"a\"/></fragment>";
  EXPECT_EQ(CompileError("<include-fragment fragment-id=\"bad\" />"),
            "line 3, column 2: policy fragment 'bad', line 2, column 13: unknown attribute "
            "'nam' on <set-header>; did you mean 'name'?");
}

TEST_F(FragmentTest, SectionRulesApplyWhereIncluded) {
  fragments_["forward"] = "<fragment><forward-request/></fragment>";
  EXPECT_NE(CompileError("<include-fragment fragment-id=\"forward\" />")
                .find("<forward-request> is not allowed in <inbound>"),
            std::string::npos);
  EXPECT_EQ(CompileError("<set-variable name=\"v\" value=\"1\"/>",
                         "<include-fragment fragment-id=\"forward\" />"),
            "");
}

TEST_F(FragmentTest, ForwardInRetryFragmentSends) {
  fragments_["forward"] = "<fragment><forward-request/></fragment>";
  auto document = Compile(
      "<set-variable name=\"v\" value=\"1\"/>",
      "<retry condition=\"@(false)\" count=\"1\" interval=\"0\">"
      "<include-fragment fragment-id=\"forward\"/></retry>");
  ASSERT_TRUE(document.ok()) << document.error().message;
  // The request may be sent more than once, so the gateway keeps its body.
  EXPECT_TRUE(document->reads_request_body);
}

TEST_F(FragmentTest, CycleRejected) {
  fragments_["a"] = "<fragment><include-fragment fragment-id=\"b\"/></fragment>";
  fragments_["b"] = "<fragment><include-fragment fragment-id=\"a\"/></fragment>";
  std::string error = CompileError("<include-fragment fragment-id=\"a\" />");
  EXPECT_NE(error.find("policy fragment 'a' includes itself (a -> b -> a)"), std::string::npos)
      << error;
}

TEST_F(FragmentTest, DeepNestingRejected) {
  for (int i = 0; i < 10; ++i) {
    fragments_["f" + std::to_string(i)] = "<fragment><include-fragment fragment-id=\"f" +
                                          std::to_string(i + 1) + "\"/></fragment>";
  }
  fragments_["f10"] = "<fragment/>";
  std::string error = CompileError("<include-fragment fragment-id=\"f0\" />");
  EXPECT_NE(error.find("included more than 8 levels deep"), std::string::npos) << error;
}

TEST_F(FragmentTest, ChooseNestingCountsAcrossFragments) {
  std::string nested = "<set-variable name=\"v\" value=\"1\"/>";
  for (int i = 0; i < 20; ++i) {
    nested = "<choose><when condition=\"@(true)\">" + nested + "</when></choose>";
  }
  fragments_["deep"] = "<fragment>" + nested + "</fragment>";
  std::string outer = "<include-fragment fragment-id=\"deep\"/>";
  for (int i = 0; i < 15; ++i) {
    outer = "<choose><when condition=\"@(true)\">" + outer + "</when></choose>";
  }
  EXPECT_NE(CompileError(outer).find("nested more than 32 levels deep"), std::string::npos);
}

TEST_F(FragmentTest, BaseInFragmentRejected) {
  fragments_["base"] = "<fragment><base/></fragment>";
  auto document = CompilePolicyDocument(
      "<policies><inbound><include-fragment fragment-id=\"base\"/></inbound></policies>",
      PolicyScope::kApi, Lookup());
  ASSERT_FALSE(document.ok());
  EXPECT_NE(document.error().message.find("<base/> is allowed only directly inside a section"),
            std::string::npos);
}

TEST_F(FragmentTest, RootMustBeFragment) {
  fragments_["policies"] = "<policies/>";
  EXPECT_NE(CompileError("<include-fragment fragment-id=\"policies\" />")
                .find("the root element is <policies>; a policy fragment's root is <fragment>"),
            std::string::npos);
}

TEST_F(FragmentTest, UnknownAttributeOnInclude) {
  fragments_["x"] = "<fragment/>";
  EXPECT_NE(CompileError("<include-fragment fragment-id=\"x\" fragment=\"y\" />")
                .find("unknown attribute 'fragment' on <include-fragment>"),
            std::string::npos);
}

TEST_F(FragmentTest, StandaloneCompilesInAnySection) {
  auto backend_only =
      CompilePolicyFragment("fw", "<fragment><forward-request/></fragment>", Lookup());
  EXPECT_TRUE(backend_only.ok()) << backend_only.error().message;
  fragments_["inner"] = "<fragment/>";
  auto nested = CompilePolicyFragment(
      "outer", "<fragment><include-fragment fragment-id=\"inner\"/></fragment>", Lookup());
  ASSERT_TRUE(nested.ok()) << nested.error().message;
  EXPECT_EQ(*nested, (std::set<std::string>{"inner"}));
}

TEST_F(FragmentTest, StandaloneErrors) {
  auto malformed = CompilePolicyFragment("m", "<fragment>", Lookup());
  ASSERT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error().message.find("policy fragment 'm', line 1"), std::string::npos);
  auto self = CompilePolicyFragment(
      "self", "<fragment><include-fragment fragment-id=\"self\"/></fragment>", Lookup());
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.error().message.find("includes itself (self -> self)"), std::string::npos)
      << self.error().message;
  auto unknown = CompilePolicyFragment("u", "<fragment><set-hedaer/></fragment>", Lookup());
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("did you mean <set-header>?"), std::string::npos);
  auto attributes = CompilePolicyFragment("a", "<fragment x=\"1\"/>", Lookup());
  ASSERT_FALSE(attributes.ok());
  EXPECT_NE(attributes.error().message.find("<fragment> takes no attributes"), std::string::npos);
}

}  // namespace
}  // namespace credgate::policy
