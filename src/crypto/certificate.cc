#include "crypto/certificate.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/encoding.h"

namespace credgate::crypto {

namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

struct Pkcs12Deleter {
  void operator()(PKCS12* p12) const { PKCS12_free(p12); }
};

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), "ValidationError");
}

// Returns the reason of the oldest queued OpenSSL error, and clears the queue.
std::string OpenSslReason() {
  unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error queued";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "OpenSSL error " + std::to_string(code);
}

BioPtr MemoryBio(std::string_view bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::string_view Trimmed(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  size_t last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Removes the whitespace that base64 text wrapped over lines contains.
std::string WithoutWhitespace(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

// PEM password callback: copies the Secret in `userdata` into `buffer`.
int PemPassword(char* buffer, int size, int, void* userdata) {
  const Secret& password = *static_cast<const Secret*>(userdata);
  if (password.size() > static_cast<size_t>(size)) return -1;
  std::string_view value = password.Expose();
  std::copy(value.begin(), value.end(), buffer);
  return static_cast<int>(value.size());
}

struct Parts {
  X509Ptr leaf;
  PrivateKeyPtr key;
  std::vector<X509Ptr> chain;
};

Result<Parts> ParsePem(std::string_view pem, const Secret& password) {
  Parts parts;
  BioPtr certificates = MemoryBio(pem);
  // PEM_read_bio_X509 skips blocks of other types, such as the private key.
  while (X509* certificate = PEM_read_bio_X509(certificates.get(), nullptr, nullptr, nullptr)) {
    if (!parts.leaf) {
      parts.leaf.reset(certificate);
    } else {
      parts.chain.emplace_back(certificate);
    }
  }
  ERR_clear_error();
  if (!parts.leaf) return Invalid("the PEM data contains no CERTIFICATE block");

  if (pem.find("PRIVATE KEY-----") == std::string_view::npos) return parts;
  BioPtr key_bio = MemoryBio(pem);
  EVP_PKEY* key =
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, PemPassword, const_cast<Secret*>(&password));
  if (key == nullptr) {
    std::string reason = OpenSslReason();
    return Invalid("the PEM private key could not be read (" + reason +
                   "): an encrypted key needs the right password");
  }
  parts.key.reset(key);
  return parts;
}

Result<Parts> ParsePkcs12(std::string_view der, const Secret& password) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<PKCS12, Pkcs12Deleter> p12(
      d2i_PKCS12(nullptr, &cursor, static_cast<long>(der.size())));
  if (!p12) return Invalid("the base64 data is neither PKCS#12 (PFX) nor a DER certificate");
  // An empty password may have been encoded as no password or as an empty one (RFC 7292 B.1).
  const char* pass = password.empty() ? nullptr : password.Expose().data();
  int pass_length = static_cast<int>(password.size());
  if (PKCS12_mac_present(p12.get())) {
    bool matches = PKCS12_verify_mac(p12.get(), pass, pass_length) == 1;
    if (!matches && password.empty()) {
      pass = "";
      matches = PKCS12_verify_mac(p12.get(), pass, 0) == 1;
    }
    if (!matches) {
      ERR_clear_error();
      return Invalid("the password does not match the PKCS#12 data (its MAC does not verify)");
    }
  }
  // PKCS12_parse needs a NUL-terminated password.
  std::string terminated(password.Expose());
  EVP_PKEY* key = nullptr;
  X509* leaf = nullptr;
  STACK_OF(X509)* others = nullptr;
  int parsed =
      PKCS12_parse(p12.get(), pass == nullptr ? nullptr : terminated.c_str(), &key, &leaf, &others);
  OPENSSL_cleanse(terminated.data(), terminated.size());
  if (parsed != 1) {
    std::string reason = OpenSslReason();
    return Invalid("the PKCS#12 data could not be decrypted (" + reason +
                   "); OpenSSL 3 reads RC2 and RC4 encryption only with its legacy provider, so "
                   "export the PFX with AES-256 or 3DES");
  }
  Parts parts;
  parts.key.reset(key);
  parts.leaf.reset(leaf);
  for (int i = 0; others != nullptr && i < sk_X509_num(others); ++i) {
    parts.chain.emplace_back(sk_X509_value(others, i));
  }
  sk_X509_free(others);
  if (!parts.leaf) return Invalid("the PKCS#12 data contains no certificate");
  return parts;
}

Result<Parts> ParseBinary(std::string_view der, const Secret& password) {
  // A DER certificate alone (a .cer file) is a SEQUENCE, like PKCS#12, so try it first and
  // require that it uses every byte.
  const auto* cursor = reinterpret_cast<const unsigned char*>(der.data());
  X509* certificate = d2i_X509(nullptr, &cursor, static_cast<long>(der.size()));
  if (certificate != nullptr &&
      cursor == reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    Parts parts;
    parts.leaf.reset(certificate);
    return parts;
  }
  X509_free(certificate);
  ERR_clear_error();
  return ParsePkcs12(der, password);
}

std::string Rfc2253Subject(X509* certificate) {
  BioPtr out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long length = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string Sha1Thumbprint(X509* certificate) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  X509_digest(certificate, EVP_sha1(), digest, &length);
  std::string hex = HexEncode(std::string_view(reinterpret_cast<char*>(digest), length));
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

}  // namespace

Result<std::shared_ptr<const Certificate>> Certificate::Parse(std::string_view data,
                                                              const Secret& password) {
  std::string_view text = Trimmed(data);
  if (text.empty()) return Invalid("the certificate data is empty");
  Result<Parts> parts = Invalid("");
  if (text.starts_with("-----BEGIN")) {
    parts = ParsePem(text, password);
  } else {
    std::optional<std::string> bytes = Base64Decode(WithoutWhitespace(text));
    if (!bytes || bytes->empty()) {
      return Invalid("the certificate data is neither PEM text nor base64");
    }
    parts = ParseBinary(*bytes, password);
    OPENSSL_cleanse(bytes->data(), bytes->size());
  }
  if (!parts.ok()) return parts.error();
  if (parts->key && X509_check_private_key(parts->leaf.get(), parts->key.get()) != 1) {
    ERR_clear_error();
    return Invalid("the private key does not belong to the certificate");
  }

  std::shared_ptr<Certificate> certificate(new Certificate());
  certificate->subject_ = Rfc2253Subject(parts->leaf.get());
  certificate->thumbprint_ = Sha1Thumbprint(parts->leaf.get());
  std::tm not_after{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(parts->leaf.get()), &not_after) != 1) {
    ERR_clear_error();
    return Invalid("the certificate's notAfter time is invalid");
  }
  certificate->not_after_ = static_cast<int64_t>(timegm(&not_after));
  certificate->certificate_ = std::move(parts->leaf);
  certificate->private_key_ = std::move(parts->key);
  certificate->chain_ = std::move(parts->chain);
  return std::shared_ptr<const Certificate>(std::move(certificate));
}

std::string Certificate::ExpirationDate() const {
  std::time_t seconds = static_cast<std::time_t>(not_after_);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string NormalizeThumbprint(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
  }
  return out;
}

}  // namespace credgate::crypto
