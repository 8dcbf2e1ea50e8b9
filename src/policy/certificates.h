// The stored certificates (the `certificates` management resource) as policy statements name
// them, for example <key certificate-id="..."/> in <validate-jwt>.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "crypto/certificate.h"

namespace credgate::policy {

// Returns the certificate with id `id`, or null when there is none. An id of the form
// "thumbprint:<HEX>" (upper-case, as crypto::NormalizeThumbprint returns) names the stored
// certificate with that SHA-1 thumbprint, for <authentication-certificate thumbprint="...">.
using CertificateLookup =
    std::function<std::shared_ptr<const crypto::Certificate>(std::string_view id)>;

inline constexpr std::string_view kThumbprintPrefix = "thumbprint:";

}  // namespace credgate::policy
