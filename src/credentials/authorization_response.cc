#include "credentials/authorization_response.h"

#include <optional>
#include <string>

namespace credgate::credentials {

Status CheckAuthorizationResponseIssuer(const ProviderConfig& provider,
                                        const FormFields& response) {
  std::optional<std::string> iss;
  for (const auto& [name, value] : response) {
    if (name != "iss") continue;
    if (iss) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the authorization response for provider '" + provider.id +
                           "' has more than one 'iss' parameter",
                       "IssuerDuplicated");
    }
    iss = value;
  }

  if (!iss) {
    if (!provider.require_iss_parameter) return OkStatus();
    return MakeError(ErrorCode::kPermissionDenied,
                     "the authorization response has no 'iss' parameter, but provider '" +
                         provider.id + "' sends it with every response (issuer '" +
                         provider.issuer + "')",
                     "IssuerMissing");
  }
  if (provider.issuer.empty() || *iss == provider.issuer) return OkStatus();
  return MakeError(ErrorCode::kPermissionDenied,
                   "the authorization response comes from another server: its 'iss' parameter "
                   "differs from the issuer '" +
                       provider.issuer + "' of provider '" + provider.id + "'",
                   "IssuerMismatch");
}

}  // namespace credgate::credentials
