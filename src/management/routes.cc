#include "management/routes.h"

#include <cctype>
#include <vector>

namespace credgate::management {

namespace {

std::vector<std::string_view> SplitSegments(std::string_view path) {
  std::vector<std::string_view> segments;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
  }
  return segments;
}

// Drops the ARM prefix up to and including "service/{name}", case-insensitively on the fixed
// words as ARM does.
void StripArmPrefix(std::vector<std::string_view>& segments) {
  auto iequals = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i]))) {
        return false;
      }
    }
    return true;
  };
  if (segments.empty() || !iequals(segments[0], "subscriptions")) return;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    if (iequals(segments[i], "service") && i > 0 &&
        iequals(segments[i - 1], "Microsoft.ApiManagement")) {
      segments.erase(segments.begin(), segments.begin() + static_cast<long>(i) + 2);
      return;
    }
  }
}

}  // namespace

Result<ResourcePath> ParseResourcePath(std::string_view path) {
  std::vector<std::string_view> s = SplitSegments(path);
  StripArmPrefix(s);
  auto not_found = [&] {
    return MakeError(ErrorCode::kNotFound,
                     "no management resource at '" + std::string(path) +
                         "'; see docs/management-api.md for the resource paths",
                     "ResourceNotFound");
  };
  const size_t n = s.size();
  auto str = [&](size_t i) { return std::string(s[i]); };
  if (n == 0) return not_found();

  if (s[0] == "authorizationProviders") {
    if (n == 1) return ResourcePath{ResourceKind::kProviders, "", "", ""};
    if (n == 2) return ResourcePath{ResourceKind::kProvider, str(1), "", ""};
    if (s[2] != "authorizations") return not_found();
    if (n == 3) return ResourcePath{ResourceKind::kConnections, str(1), "", ""};
    if (n == 4) return ResourcePath{ResourceKind::kConnection, str(1), str(3), ""};
    if (n == 5 && s[4] == "getLoginLinks") {
      return ResourcePath{ResourceKind::kLoginLinks, str(1), str(3), ""};
    }
    if (n == 5 && s[4] == "confirmConsentCode") {
      return ResourcePath{ResourceKind::kConfirmConsentCode, str(1), str(3), ""};
    }
    if (s[4] != "accessPolicies") return not_found();
    if (n == 5) return ResourcePath{ResourceKind::kAccessPolicies, str(1), str(3), ""};
    if (n == 6) return ResourcePath{ResourceKind::kAccessPolicy, str(1), str(3), str(5)};
    return not_found();
  }
  if (s[0] == "trustedIssuers") {
    if (n == 1) return ResourcePath{ResourceKind::kTrustedIssuers, "", "", ""};
    if (n == 2) return ResourcePath{ResourceKind::kTrustedIssuer, str(1), "", ""};
    return not_found();
  }
  if (s[0] == "identityProviders") {
    if (n == 1) return ResourcePath{ResourceKind::kIdentityProviders, "", "", ""};
    if (n == 2) return ResourcePath{ResourceKind::kIdentityProvider, str(1), "", ""};
    return not_found();
  }
  if (s[0] == "policies") {
    if (n == 2 && s[1] == "policy") return ResourcePath{ResourceKind::kGlobalPolicy, "", "", ""};
    return not_found();
  }
  if (s[0] == "policyFragments") {
    if (n == 1) return ResourcePath{ResourceKind::kPolicyFragments, "", "", ""};
    if (n == 2) return ResourcePath{ResourceKind::kPolicyFragment, str(1), "", ""};
    return not_found();
  }
  if (s[0] == "backends") {
    if (n == 1) return ResourcePath{ResourceKind::kBackends, "", "", ""};
    if (n == 2) return ResourcePath{ResourceKind::kBackend, str(1), "", ""};
    return not_found();
  }
  if (s[0] == "certificates") {
    if (n == 1) return ResourcePath{ResourceKind::kCertificates, "", "", ""};
    if (n == 2) return ResourcePath{ResourceKind::kCertificate, str(1), "", ""};
    return not_found();
  }
  if (s[0] == "apis") {
    if (n == 1) return ResourcePath{ResourceKind::kApis, "", "", ""};
    if (n == 2) return ResourcePath{ResourceKind::kApi, str(1), "", ""};
    if (n == 4 && s[2] == "policies" && s[3] == "policy") {
      return ResourcePath{ResourceKind::kApiPolicy, str(1), "", ""};
    }
    if (s[2] != "operations") return not_found();
    if (n == 3) return ResourcePath{ResourceKind::kOperations, str(1), "", ""};
    if (n == 4) return ResourcePath{ResourceKind::kOperation, str(1), str(3), ""};
    if (n == 6 && s[4] == "policies" && s[5] == "policy") {
      return ResourcePath{ResourceKind::kOperationPolicy, str(1), str(3), ""};
    }
    return not_found();
  }
  return not_found();
}

std::string StoreKey(const ResourcePath& path) {
  switch (path.kind) {
    case ResourceKind::kProviders:
      return "authorizationProviders";
    case ResourceKind::kProvider:
      return "authorizationProviders/" + path.first;
    case ResourceKind::kConnections:
    case ResourceKind::kLoginLinks:
    case ResourceKind::kConfirmConsentCode:
      return "authorizationProviders/" + path.first + "/authorizations" +
             (path.second.empty() ? "" : "/" + path.second);
    case ResourceKind::kConnection:
      return "authorizationProviders/" + path.first + "/authorizations/" + path.second;
    case ResourceKind::kAccessPolicies:
      return "authorizationProviders/" + path.first + "/authorizations/" + path.second +
             "/accessPolicies";
    case ResourceKind::kAccessPolicy:
      return "authorizationProviders/" + path.first + "/authorizations/" + path.second +
             "/accessPolicies/" + path.third;
    case ResourceKind::kTrustedIssuers:
      return "trustedIssuers";
    case ResourceKind::kTrustedIssuer:
      return "trustedIssuers/" + path.first;
    case ResourceKind::kApis:
      return "apis";
    case ResourceKind::kApi:
      return "apis/" + path.first;
    case ResourceKind::kOperations:
      return "apis/" + path.first + "/operations";
    case ResourceKind::kOperation:
      return "apis/" + path.first + "/operations/" + path.second;
    case ResourceKind::kApiPolicy:
      return "apis/" + path.first + "/policies/policy";
    case ResourceKind::kOperationPolicy:
      return "apis/" + path.first + "/operations/" + path.second + "/policies/policy";
    case ResourceKind::kGlobalPolicy:
      return "policies/policy";
    case ResourceKind::kPolicyFragments:
      return "policyFragments";
    case ResourceKind::kPolicyFragment:
      return "policyFragments/" + path.first;
    case ResourceKind::kBackends:
      return "backends";
    case ResourceKind::kBackend:
      return "backends/" + path.first;
    case ResourceKind::kCertificates:
      return "certificates";
    case ResourceKind::kCertificate:
      return "certificates/" + path.first;
    case ResourceKind::kIdentityProviders:
      return "identityProviders";
    case ResourceKind::kIdentityProvider:
      return "identityProviders/" + path.first;
  }
  return "";
}

}  // namespace credgate::management
