// Certificates as management resources, shaped like APIM's ARM resource
// Microsoft.ApiManagement/service/certificates: PUT takes `properties.data` (base64 PKCS#12 or
// DER, or PEM text) and `properties.password`, and GET shows only `subject`, `thumbprint` and
// `expirationDate`. The data and password are sealed with the keyring in the store and never
// returned. Policies name a certificate by id (<key certificate-id="..."/> in <validate-jwt>),
// so a document is compiled with the certificate's keys, and replacing a certificate recompiles
// the documents that use it.
#pragma once

#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"
#include "crypto/certificate.h"
#include "policy/certificates.h"
#include "runtime/state.h"
#include "store/store.h"

namespace credgate::crypto {
class Keyring;
}

namespace credgate::management {

// Member of a stored certificate body that contains {"data", "password"} sealed with the keyring
// (bound to the record key), as base64 (crypto::SealedToBase64).
inline constexpr std::string_view kSealedCertificateMember = "sealedCertificate";

// The write-only part of a certificate resource, as PUT sends it.
struct CertificateResource {
  std::string id;
  Secret data;      // properties.data: base64 PKCS#12 or DER, or PEM text.
  Secret password;  // properties.password; empty when the data needs none.
};

// A stored certificate: what PUT sent and the certificate parsed from it.
struct CertificateEntry {
  CertificateResource resource;
  std::shared_ptr<const crypto::Certificate> certificate;
};

// Reads a PUT body and parses the certificate. Errors (kInvalidArgument, reason
// ValidationError): an invalid name, a missing `properties.data`, `properties.keyVault` (not
// supported), data over 64 KiB, and every fault crypto::Certificate::Parse names, prefixed with
// "invalid 'properties.data'".
Result<std::shared_ptr<const CertificateEntry>> ParseCertificate(std::string_view id,
                                                                 const boost::json::object& body);

// Returns the ARM shape that GET shows: subject, thumbprint and expirationDate, never the data.
boost::json::object RenderCertificate(const CertificateEntry& entry);

// Returns the store record: RenderCertificate with the data and password sealed under the
// keyring's active key in the member "sealedCertificate".
Result<store::ResourceRecord> CertificateRecord(const std::string& key,
                                                const CertificateEntry& entry,
                                                const crypto::Keyring& keyring);

// Opens a stored record of kind "certificate" and parses its certificate again.
Result<std::shared_ptr<const CertificateEntry>> OpenCertificateRecord(
    std::string_view id, const store::ResourceRecord& record, const boost::json::object& body,
    const crypto::Keyring& keyring);

// Returns a lookup of the certificates in `snapshot`, which must outlive it.
policy::CertificateLookup CertificatesOf(const runtime::Snapshot& snapshot);

// Stores `entry` in `snapshot`, recompiles every policy document that names it and recomposes
// the pipelines. Sets `status` to 200 when a certificate was replaced and 201 when it is new.
// Errors: kInvalidArgument naming the first policy that no longer compiles, for example because
// the new certificate's key type cannot verify tokens. `snapshot` may then be partly changed, so
// callers edit a copy.
Status SetCertificate(runtime::Snapshot& snapshot, std::shared_ptr<const CertificateEntry> entry,
                      int& status);

// Validates a certificate as PUT saves it: every policy that names it still compiles
// (SetCertificate on a copy).
Status CheckCertificate(const runtime::Snapshot& snapshot,
                        std::shared_ptr<const CertificateEntry> entry);

// Returns the resource paths of the policies and policy fragments that name certificate `id`,
// for example "/apis/echo/policies/policy" or "/policyFragments/jwt".
std::vector<std::string> CertificateUsers(const runtime::Snapshot& snapshot, std::string_view id);

}  // namespace credgate::management
