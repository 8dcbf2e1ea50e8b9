#include "crypto/aead.h"

#include <array>

#include "common/encoding.h"
#include "crypto/aes_gcm.h"

namespace credgate::crypto {

namespace {

constexpr size_t kWrappedKeySize = kAesKeySize + kGcmTagSize;

// Domain-separation prefixes, so that a wrapped key can never be opened as a payload or the
// reverse, whatever the keys.
constexpr std::string_view kWrapContext = "credgate.sealed.wrap";
constexpr std::string_view kPayloadContext = "credgate.sealed.payload";

// A parsed blob; every view points into the blob that was parsed.
struct SealedView {
  std::string_view header;  // Version, key id length and key id.
  std::string_view key_id;
  std::string_view wrap_nonce;
  std::string_view wrapped_key;
  std::string_view nonce;
  std::string_view ciphertext_and_tag;
};

Result<SealedView> Parse(std::string_view blob) {
  if (blob.size() < 2) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed blob is truncated: " + std::to_string(blob.size()) +
                         " bytes, too short for the header");
  }
  uint8_t version = static_cast<uint8_t>(blob[0]);
  if (version != kSealedFormatVersion) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed blob has unsupported format version " + std::to_string(version) +
                         "; this build reads version " + std::to_string(kSealedFormatVersion));
  }
  size_t id_size = static_cast<uint8_t>(blob[1]);
  if (id_size == 0 || id_size > kMaxKeyIdLength) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed blob has an invalid key id length " + std::to_string(id_size));
  }
  if (blob.size() < SealedOverhead(id_size)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed blob is truncated: " + std::to_string(blob.size()) +
                         " bytes, the format needs at least " +
                         std::to_string(SealedOverhead(id_size)));
  }

  SealedView view;
  size_t offset = 2;
  view.key_id = blob.substr(offset, id_size);
  if (!IsValidKeyId(view.key_id)) {
    return MakeError(ErrorCode::kInvalidArgument, "sealed blob names an invalid key id");
  }
  offset += id_size;
  view.header = blob.substr(0, offset);
  view.wrap_nonce = blob.substr(offset, kGcmNonceSize);
  offset += kGcmNonceSize;
  view.wrapped_key = blob.substr(offset, kWrappedKeySize);
  offset += kWrappedKeySize;
  view.nonce = blob.substr(offset, kGcmNonceSize);
  offset += kGcmNonceSize;
  view.ciphertext_and_tag = blob.substr(offset);
  return view;
}

std::string Header(const MasterKey& key) {
  std::string header;
  header.push_back(static_cast<char>(kSealedFormatVersion));
  header.push_back(static_cast<char>(key.id.size()));
  header += key.id;
  return header;
}

std::string WrapAad(std::string_view header) {
  return std::string(kWrapContext) + std::string(header);
}

std::string PayloadAad(std::string_view aad) {
  std::string out(kPayloadContext);
  out.push_back(static_cast<char>(kSealedFormatVersion));
  out += aad;
  return out;
}

std::string RandomBytes(RandomSource& random, size_t size) {
  std::string out(size, '\0');
  random.Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

// Encrypts `data_key` under `key` and returns header || wrap nonce || wrapped key.
Result<std::string> WrapDataKey(const MasterKey& key, const Secret& data_key,
                                RandomSource& random) {
  std::string out = Header(key);
  std::string wrap_nonce = RandomBytes(random, kGcmNonceSize);
  auto wrapped = AesGcmEncrypt(key.key.Expose(), wrap_nonce, data_key.Expose(), WrapAad(out));
  if (!wrapped.ok()) return wrapped.error();
  out += wrap_nonce;
  out += *wrapped;
  return out;
}

Result<Secret> UnwrapDataKey(const MasterKey& key, const SealedView& view) {
  if (view.key_id != key.id) {
    return MakeError(ErrorCode::kFailedPrecondition, "sealed blob was sealed with master key '" +
                                                         std::string(view.key_id) +
                                                         "', not with '" + key.id + "'");
  }
  auto data_key =
      AesGcmDecrypt(key.key.Expose(), view.wrap_nonce, view.wrapped_key, WrapAad(view.header));
  if (!data_key.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "failed to unwrap the data key with master key '" + key.id +
                         "': the blob was modified or the key bytes under this id differ from "
                         "the ones that sealed it");
  }
  return data_key;
}

}  // namespace

bool IsValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdLength) return false;
  for (char c : id) {
    bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   c == '.' || c == '_' || c == '-';
    if (!allowed) return false;
  }
  return true;
}

Status ValidateMasterKey(const MasterKey& key) {
  if (!IsValidKeyId(key.id)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid master key id '" + key.id +
                         "': use 1 to 64 characters of letters, digits, '.', '_' and '-'");
  }
  if (key.key.size() != kAesKeySize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "master key '" + key.id + "' has " + std::to_string(key.key.size()) +
                         " bytes, expected 32; generate one with `openssl rand -base64 32`");
  }
  return OkStatus();
}

Result<std::string> Seal(const MasterKey& key, const Secret& plaintext, std::string_view aad,
                         RandomSource& random) {
  CREDGATE_RETURN_IF_ERROR(ValidateMasterKey(key));
  Secret data_key(RandomBytes(random, kAesKeySize));
  auto out = WrapDataKey(key, data_key, random);
  if (!out.ok()) return out;

  std::string nonce = RandomBytes(random, kGcmNonceSize);
  auto payload = AesGcmEncrypt(data_key.Expose(), nonce, plaintext.Expose(), PayloadAad(aad));
  if (!payload.ok()) return payload.error();
  *out += nonce;
  *out += *payload;
  return out;
}

Result<Secret> Open(const MasterKey& key, std::string_view blob, std::string_view aad) {
  auto view = Parse(blob);
  if (!view.ok()) return view.error();
  auto data_key = UnwrapDataKey(key, *view);
  if (!data_key.ok()) return data_key;

  auto plaintext =
      AesGcmDecrypt(data_key->Expose(), view->nonce, view->ciphertext_and_tag, PayloadAad(aad));
  if (!plaintext.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "failed to open sealed blob: authentication failed, so either the associated "
                     "data names another record or the payload was modified");
  }
  return plaintext;
}

Result<std::string> SealedKeyId(std::string_view blob) {
  auto view = Parse(blob);
  if (!view.ok()) return view.error();
  return std::string(view->key_id);
}

Result<std::string> Rewrap(std::string_view blob, const MasterKey& from, const MasterKey& to,
                           RandomSource& random) {
  CREDGATE_RETURN_IF_ERROR(ValidateMasterKey(to));
  auto view = Parse(blob);
  if (!view.ok()) return view.error();
  auto data_key = UnwrapDataKey(from, *view);
  if (!data_key.ok()) return data_key.error();

  auto out = WrapDataKey(to, *data_key, random);
  if (!out.ok()) return out;
  *out += view->nonce;
  *out += view->ciphertext_and_tag;
  return out;
}

std::string SealedToBase64(std::string_view blob) { return Base64Encode(blob); }

Result<std::string> SealedFromBase64(std::string_view text) {
  auto blob = Base64Decode(text);
  if (!blob) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "sealed value is not valid padded base64 (RFC 4648 §4)");
  }
  return std::move(*blob);
}

}  // namespace credgate::crypto
