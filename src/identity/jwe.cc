#include "identity/jwe.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <optional>

#include "common/encoding.h"
#include "identity/jwt.h"

namespace credgate::identity {

namespace {

Error Invalid(std::string message) {
  return MakeError(ErrorCode::kUnauthenticated, std::move(message), "InvalidJwe");
}

// One message for every failure after the header was read, so that a caller cannot tell a bad
// RSA padding or key wrap from a bad tag (RFC 7516 §11.5).
Error DecryptionFailed() {
  ERR_clear_error();
  return Invalid("the JWE could not be decrypted with the configured keys");
}

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

struct PkeyContextDeleter {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};

enum class KeyManagement { kDirect, kAesKeyWrap, kRsaOaep, kRsaOaep256 };
enum class ContentMode { kGcm, kCbcHmac };

struct ContentEncryption {
  ContentMode mode;
  size_t key_bytes;  // The CEK size: the AES key, or for CBC-HMAC the MAC key plus the AES key.
};

std::optional<ContentEncryption> ParseEnc(std::string_view enc) {
  if (enc == "A128GCM") return ContentEncryption{ContentMode::kGcm, 16};
  if (enc == "A192GCM") return ContentEncryption{ContentMode::kGcm, 24};
  if (enc == "A256GCM") return ContentEncryption{ContentMode::kGcm, 32};
  if (enc == "A128CBC-HS256") return ContentEncryption{ContentMode::kCbcHmac, 32};
  if (enc == "A192CBC-HS384") return ContentEncryption{ContentMode::kCbcHmac, 48};
  if (enc == "A256CBC-HS512") return ContentEncryption{ContentMode::kCbcHmac, 64};
  return std::nullopt;
}

// Returns the key management mode and, for AES key wrap, the KEK size.
std::optional<std::pair<KeyManagement, size_t>> ParseAlg(std::string_view alg) {
  if (alg == "dir") return std::pair{KeyManagement::kDirect, size_t{0}};
  if (alg == "A128KW") return std::pair{KeyManagement::kAesKeyWrap, size_t{16}};
  if (alg == "A192KW") return std::pair{KeyManagement::kAesKeyWrap, size_t{24}};
  if (alg == "A256KW") return std::pair{KeyManagement::kAesKeyWrap, size_t{32}};
  if (alg == "RSA-OAEP") return std::pair{KeyManagement::kRsaOaep, size_t{0}};
  if (alg == "RSA-OAEP-256") return std::pair{KeyManagement::kRsaOaep256, size_t{0}};
  return std::nullopt;
}

const EVP_CIPHER* WrapCipher(size_t kek_bytes) {
  if (kek_bytes == 16) return EVP_aes_128_wrap();
  if (kek_bytes == 24) return EVP_aes_192_wrap();
  return EVP_aes_256_wrap();
}

// Unwraps `wrapped` with AES key wrap (RFC 3394, default IV).
std::optional<Secret> AesUnwrap(std::string_view kek, std::string_view wrapped) {
  if (wrapped.size() < 24 || wrapped.size() % 8 != 0) return std::nullopt;
  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context) return std::nullopt;
  EVP_CIPHER_CTX_set_flags(context.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_DecryptInit_ex(context.get(), WrapCipher(kek.size()), nullptr,
                         reinterpret_cast<const unsigned char*>(kek.data()), nullptr) != 1) {
    return std::nullopt;
  }
  std::string out(wrapped.size(), '\0');
  int length = 0;
  if (EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(out.data()), &length,
                        reinterpret_cast<const unsigned char*>(wrapped.data()),
                        static_cast<int>(wrapped.size())) != 1 ||
      length <= 0) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(length));
  return Secret(std::move(out));
}

// Decrypts the CEK with RSAES-OAEP, with SHA-1 or SHA-256 for both the hash and MGF1
// (RFC 7518 §4.3).
std::optional<Secret> RsaOaepDecrypt(EVP_PKEY* key, bool sha256, std::string_view encrypted) {
  std::unique_ptr<EVP_PKEY_CTX, PkeyContextDeleter> context(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  const EVP_MD* md = sha256 ? EVP_sha256() : EVP_sha1();
  if (!context || EVP_PKEY_decrypt_init(context.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(context.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(context.get(), md) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(context.get(), md) != 1) {
    return std::nullopt;
  }
  const auto* in = reinterpret_cast<const unsigned char*>(encrypted.data());
  size_t length = 0;
  if (EVP_PKEY_decrypt(context.get(), nullptr, &length, in, encrypted.size()) != 1) {
    return std::nullopt;
  }
  std::string out(length, '\0');
  if (EVP_PKEY_decrypt(context.get(), reinterpret_cast<unsigned char*>(out.data()), &length, in,
                       encrypted.size()) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(length);
  return Secret(std::move(out));
}

const EVP_CIPHER* GcmCipher(size_t key_bytes) {
  if (key_bytes == 16) return EVP_aes_128_gcm();
  if (key_bytes == 24) return EVP_aes_192_gcm();
  return EVP_aes_256_gcm();
}

const EVP_CIPHER* CbcCipher(size_t key_bytes) {
  if (key_bytes == 16) return EVP_aes_128_cbc();
  if (key_bytes == 24) return EVP_aes_192_cbc();
  return EVP_aes_256_cbc();
}

std::optional<Secret> GcmDecrypt(std::string_view key, std::string_view iv,
                                 std::string_view ciphertext, std::string_view tag,
                                 std::string_view aad) {
  if (iv.size() != 12 || tag.size() != 16) return std::nullopt;
  CipherContext context(EVP_CIPHER_CTX_new());
  const auto* key_bytes = reinterpret_cast<const unsigned char*>(key.data());
  const auto* iv_bytes = reinterpret_cast<const unsigned char*>(iv.data());
  if (!context ||
      EVP_DecryptInit_ex(context.get(), GcmCipher(key.size()), nullptr, key_bytes, iv_bytes) != 1) {
    return std::nullopt;
  }
  int length = 0;
  if (EVP_DecryptUpdate(context.get(), nullptr, &length,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1) {
    return std::nullopt;
  }
  std::string out(ciphertext.size(), '\0');
  if (EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(out.data()), &length,
                        reinterpret_cast<const unsigned char*>(ciphertext.data()),
                        static_cast<int>(ciphertext.size())) != 1) {
    return std::nullopt;
  }
  std::string tag_copy(tag);
  int final_length = 0;
  if (EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag.size()),
                          tag_copy.data()) != 1 ||
      EVP_DecryptFinal_ex(context.get(), reinterpret_cast<unsigned char*>(out.data()) + length,
                          &final_length) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(length + final_length));
  return Secret(std::move(out));
}

// AES-CBC with HMAC-SHA2 (RFC 7518 §5.2.2.2): the first half of the CEK is the MAC key, the
// second the AES key. The tag is checked before anything is decrypted.
std::optional<Secret> CbcHmacDecrypt(std::string_view cek, std::string_view iv,
                                     std::string_view ciphertext, std::string_view tag,
                                     std::string_view aad) {
  const size_t half = cek.size() / 2;
  if (iv.size() != 16 || tag.size() != half || ciphertext.empty() || ciphertext.size() % 16 != 0) {
    return std::nullopt;
  }
  const EVP_MD* md = EVP_sha512();
  if (half == 16) md = EVP_sha256();
  if (half == 24) md = EVP_sha384();
  // AL: the bit length of the AAD as a 64-bit big-endian integer.
  std::array<unsigned char, 8> al{};
  uint64_t bits = static_cast<uint64_t>(aad.size()) * 8;
  for (int i = 7; i >= 0; --i) {
    al[static_cast<size_t>(i)] = static_cast<unsigned char>(bits & 0xff);
    bits >>= 8;
  }
  std::string mac_input;
  mac_input.reserve(aad.size() + iv.size() + ciphertext.size() + al.size());
  mac_input.append(aad).append(iv).append(ciphertext);
  mac_input.append(reinterpret_cast<const char*>(al.data()), al.size());
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_length = 0;
  if (HMAC(md, cek.data(), static_cast<int>(half),
           reinterpret_cast<const unsigned char*>(mac_input.data()), mac_input.size(), mac,
           &mac_length) == nullptr ||
      mac_length < half || CRYPTO_memcmp(mac, tag.data(), half) != 0) {
    return std::nullopt;
  }

  CipherContext context(EVP_CIPHER_CTX_new());
  const auto* key_bytes = reinterpret_cast<const unsigned char*>(cek.data() + half);
  const auto* iv_bytes = reinterpret_cast<const unsigned char*>(iv.data());
  if (!context ||
      EVP_DecryptInit_ex(context.get(), CbcCipher(half), nullptr, key_bytes, iv_bytes) != 1) {
    return std::nullopt;
  }
  std::string out(ciphertext.size() + 16, '\0');
  int length = 0;
  int final_length = 0;
  if (EVP_DecryptUpdate(context.get(), reinterpret_cast<unsigned char*>(out.data()), &length,
                        reinterpret_cast<const unsigned char*>(ciphertext.data()),
                        static_cast<int>(ciphertext.size())) != 1 ||
      EVP_DecryptFinal_ex(context.get(), reinterpret_cast<unsigned char*>(out.data()) + length,
                          &final_length) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(length + final_length));
  return Secret(std::move(out));
}

// Returns `size` random bytes, or nullopt when OpenSSL's generator fails.
std::optional<Secret> RandomContentKey(size_t size) {
  std::string bytes(size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1) {
    return std::nullopt;
  }
  return Secret(std::move(bytes));
}

bool KidFits(const JweKey& key, std::string_view kid) {
  return kid.empty() || key.id.empty() || key.id == kid;
}

// Returns the CEK that `key` yields for `encrypted_key`, or nullopt when the key does not fit
// the algorithm or the step fails.
std::optional<Secret> ContentKey(const JweKey& key, KeyManagement management, size_t kek_bytes,
                                 std::string_view encrypted_key) {
  switch (management) {
    case KeyManagement::kDirect:
      if (key.symmetric_key.empty() || !encrypted_key.empty()) return std::nullopt;
      return key.symmetric_key;
    case KeyManagement::kAesKeyWrap:
      if (key.symmetric_key.size() != kek_bytes) return std::nullopt;
      return AesUnwrap(key.symmetric_key.Expose(), encrypted_key);
    case KeyManagement::kRsaOaep:
    case KeyManagement::kRsaOaep256:
      if (!key.private_key) return std::nullopt;
      return RsaOaepDecrypt(key.private_key.get(), management == KeyManagement::kRsaOaep256,
                            encrypted_key);
  }
  return std::nullopt;
}

}  // namespace

bool IsCompactJwe(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 4;
}

Result<Secret> DecryptJwe(std::string_view token,
                          const std::vector<std::shared_ptr<const JweKey>>& keys) {
  if (token.size() > kMaxTokenBytes) return Invalid("the JWE is larger than 16 KiB");
  std::array<std::string_view, 5> parts;
  size_t start = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    size_t dot = i + 1 < parts.size() ? token.find('.', start) : std::string_view::npos;
    if (i + 1 < parts.size() && dot == std::string_view::npos) {
      return Invalid("the JWE does not have five dot-separated parts");
    }
    parts[i] = token.substr(start, dot == std::string_view::npos ? dot : dot - start);
    start = dot + 1;
  }
  if (parts[4].find('.') != std::string_view::npos) {
    return Invalid("the JWE does not have five dot-separated parts");
  }
  std::optional<std::string> header_text = Base64UrlDecode(parts[0]);
  std::optional<std::string> encrypted_key = Base64UrlDecode(parts[1]);
  std::optional<std::string> iv = Base64UrlDecode(parts[2]);
  std::optional<std::string> ciphertext = Base64UrlDecode(parts[3]);
  std::optional<std::string> tag = Base64UrlDecode(parts[4]);
  if (!header_text || !encrypted_key || !iv || !ciphertext || !tag) {
    return Invalid("a part of the JWE is not base64url");
  }

  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::system::error_code ec;
  boost::json::value header = boost::json::parse(*header_text, ec, {}, options);
  if (ec || !header.is_object()) return Invalid("the JWE header is not a JSON object");
  const boost::json::object& fields = header.as_object();
  auto text_of = [&fields](std::string_view name) -> std::optional<std::string_view> {
    const boost::json::value* value = fields.if_contains(name);
    if (value == nullptr || !value->is_string()) return std::nullopt;
    return std::string_view(value->get_string());
  };
  if (fields.contains("zip")) {
    return Invalid("the JWE is compressed ('zip'), which is not supported");
  }
  if (fields.contains("crit")) {
    return Invalid("the JWE has a 'crit' header; no extension is supported");
  }
  std::optional<std::string_view> alg = text_of("alg");
  std::optional<std::string_view> enc = text_of("enc");
  if (!alg || !enc) return Invalid("the JWE header needs string 'alg' and 'enc'");
  auto management = ParseAlg(*alg);
  if (!management) return Invalid("the JWE 'alg' '" + std::string(*alg) + "' is not supported");
  auto content = ParseEnc(*enc);
  if (!content) return Invalid("the JWE 'enc' '" + std::string(*enc) + "' is not supported");
  const std::string_view kid = text_of("kid").value_or("");

  // RFC 7516 §5.2 step 14: the AAD is the encoded protected header as it appears in the token.
  const std::string_view aad = parts[0];
  bool key_fits = false;
  for (const auto& key : keys) {
    if (!KidFits(*key, kid)) continue;
    std::optional<Secret> cek =
        ContentKey(*key, management->first, management->second, *encrypted_key);
    const bool rsa = management->first == KeyManagement::kRsaOaep ||
                     management->first == KeyManagement::kRsaOaep256;
    if (rsa && key->private_key && (!cek || cek->size() != content->key_bytes)) {
      // RFC 7516 §11.5: a failed RSA step goes on with a random CEK, so that it takes as long
      // as a bad tag and a caller cannot time the padding check.
      cek = RandomContentKey(content->key_bytes);
    }
    if (!cek) continue;
    key_fits = true;
    if (cek->size() != content->key_bytes) continue;
    std::optional<Secret> plaintext =
        content->mode == ContentMode::kGcm
            ? GcmDecrypt(cek->Expose(), *iv, *ciphertext, *tag, aad)
            : CbcHmacDecrypt(cek->Expose(), *iv, *ciphertext, *tag, aad);
    if (plaintext) return std::move(*plaintext);
  }
  if (!key_fits && management->first == KeyManagement::kDirect) {
    return Invalid("no decryption key fits the JWE's 'alg' dir and 'kid'");
  }
  return DecryptionFailed();
}

}  // namespace credgate::identity
