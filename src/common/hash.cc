#include "common/hash.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdlib>
#include <memory>

namespace credgate {

namespace {

// EVP_Digest() with EVP_sha256() looks the algorithm up in the provider and allocates a context
// on every call. The algorithm is fetched once per process and each thread reuses one context.
const EVP_MD* FetchedSha256() {
  static EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();
    return fetched;
  }();
  return md;
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

EVP_MD_CTX* ThreadDigestContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  if (!context) std::abort();
  return context.get();
}

}  // namespace

size_t DigestInto(const EVP_MD* md, std::string_view data, unsigned char* out) {
  unsigned int length = 0;
  EVP_MD_CTX* context = ThreadDigestContext();
  if (md == nullptr || EVP_DigestInit_ex2(context, md, nullptr) != 1 ||
      EVP_DigestUpdate(context, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context, out, &length) != 1) {
    return 0;
  }
  return length;
}

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest digest;
  if (DigestInto(FetchedSha256(), data, digest.data()) != digest.size()) std::abort();
  return digest;
}

std::string Sha256String(std::string_view data) {
  Sha256Digest digest = Sha256(data);
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length) ==
      nullptr) {
    std::abort();
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

}  // namespace credgate
