// The OpenAPI document against the management API's router: every resource path it lists is a
// path the router accepts, and every kind of resource the router parses is in the document.
#include "management/openapi.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "management/routes.h"
#include "management/test_console.h"

namespace credgate::management {
namespace {

namespace json = boost::json;

// Fills each {parameter} of a path template with a valid resource name.
std::string Instantiate(const std::string& path_template) {
  return std::regex_replace(path_template, std::regex(R"(\{[A-Za-z]+\})"), "name-1");
}

bool IsRouterPath(const std::string& path) {
  return path != "/healthz" && path != "/readyz" && path != "/openapi.json" &&
         path != "/metrics" && !path.starts_with("/adminKeys") && !path.starts_with("/masterKeys") &&
         path != "/export" && path != "/import" && path != "/events" &&
         !IsTestConsolePath(path);
}

json::object Document() {
  auto parsed = json::parse(OpenApiDocument());
  return parsed.as_object();
}

TEST(OpenApiDocumentTest, IsAnOpenApi3DocumentWithPaths) {
  json::object doc = Document();
  EXPECT_TRUE(std::string(doc.at("openapi").as_string()).starts_with("3."));
  EXPECT_GT(doc.at("paths").as_object().size(), 20u);
}

TEST(OpenApiDocumentTest, EveryResourcePathParses) {
  json::object doc = Document();
  for (const auto& [path_template, item] : doc.at("paths").as_object()) {
    std::string path = Instantiate(std::string(path_template));
    if (!IsRouterPath(path)) continue;
    EXPECT_TRUE(ParseResourcePath(path).ok()) << path_template;
  }
}

TEST(OpenApiDocumentTest, EveryResourceKindIsDocumented) {
  json::object doc = Document();
  std::set<ResourceKind> documented;
  for (const auto& [path_template, item] : doc.at("paths").as_object()) {
    std::string path = Instantiate(std::string(path_template));
    if (!IsRouterPath(path)) continue;
    if (auto parsed = ParseResourcePath(path); parsed.ok()) documented.insert(parsed->kind);
  }
  for (int kind = static_cast<int>(ResourceKind::kProviders);
       kind <= static_cast<int>(ResourceKind::kIdentityProvider); ++kind) {
    EXPECT_TRUE(documented.contains(static_cast<ResourceKind>(kind)))
        << "ResourceKind " << kind << " has no path in openapi.json";
  }
}

}  // namespace
}  // namespace credgate::management
