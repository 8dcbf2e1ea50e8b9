#include "gateway/router.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace credgate::gateway {
namespace {

class RouterTest : public testing::Test {
 protected:
  void AddOperation(const std::string& api_id, const std::string& api_path,
                    const std::string& operation_id, const std::string& method,
                    const std::string& url_template) {
    auto& slot = snapshot_.apis[api_id];
    auto api = slot ? std::make_shared<runtime::ApiEntry>(*slot)
                    : std::make_shared<runtime::ApiEntry>();
    api->resource.id = api_id;
    api->resource.path = api_path;
    auto operation = std::make_shared<runtime::OperationEntry>();
    operation->resource.id = operation_id;
    operation->resource.method = method;
    operation->resource.url_template = url_template;
    operation->segments = runtime::ParseUrlTemplate(url_template).value();
    api->operations[operation_id] = operation;
    slot = api;
    snapshot_.routes.clear();
    for (const auto& [id, entry] : snapshot_.apis) snapshot_.routes.push_back(entry);
    std::sort(snapshot_.routes.begin(), snapshot_.routes.end(), [](const auto& a, const auto& b) {
      return a->resource.path.size() > b->resource.path.size();
    });
  }

  std::string Match(std::string_view method, std::string_view path) {
    Route route = MatchRoute(snapshot_, method, path);
    if (!route.api) return "no api";
    if (!route.operation) return route.api->resource.id + " no operation";
    return route.api->resource.id + "/" + route.operation->resource.id;
  }

  runtime::Snapshot snapshot_;
};

TEST_F(RouterTest, LongestApiPathWins) {
  AddOperation("v1", "svc", "any", "*", "/*");
  AddOperation("v2", "svc/v2", "any", "*", "/*");
  EXPECT_EQ(Match("GET", "/svc/v2/x"), "v2/any");
  EXPECT_EQ(Match("GET", "/svc/v3/x"), "v1/any");
}

TEST_F(RouterTest, ApiPathMatchesWholeSegments) {
  AddOperation("svc", "svc", "any", "*", "/*");
  EXPECT_EQ(Match("GET", "/svcx/a"), "no api");
  EXPECT_EQ(Match("GET", "/svc"), "svc/any");
}

TEST_F(RouterTest, LiteralBeatsParameterBeatsWildcard) {
  AddOperation("a", "a", "me", "GET", "/users/me");
  AddOperation("a", "a", "user", "GET", "/users/{id}");
  AddOperation("a", "a", "rest", "GET", "/*");
  EXPECT_EQ(Match("GET", "/a/users/me"), "a/me");
  EXPECT_EQ(Match("GET", "/a/users/42"), "a/user");
  EXPECT_EQ(Match("GET", "/a/other/path"), "a/rest");
}

TEST_F(RouterTest, MethodMustMatch) {
  AddOperation("a", "a", "get", "GET", "/items");
  EXPECT_EQ(Match("POST", "/a/items"), "a no operation");
}

TEST_F(RouterTest, ExtractsDecodedParameters) {
  AddOperation("a", "a", "user", "GET", "/users/{id}/repos/{repo}");
  Route route = MatchRoute(snapshot_, "GET", "/a/users/al%20ice/repos/r1");
  ASSERT_TRUE(route.operation);
  ASSERT_EQ(route.parameters.size(), 2u);
  EXPECT_EQ(route.parameters[0].second, "al ice");
  EXPECT_EQ(route.parameters[1].second, "r1");
  EXPECT_EQ(route.remainder, "/users/al%20ice/repos/r1");
}

TEST_F(RouterTest, EmptyApiPathServesRoot) {
  AddOperation("root", "", "get", "GET", "/health");
  EXPECT_EQ(Match("GET", "/health"), "root/get");
}

TEST(UrlTemplate, RejectsMalformedTemplates) {
  EXPECT_FALSE(runtime::ParseUrlTemplate("users").ok());
  EXPECT_FALSE(runtime::ParseUrlTemplate("/a/*/b").ok());
  EXPECT_FALSE(runtime::ParseUrlTemplate("/a/{}").ok());
  EXPECT_FALSE(runtime::ParseUrlTemplate("/a/x{id}").ok());
  EXPECT_TRUE(runtime::ParseUrlTemplate("/a/{id}?q={q}").ok());
}

}  // namespace
}  // namespace credgate::gateway
