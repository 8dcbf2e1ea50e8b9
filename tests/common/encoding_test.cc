#include "common/encoding.h"

#include <gtest/gtest.h>

namespace credgate {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodesWithAndWithoutPadding) {
  EXPECT_EQ(Base64UrlDecode("Zm8").value(), "fo");
  EXPECT_EQ(Base64UrlDecode("Zm8=").value(), "fo");
  EXPECT_EQ(Base64UrlDecode("-_8").value(), "\xfb\xff");
}

TEST(Base64Url, RejectsInvalidInput) {
  EXPECT_FALSE(Base64UrlDecode("Zm9v!").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());  // Nonzero trailing bits.
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());
}

TEST(Base64, PaddedRoundTrip) {
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Decode("Zm8=").value(), "fo");
  EXPECT_FALSE(Base64Decode("Zm8").has_value());
}

TEST(FormEncoding, EncodesReservedCharacters) {
  EXPECT_EQ(FormEncode({{"a b", "c&d=e"}, {"x", "~-._"}}), "a+b=c%26d%3De&x=~-._");
}

TEST(FormEncoding, DecodesPairs) {
  auto fields = FormDecode("code=abc%2Fdef&state=x+y&&empty=");
  ASSERT_TRUE(fields.has_value());
  ASSERT_EQ(fields->size(), 3u);
  EXPECT_EQ((*fields)[0].second, "abc/def");
  EXPECT_EQ((*fields)[1].second, "x y");
  EXPECT_EQ((*fields)[2].first, "empty");
}

TEST(FormEncoding, RejectsTruncatedEscape) {
  EXPECT_FALSE(FormDecode("a=%4").has_value());
  EXPECT_FALSE(FormDecode("a=%zz").has_value());
  EXPECT_FALSE(PercentDecode("%", false).has_value());
}

TEST(PercentEncoding, KeepsUnreservedOnly) {
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b%2Fc");
  EXPECT_EQ(PercentDecode("a%20b+c", false).value(), "a b+c");
}

}  // namespace
}  // namespace credgate
