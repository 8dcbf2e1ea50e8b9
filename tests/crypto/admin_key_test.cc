#include "crypto/admin_key.h"

#include <gtest/gtest.h>

namespace credgate::crypto {
namespace {

TEST(AdminKey, GeneratedKeyIsWellFormed) {
  OpenSslRandom random;
  Secret key = GenerateAdminKey(random);
  EXPECT_TRUE(key.Expose().starts_with("cgk_"));
  EXPECT_EQ(key.size(), 47u);
  EXPECT_TRUE(IsWellFormedAdminKey(key.Expose()));
}

TEST(AdminKey, GeneratedKeysDiffer) {
  OpenSslRandom random;
  EXPECT_FALSE(GenerateAdminKey(random) == GenerateAdminKey(random));
}

TEST(AdminKey, RejectsMalformedKeys) {
  EXPECT_FALSE(IsWellFormedAdminKey(""));
  EXPECT_FALSE(IsWellFormedAdminKey("cgk_short"));
  EXPECT_FALSE(IsWellFormedAdminKey("xyz_" + std::string(43, 'A')));
  EXPECT_FALSE(IsWellFormedAdminKey("cgk_" + std::string(42, 'A') + "!"));
}

TEST(AdminKey, HashIsHexSha256) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(HashAdminKey(Secret("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AdminKey, VerifyMatchesOnlyTheKey) {
  OpenSslRandom random;
  Secret key = GenerateAdminKey(random);
  std::string hash = HashAdminKey(key);
  EXPECT_TRUE(VerifyAdminKey(key, hash));
  EXPECT_FALSE(VerifyAdminKey(GenerateAdminKey(random), hash));
  EXPECT_FALSE(VerifyAdminKey(key, hash.substr(1)));
}

}  // namespace
}  // namespace credgate::crypto
