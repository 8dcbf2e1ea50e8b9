#include "crypto/aead.h"

#include <gtest/gtest.h>

#include "crypto/aes_gcm.h"

namespace credgate::crypto {
namespace {

constexpr std::string_view kAad = "connections/github/alice";

class AeadTest : public ::testing::Test {
 protected:
  static MasterKey Key(std::string id, char fill) {
    return MasterKey{std::move(id), Secret(std::string(32, fill))};
  }

  std::string SealText(std::string_view plaintext, std::string_view aad = kAad) {
    auto blob = Seal(key_, Secret(std::string(plaintext)), aad, random_);
    EXPECT_TRUE(blob.ok()) << blob.error().message;
    return blob.ok() ? *blob : std::string();
  }

  // Offsets into a blob sealed under key_ (id "k1", two bytes long).
  static constexpr size_t kKeyIdOffset = 2;
  static constexpr size_t kWrapNonceOffset = 4;
  static constexpr size_t kWrappedKeyOffset = 16;
  static constexpr size_t kNonceOffset = 64;
  static constexpr size_t kCiphertextOffset = 76;

  OpenSslRandom random_;
  MasterKey key_ = Key("k1", 'a');
};

TEST_F(AeadTest, RoundTrip) {
  for (std::string plaintext : {std::string(), std::string("x"), std::string(1000, 'r')}) {
    std::string blob = SealText(plaintext);
    auto opened = Open(key_, blob, kAad);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    EXPECT_TRUE(opened->Equals(plaintext));
    EXPECT_EQ(blob.size(), plaintext.size() + SealedOverhead(2));
  }
}

TEST_F(AeadTest, LayoutHasVersionAndKeyId) {
  std::string blob = SealText("refresh-token");
  EXPECT_EQ(blob[0], char(kSealedFormatVersion));
  EXPECT_EQ(blob[1], char(2));
  EXPECT_EQ(blob.substr(kKeyIdOffset, 2), "k1");
  EXPECT_EQ(SealedKeyId(blob).value(), "k1");
}

TEST_F(AeadTest, SealUsesFreshNonces) { EXPECT_NE(SealText("same"), SealText("same")); }

TEST_F(AeadTest, CiphertextHidesPlaintext) {
  std::string blob = SealText("plaintext-marker");
  EXPECT_EQ(blob.find("plaintext-marker"), std::string::npos);
}

TEST_F(AeadTest, TamperedByteFailsToOpen) {
  std::string blob = SealText("refresh-token");
  struct Case {
    const char* field;
    size_t offset;
  };
  const Case cases[] = {
      {"key id", kKeyIdOffset + 1},       {"wrap nonce", kWrapNonceOffset},
      {"wrapped key", kWrappedKeyOffset}, {"nonce", kNonceOffset},
      {"ciphertext", kCiphertextOffset},  {"tag", blob.size() - 1},
  };
  for (const Case& c : cases) {
    std::string tampered = blob;
    tampered[c.offset] ^= 0x01;
    EXPECT_FALSE(Open(key_, tampered, kAad).ok()) << c.field;
  }
}

TEST_F(AeadTest, TamperedKeyIdNamesKey) {
  std::string blob = SealText("refresh-token");
  blob[kKeyIdOffset + 1] = '2';
  auto opened = Open(key_, blob, kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(opened.error().message.find("'k2'"), std::string::npos);
}

TEST_F(AeadTest, WrongAadFailsToOpen) {
  std::string blob = SealText("refresh-token");
  auto opened = Open(key_, blob, "connections/github/bob");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(opened.error().message.find("authentication failed"), std::string::npos);
}

TEST_F(AeadTest, WrongKeyBytesFailToOpen) {
  std::string blob = SealText("refresh-token");
  auto opened = Open(Key("k1", 'b'), blob, kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("unwrap"), std::string::npos);
}

TEST_F(AeadTest, WrongKeyIdFailsToOpen) {
  std::string blob = SealText("refresh-token");
  auto opened = Open(Key("k2", 'a'), blob, kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(AeadTest, TruncatedBlobFailsToOpen) {
  std::string blob = SealText("refresh-token");
  for (size_t size = 0; size < blob.size(); ++size) {
    EXPECT_FALSE(Open(key_, blob.substr(0, size), kAad).ok()) << size;
  }
}

TEST_F(AeadTest, TruncatedHeaderIsInvalidArgument) {
  auto opened = Open(key_, SealText("x").substr(0, 40), kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(opened.error().message.find("truncated"), std::string::npos);
}

TEST_F(AeadTest, UnknownVersionFailsToOpen) {
  std::string blob = SealText("x");
  blob[0] = 2;
  auto opened = Open(key_, blob, kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().message.find("version 2"), std::string::npos);
}

TEST_F(AeadTest, InvalidMasterKeyIsRejected) {
  MasterKey short_key{"k1", Secret(std::string(16, 'a'))};
  EXPECT_FALSE(Seal(short_key, Secret("x"), kAad, random_).ok());
  MasterKey bad_id{"k 1", Secret(std::string(32, 'a'))};
  EXPECT_FALSE(Seal(bad_id, Secret("x"), kAad, random_).ok());
}

TEST_F(AeadTest, RewrapKeepsPayload) {
  std::string blob = SealText("refresh-token");
  MasterKey next = Key("k2", 'z');
  auto rewrapped = Rewrap(blob, key_, next, random_);
  ASSERT_TRUE(rewrapped.ok()) << rewrapped.error().message;
  EXPECT_EQ(SealedKeyId(*rewrapped).value(), "k2");
  EXPECT_EQ(rewrapped->substr(kNonceOffset), blob.substr(kNonceOffset));
  auto opened = Open(next, *rewrapped, kAad);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_TRUE(opened->Equals("refresh-token"));
  EXPECT_FALSE(Open(key_, *rewrapped, kAad).ok());
}

TEST_F(AeadTest, Base64RoundTrip) {
  std::string blob = SealText("refresh-token");
  auto decoded = SealedFromBase64(SealedToBase64(blob));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, blob);
  EXPECT_FALSE(SealedFromBase64("not base64!").ok());
}

// Test case 14 of the revised GCM specification by McGrew and Viega: AES-256, zero key, zero
// 96-bit nonce, one zero block and no associated data.
TEST(AesGcm, KnownAnswer) {
  std::string key(32, '\0');
  std::string nonce(12, '\0');
  std::string plaintext(16, '\0');
  auto sealed = AesGcmEncrypt(key, nonce, plaintext, "");
  ASSERT_TRUE(sealed.ok());
  std::string hex;
  for (unsigned char c : *sealed) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex.push_back(kDigits[c >> 4]);
    hex.push_back(kDigits[c & 15]);
  }
  EXPECT_EQ(hex, "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919");
}

}  // namespace
}  // namespace credgate::crypto
