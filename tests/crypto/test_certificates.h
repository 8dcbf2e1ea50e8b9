// Test certificates made with OpenSSL 3 at test time: an RSA or P-256 key, a self-signed
// certificate, and the PEM, PKCS#12 and DER forms a `certificates` resource takes.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "common/encoding.h"

namespace credgate::testing {

struct TestKeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using TestKey = std::unique_ptr<EVP_PKEY, TestKeyDeleter>;
struct TestX509Deleter {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
using TestX509 = std::unique_ptr<X509, TestX509Deleter>;

inline TestKey MakeRsaKey() { return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", 2048)); }
inline TestKey MakeP256Key() { return TestKey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

// A certificate for `key` with subject CN=`common_name`, signed by `issuer_key` (the key itself
// when null), valid from now for `days` days.
inline TestX509 MakeCertificate(EVP_PKEY* key, const std::string& common_name, long days = 365,
                                EVP_PKEY* issuer_key = nullptr) {
  TestX509 certificate(X509_new());
  X509_set_version(certificate.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), days * 24 * 3600);
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(certificate.get(), name);
  X509_sign(certificate.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  return certificate;
}

inline std::string BioText(BIO* bio) {
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<size_t>(length));
  BIO_free(bio);
  return text;
}

inline std::string CertificatePem(X509* certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, certificate);
  return BioText(bio);
}

// The private key as PKCS#8 PEM, encrypted with AES-256-CBC when `password` is not empty.
inline std::string PrivateKeyPem(EVP_PKEY* key, const std::string& password = "") {
  BIO* bio = BIO_new(BIO_s_mem());
  if (password.empty()) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(), password.data(),
                                  static_cast<int>(password.size()), nullptr, nullptr);
  }
  return BioText(bio);
}

inline std::string CertificateDerBase64(X509* certificate) {
  unsigned char* der = nullptr;
  int length = i2d_X509(certificate, &der);
  std::string text = Base64Encode(std::string_view(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  return text;
}

// A PKCS#12 file of `certificate` and `key` under `password`, in base64, as OpenSSL 3 writes it
// by default (AES-256-CBC, PBKDF2, SHA-256 MAC).
inline std::string PfxBase64(X509* certificate, EVP_PKEY* key, const std::string& password) {
  PKCS12* p12 = PKCS12_create(password.c_str(), "test", key, certificate, nullptr, 0, 0, 0, 0, 0);
  unsigned char* der = nullptr;
  int length = i2d_PKCS12(p12, &der);
  std::string text = Base64Encode(std::string_view(reinterpret_cast<char*>(der), length));
  OPENSSL_free(der);
  PKCS12_free(p12);
  return text;
}

}  // namespace credgate::testing
