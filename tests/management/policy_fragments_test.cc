// Policy fragments through ManagementService over a real SQLite store: PUT, GET, list, DELETE,
// policies that include them, and the recompilation when a fragment changes.
#include "management/policy_fragments.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "policy/document.h"
#include "policy/pipeline.h"
#include "runtime/state.h"
#include "service_fixture.h"

namespace credgate::management {
namespace {

std::string Body(const std::string& xml) {
  boost::json::object properties{{"format", "rawxml"}, {"value", xml}};
  return boost::json::serialize(boost::json::object{{"properties", std::move(properties)}});
}

std::string Fragment(const std::string& header) {
  return Body("<fragment><set-header name=\"" + header +
              "\" exists-action=\"override\"><value>1</value></set-header></fragment>");
}

constexpr char kIncluding[] =
    "<policies><inbound><base/><include-fragment fragment-id=\"common\"/></inbound></policies>";

class PolicyFragmentsTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    if (!HasFatalFailure()) CreateEchoApi();
  }

  // The header name of the first inbound statement that the API's document took from a
  // fragment.
  std::string IncludedHeader() {
    auto snapshot = config_.Current();
    const auto& document = snapshot->apis.at("echo")->document;
    if (document == nullptr) return "";
    for (const auto& statement : *document->section(policy::Section::kInbound)) {
      if (statement.path.starts_with("include-fragment[1]/")) {
        return std::get<policy::SetHeaderSpec>(statement.spec).name;
      }
    }
    return "";
  }
};

TEST_F(PolicyFragmentsTest, PutGetListDelete) {
  auto created = Call("PUT", "/policyFragments/common", Fragment("x-a"));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Call("PUT", "/policyFragments/common", Fragment("x-a")).status, 200);
  auto got = Call("GET", "/policyFragments/common");
  ASSERT_EQ(got.status, 200);
  auto body = boost::json::parse(got.body).as_object();
  EXPECT_EQ(body["id"].as_string(), "/policyFragments/common");
  EXPECT_EQ(body["type"].as_string(), "Microsoft.ApiManagement/service/policyFragments");
  EXPECT_EQ(body["properties"].as_object()["format"].as_string(), "rawxml");
  auto list = Call("GET", "/policyFragments");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(boost::json::parse(list.body).as_object()["value"].as_array().size(), 1u);
  EXPECT_EQ(Call("DELETE", "/policyFragments/common").status, 200);
  EXPECT_EQ(Call("GET", "/policyFragments/common").status, 404);
  EXPECT_EQ(Call("DELETE", "/policyFragments/common").status, 204);
}

TEST_F(PolicyFragmentsTest, InvalidFragmentRejected) {
  auto response = Call("PUT", "/policyFragments/bad", Body("<fragment><nope/></fragment>"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("unknown statement <nope>"), std::string::npos) << response.body;
  EXPECT_EQ(Call("PUT", "/policyFragments/bad", Body("<policies/>")).status, 400);
  EXPECT_EQ(Call("PUT", "/policyFragments/-bad", Fragment("x")).status, 400);
}

TEST_F(PolicyFragmentsTest, PolicyWithMissingFragmentRejected) {
  auto response = Call("PUT", "/apis/echo/policies/policy", Body(kIncluding));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("policy fragment 'common' was not found"), std::string::npos)
      << response.body;
}

TEST_F(PolicyFragmentsTest, ChangedFragmentRecompilesPolicy) {
  ASSERT_EQ(Call("PUT", "/policyFragments/common", Fragment("x-first")).status, 201);
  ASSERT_EQ(Call("PUT", "/apis/echo/policies/policy", Body(kIncluding)).status, 201);
  EXPECT_EQ(IncludedHeader(), "x-first");
  ASSERT_EQ(Call("PUT", "/policyFragments/common", Fragment("x-second")).status, 200);
  EXPECT_EQ(IncludedHeader(), "x-second");
}

TEST_F(PolicyFragmentsTest, FragmentThatBreaksPolicyRejected) {
  ASSERT_EQ(Call("PUT", "/policyFragments/common", Fragment("x-first")).status, 201);
  ASSERT_EQ(Call("PUT", "/apis/echo/policies/policy", Body(kIncluding)).status, 201);
  // forward-request compiles alone (in backend) but not in the inbound section that includes it.
  auto response =
      Call("PUT", "/policyFragments/common", Body("<fragment><forward-request/></fragment>"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("would break the policy /apis/echo/policies/policy"),
            std::string::npos)
      << response.body;
  EXPECT_EQ(IncludedHeader(), "x-first");
}

TEST_F(PolicyFragmentsTest, DeleteOfUsedFragmentConflicts) {
  ASSERT_EQ(Call("PUT", "/policyFragments/common", Fragment("x-a")).status, 201);
  ASSERT_EQ(Call("PUT", "/policyFragments/outer",
                 Body("<fragment><include-fragment fragment-id=\"common\"/></fragment>"))
                .status,
            201);
  ASSERT_EQ(Call("PUT", "/apis/echo/policies/policy", Body(kIncluding)).status, 201);
  auto response = Call("DELETE", "/policyFragments/common");
  EXPECT_EQ(response.status, 409);
  EXPECT_NE(response.body.find("/apis/echo/policies/policy"), std::string::npos) << response.body;
  EXPECT_NE(response.body.find("/policyFragments/outer"), std::string::npos) << response.body;
  ASSERT_EQ(Call("DELETE", "/apis/echo/policies/policy").status, 200);
  EXPECT_EQ(Call("DELETE", "/policyFragments/common").status, 409);
  ASSERT_EQ(Call("DELETE", "/policyFragments/outer").status, 200);
  EXPECT_EQ(Call("DELETE", "/policyFragments/common").status, 200);
}

TEST_F(PolicyFragmentsTest, FragmentThatBreaksFragmentRejected) {
  ASSERT_EQ(Call("PUT", "/policyFragments/inner", Fragment("x-a")).status, 201);
  ASSERT_EQ(Call("PUT", "/policyFragments/outer",
                 Body("<fragment><include-fragment fragment-id=\"inner\"/></fragment>"))
                .status,
            201);
  auto response = Call("PUT", "/policyFragments/inner",
                       Body("<fragment><include-fragment fragment-id=\"outer\"/></fragment>"));
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("includes itself"), std::string::npos) << response.body;
}

}  // namespace
}  // namespace credgate::management
