// Certificate: an X.509 certificate with its optional private key and chain, parsed once from the
// data of a `certificates` management resource and shared read-only between threads.
//
// The data is what APIM's certificate resource takes in `properties.data`: a base64 PKCS#12
// (PFX) file with its password, or base64 DER of a certificate alone. credgate also takes PEM
// text: certificates, the first being the leaf, and an optional private key, encrypted with the
// password when one is given.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::crypto {

struct X509Deleter {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

struct PrivateKeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PrivateKeyPtr = std::unique_ptr<EVP_PKEY, PrivateKeyDeleter>;

// Immutable after Parse, so every accessor is thread-safe: OpenSSL 3 allows concurrent
// read-only use of one X509 and one EVP_PKEY.
class Certificate {
 public:
  // Parses `data` (PEM text, or base64 of PKCS#12 or DER) with `password`. Errors
  // (kInvalidArgument) say what is wrong without the secret: data that is neither PEM nor base64,
  // base64 that is neither PKCS#12 nor a DER certificate, a password that does not match the
  // PKCS#12 MAC or does not decrypt it, PEM without a certificate, an encrypted PEM key without
  // the right password, and a private key that does not belong to the certificate.
  static Result<std::shared_ptr<const Certificate>> Parse(std::string_view data,
                                                          const Secret& password);

  X509* x509() const { return certificate_.get(); }
  // The certificate's public key, owned by the certificate.
  EVP_PKEY* public_key() const { return X509_get0_pubkey(certificate_.get()); }
  // Null when the data has no private key.
  EVP_PKEY* private_key() const { return private_key_.get(); }
  // The other certificates of the data (intermediates), in the order given.
  const std::vector<X509Ptr>& chain() const { return chain_; }

  // The subject in RFC 2253 form, for example "CN=api.example.com,O=Example".
  const std::string& subject() const { return subject_; }
  // SHA-1 of the DER certificate in upper-case hex, as APIM and Windows show a thumbprint.
  const std::string& thumbprint() const { return thumbprint_; }
  // notAfter in Unix seconds.
  int64_t not_after() const { return not_after_; }
  // notAfter in RFC 3339 UTC, for example "2027-01-31T12:00:00Z".
  std::string ExpirationDate() const;

 private:
  Certificate() = default;

  X509Ptr certificate_;
  PrivateKeyPtr private_key_;
  std::vector<X509Ptr> chain_;
  std::string subject_;
  std::string thumbprint_;
  int64_t not_after_ = 0;
};

// Normalises a thumbprint as a user may write it (lower case, with spaces or colons) to the form
// Certificate::thumbprint() returns.
std::string NormalizeThumbprint(std::string_view text);

}  // namespace credgate::crypto
