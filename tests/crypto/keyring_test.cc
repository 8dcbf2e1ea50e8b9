#include "crypto/keyring.h"

#include <gtest/gtest.h>

namespace credgate::crypto {
namespace {

constexpr std::string_view kAad = "connections/github/alice";

MasterKey Key(std::string id, char fill) {
  return MasterKey{std::move(id), Secret(std::string(32, fill))};
}

Keyring MakeKeyring(std::vector<MasterKey> keys) {
  auto keyring = Keyring::Create(std::move(keys));
  EXPECT_TRUE(keyring.ok()) << keyring.error().message;
  return std::move(keyring).value();
}

TEST(Keyring, SealsWithLastKey) {
  Keyring keyring = MakeKeyring({Key("old", 'a'), Key("new", 'b')});
  EXPECT_EQ(keyring.active_key_id(), "new");
  auto blob = keyring.Seal(Secret("token"), kAad);
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(SealedKeyId(*blob).value(), "new");
}

TEST(Keyring, OpensBlobsOfOlderKeys) {
  Keyring before = MakeKeyring({Key("old", 'a')});
  std::string blob = before.Seal(Secret("token"), kAad).value();

  Keyring after = MakeKeyring({Key("old", 'a'), Key("new", 'b')});
  auto opened = after.Open(blob, kAad);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_TRUE(opened->Equals("token"));
}

TEST(Keyring, MissingKeyIdListsPresentIds) {
  Keyring before = MakeKeyring({Key("retired", 'a')});
  std::string blob = before.Seal(Secret("token"), kAad).value();

  Keyring after = MakeKeyring({Key("k1", 'b'), Key("k2", 'c')});
  auto opened = after.Open(blob, kAad);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(opened.error().message.find("'retired'"), std::string::npos);
  EXPECT_NE(opened.error().message.find("'k1', 'k2'"), std::string::npos);
}

TEST(Keyring, RewrapMovesBlobToActiveKey) {
  Keyring keyring = MakeKeyring({Key("old", 'a'), Key("new", 'b')});
  Keyring old_only = MakeKeyring({Key("old", 'a')});
  std::string blob = old_only.Seal(Secret("token"), kAad).value();

  auto rewrapped = keyring.Rewrap(blob);
  ASSERT_TRUE(rewrapped.ok()) << rewrapped.error().message;
  EXPECT_EQ(SealedKeyId(*rewrapped).value(), "new");
  EXPECT_TRUE(keyring.Open(*rewrapped, kAad).value().Equals("token"));
}

TEST(Keyring, RejectsDuplicateIds) {
  auto keyring = Keyring::Create({Key("k1", 'a'), Key("k1", 'b')});
  ASSERT_FALSE(keyring.ok());
  EXPECT_NE(keyring.error().message.find("appears twice"), std::string::npos);
}

TEST(Keyring, RejectsEmptyList) { EXPECT_FALSE(Keyring::Create({}).ok()); }

TEST(Keyring, ListsIdsInOrder) {
  Keyring keyring = MakeKeyring({Key("a", 'a'), Key("b", 'b')});
  EXPECT_EQ(keyring.key_ids(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(keyring.Contains("a"));
  EXPECT_FALSE(keyring.Contains("c"));
}

}  // namespace
}  // namespace credgate::crypto
