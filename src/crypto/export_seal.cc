#include "crypto/export_seal.h"

#include <array>
#include <cctype>

#include "common/encoding.h"
#include "crypto/aead.h"
#include "crypto/aes_gcm.h"

namespace credgate::crypto {

namespace {

std::string AssociatedData(std::string_view resource_path, std::string_view field) {
  return std::string(resource_path) + "#" + std::string(field);
}

MasterKey ExportMasterKey(const Secret& key) { return MasterKey{std::string(kExportKeyId), key}; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

Secret GenerateExportKey(RandomSource& random) {
  std::array<uint8_t, kAesKeySize> bytes{};
  random.Fill(bytes);
  std::string raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  Secret encoded(Base64Encode(raw));
  std::fill(raw.begin(), raw.end(), '\0');
  bytes.fill(0);
  return encoded;
}

Result<Secret> ParseExportKey(std::string_view text) {
  std::optional<std::string> decoded = Base64Decode(Trim(text));
  if (!decoded || decoded->size() != kAesKeySize) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the export key must be 32 random bytes in base64 (44 characters), as "
                     "'credgate export-key create' prints");
  }
  return Secret(std::move(*decoded));
}

Result<std::string> SealExportValue(const Secret& key, std::string_view resource_path,
                                    std::string_view field, const Secret& plaintext,
                                    RandomSource& random) {
  auto sealed = Seal(ExportMasterKey(key), plaintext, AssociatedData(resource_path, field), random);
  if (!sealed.ok()) return sealed.error();
  return SealedToBase64(*sealed);
}

Result<Secret> OpenExportValue(const Secret& key, std::string_view resource_path,
                               std::string_view field, std::string_view sealed_base64) {
  auto fail = [&](std::string_view why) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        std::string(resource_path) + ": sealed '" + std::string(field) + "' " + std::string(why),
        "ValidationError");
  };
  auto blob = SealedFromBase64(sealed_base64);
  if (!blob.ok()) return fail("is not base64");
  auto opened = Open(ExportMasterKey(key), *blob, AssociatedData(resource_path, field));
  if (!opened.ok()) {
    return fail(
        "does not open: the export key is wrong, or the value was changed or belongs "
        "to another resource");
  }
  return opened;
}

}  // namespace credgate::crypto
