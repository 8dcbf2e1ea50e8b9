#include "store/change_feed.h"

#include <gtest/gtest.h>

namespace credgate::store {
namespace {

using Type = StoreChange::Type;

struct Case {
  StoreChange change;
  std::string payload;
};

const Case kCases[] = {
    {{Type::kResourcePut, "authorizationProvider", "authorizationProviders/github", 3},
     "P 3 authorizationProvider authorizationProviders/github"},
    {{Type::kTreeDeleted, "", "authorizationProviders/github", 0},
     "D authorizationProviders/github"},
    {{Type::kTokensPut, "", "p/github/authorizations/alice", 12},
     "T 12 p/github/authorizations/alice"},
    {{Type::kTokensDeleted, "", "p/a", 0}, "X p/a"},
    {{Type::kResync, "", "", 0}, "R"},
    {{Type::kResourcePut, "k", "a b%c", 1}, "P 1 k a%20b%25c"},
    {{Type::kTokensDeleted, "", std::string("nul\0tab\tnl\n", 11), 0}, "X nul%00tab%09nl%0A"},
    {{Type::kTokensDeleted, "", "caf\xC3\xA9", 0}, "X caf%C3%A9"},
    {{Type::kTokensPut, "", "", -1}, "T -1 "},
};

TEST(ChangeFeedCodec, EncodesCanonically) {
  for (const Case& test : kCases) {
    EXPECT_EQ(EncodeStoreChange(test.change), test.payload) << test.payload;
  }
}

TEST(ChangeFeedCodec, ParsesWhatItEncodes) {
  for (const Case& test : kCases) {
    auto parsed = ParseStoreChange(test.payload);
    ASSERT_TRUE(parsed.ok()) << test.payload << ": " << parsed.error().message;
    EXPECT_EQ(parsed->type, test.change.type) << test.payload;
    EXPECT_EQ(parsed->kind, test.change.kind) << test.payload;
    EXPECT_EQ(parsed->key, test.change.key) << test.payload;
    EXPECT_EQ(parsed->version, test.change.version) << test.payload;
  }
}

TEST(ChangeFeedCodec, ResyncIgnoresOtherFields) {
  EXPECT_EQ(EncodeStoreChange({Type::kResync, "kind", "key", 5}), "R");
}

TEST(ChangeFeedCodec, RejectsMalformedPayloads) {
  const char* kMalformed[] = {
      "",                          // no type
      "Q key",                     // unknown type
      "R extra",                   // too many fields
      "D",                         // missing key
      "D a b",                     // unescaped space
      "P 1 kind",                  // missing key
      "P x kind key",              // version not a number
      "P +1 kind key",             // not canonical
      "P 01 kind key",             // not canonical
      "T 1",                       // missing key
      "X a%2",                     // short escape
      "X a%zz",                    // not hex
      "X a%2f",                    // lower-case hex
      "X a%41",                    // needless escape of 'A'
      "X a\tb",                    // raw control byte
      "T 99999999999999999999 k",  // out of range
  };
  for (const char* payload : kMalformed) {
    auto parsed = ParseStoreChange(payload);
    ASSERT_FALSE(parsed.ok()) << "'" << payload << "'";
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << payload;
  }
}

}  // namespace
}  // namespace credgate::store
