#include "management/admin_jwt.h"

#include <algorithm>
#include <optional>

namespace credgate::management {

namespace {

std::optional<AdminRole> RoleOfValue(const boost::json::value& value) {
  if (!value.is_string()) return std::nullopt;
  auto role = ParseAdminRole(value.get_string());
  if (!role.ok()) return std::nullopt;
  return *role;
}

// Returns the most privileged role that the claim names.
std::optional<AdminRole> RoleOfClaim(const boost::json::value& claim) {
  std::optional<AdminRole> best;
  auto consider = [&best](const boost::json::value& value) {
    auto role = RoleOfValue(value);
    if (role && (!best || static_cast<int>(*role) > static_cast<int>(*best))) best = role;
  };
  if (claim.is_array()) {
    for (const auto& item : claim.get_array()) consider(item);
  } else {
    consider(claim);
  }
  return best;
}

}  // namespace

Result<std::unique_ptr<AdminJwtAuthenticator>> AdminJwtAuthenticator::Create(
    AdminJwtSettings settings, std::shared_ptr<http::HttpClient> client,
    std::shared_ptr<const Clock> clock) {
  if (settings.role_claim.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the administrator JWT role claim name must not be empty");
  }
  auto validator = std::make_unique<identity::JwtValidator>(std::move(client), std::move(clock));
  Status configured = validator->SetTrustedIssuers({settings.issuer});
  if (!configured.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid administrator JWT issuer: " + configured.error().message);
  }
  return std::unique_ptr<AdminJwtAuthenticator>(
      new AdminJwtAuthenticator(std::move(settings), std::move(validator)));
}

bool AdminJwtAuthenticator::LooksLikeJwt(std::string_view credential) {
  return std::count(credential.begin(), credential.end(), '.') == 2;
}

boost::asio::awaitable<Result<AdminPrincipal>> AdminJwtAuthenticator::Authenticate(
    std::string token) {
  auto identity = validator_->ValidateCached(token);
  if (!identity.ok() && identity.error().code == ErrorCode::kUnavailable) {
    identity = co_await validator_->Validate(token);
  }
  if (!identity.ok()) {
    const Error& error = identity.error();
    co_return MakeError(error.code == ErrorCode::kUnavailable ? ErrorCode::kUnavailable
                                                              : ErrorCode::kUnauthenticated,
                        "invalid administrator JWT: " + error.message,
                        error.code == ErrorCode::kUnavailable ? error.reason : "Unauthorized");
  }
  const identity::CallerIdentity& caller = **identity;
  std::string id = caller.subject.empty() ? caller.object_id : caller.subject;

  auto claim = caller.payload.find(settings_.role_claim);
  std::optional<AdminRole> role;
  if (claim != caller.payload.end()) role = RoleOfClaim(claim->value());
  if (!role) {
    co_return MakeError(ErrorCode::kPermissionDenied,
                        "administrator JWT of '" + id + "' has no claim '" + settings_.role_claim +
                            "' naming the role reader, operator or admin",
                        "Forbidden");
  }
  co_return AdminPrincipal{AdminPrincipal::Kind::kJwt, std::move(id), *role};
}

}  // namespace credgate::management
