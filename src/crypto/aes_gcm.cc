#include "crypto/aes_gcm.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <climits>
#include <memory>

namespace credgate::crypto {

namespace {

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

const unsigned char* Bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

unsigned char* Bytes(std::string& text) { return reinterpret_cast<unsigned char*>(text.data()); }

struct WipeGuard {
  std::string& buffer;
  ~WipeGuard() { OPENSSL_cleanse(buffer.data(), buffer.size()); }
};

Status CheckSizes(std::string_view key, std::string_view nonce, std::string_view data,
                  std::string_view aad) {
  if (key.size() != kAesKeySize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "AES-256-GCM key has " + std::to_string(key.size()) + " bytes, expected 32");
  }
  if (nonce.size() != kGcmNonceSize) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "AES-256-GCM nonce has " + std::to_string(nonce.size()) + " bytes, expected 12");
  }
  if (data.size() > INT_MAX || aad.size() > INT_MAX) {
    return MakeError(ErrorCode::kInvalidArgument, "AES-256-GCM input exceeds the maximum of " +
                                                      std::to_string(INT_MAX) + " bytes");
  }
  return OkStatus();
}

// AES-256-GCM fetched from the default provider once. EVP_aes_256_gcm() makes every
// EVP_*Init_ex2 call fetch the implementation again, which cost about as many instructions as
// the key schedule (callgrind over the start-up load of sealed token records). Null when the
// fetch failed, and then each init reports the failure.
const EVP_CIPHER* AesGcmCipher() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

Error OpenSslFailure(std::string_view step) {
  return MakeError(ErrorCode::kInternal, "OpenSSL AES-256-GCM " + std::string(step) + " failed");
}

}  // namespace

Result<std::string> AesGcmEncrypt(std::string_view key, std::string_view nonce,
                                  std::string_view plaintext, std::string_view aad) {
  CREDGATE_RETURN_IF_ERROR(CheckSizes(key, nonce, plaintext, aad));
  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context) return OpenSslFailure("context allocation");
  if (EVP_EncryptInit_ex2(context.get(), AesGcmCipher(), Bytes(key), Bytes(nonce), nullptr) !=
      1) {
    return OpenSslFailure("encrypt init");
  }

  // A null output pointer makes EVP_EncryptUpdate absorb the bytes as associated data.
  int length = 0;
  if (!aad.empty() && EVP_EncryptUpdate(context.get(), nullptr, &length, Bytes(aad),
                                        static_cast<int>(aad.size())) != 1) {
    return OpenSslFailure("associated data");
  }

  std::string out(plaintext.size() + kGcmTagSize, '\0');
  int written = 0;
  if (!plaintext.empty()) {
    if (EVP_EncryptUpdate(context.get(), Bytes(out), &length, Bytes(plaintext),
                          static_cast<int>(plaintext.size())) != 1) {
      return OpenSslFailure("encrypt");
    }
    written = length;
  }
  if (EVP_EncryptFinal_ex(context.get(), Bytes(out) + written, &length) != 1) {
    return OpenSslFailure("encrypt final");
  }
  written += length;
  if (static_cast<size_t>(written) != plaintext.size()) return OpenSslFailure("encrypt length");

  if (EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagSize, Bytes(out) + written) !=
      1) {
    return OpenSslFailure("get tag");
  }
  return out;
}

Result<Secret> AesGcmDecrypt(std::string_view key, std::string_view nonce,
                             std::string_view ciphertext_and_tag, std::string_view aad) {
  CREDGATE_RETURN_IF_ERROR(CheckSizes(key, nonce, ciphertext_and_tag, aad));
  if (ciphertext_and_tag.size() < kGcmTagSize) {
    return MakeError(ErrorCode::kInvalidArgument, "AES-256-GCM input has " +
                                                      std::to_string(ciphertext_and_tag.size()) +
                                                      " bytes, shorter than the 16-byte tag");
  }
  std::string_view ciphertext =
      ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kGcmTagSize);
  std::string tag(ciphertext_and_tag.substr(ciphertext.size()));

  CipherContext context(EVP_CIPHER_CTX_new());
  if (!context) return OpenSslFailure("context allocation");
  if (EVP_DecryptInit_ex2(context.get(), AesGcmCipher(), Bytes(key), Bytes(nonce), nullptr) !=
      1) {
    return OpenSslFailure("decrypt init");
  }
  int length = 0;
  if (!aad.empty() && EVP_DecryptUpdate(context.get(), nullptr, &length, Bytes(aad),
                                        static_cast<int>(aad.size())) != 1) {
    return OpenSslFailure("associated data");
  }

  // The guard wipes the working buffer on every return, including a failed authentication.
  std::string buffer(ciphertext.size(), '\0');
  WipeGuard wipe{buffer};
  unsigned char* out = Bytes(buffer);
  int written = 0;
  if (!ciphertext.empty()) {
    if (EVP_DecryptUpdate(context.get(), out, &length, Bytes(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1) {
      return OpenSslFailure("decrypt");
    }
    written = length;
  }
  if (EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagSize, Bytes(tag)) != 1) {
    return OpenSslFailure("set tag");
  }
  if (EVP_DecryptFinal_ex(context.get(), out + written, &length) != 1) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "AES-256-GCM authentication failed: the key, the associated data or the "
                     "ciphertext does not match what was sealed");
  }
  return Secret(buffer);
}

}  // namespace credgate::crypto
