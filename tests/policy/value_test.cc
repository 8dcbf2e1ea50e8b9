#include "policy/value.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "policy/header_map.h"

namespace credgate::policy {
namespace {

TEST(ValueTest, ToStringFollowsDotNet) {
  EXPECT_EQ(Value().ToString(), "");
  EXPECT_EQ(Value(true).ToString(), "True");
  EXPECT_EQ(Value(false).ToString(), "False");
  EXPECT_EQ(Value(-12).ToString(), "-12");
  EXPECT_EQ(Value(1.5).ToString(), "1.5");
  EXPECT_EQ(Value("s").ToString(), "s");
}

TEST(ValueTest, EqualityAcrossNumbers) {
  EXPECT_TRUE(ValuesEqual(Value(2), Value(2.0)));
  EXPECT_FALSE(ValuesEqual(Value(2), Value("2")));
  EXPECT_TRUE(ValuesEqual(Value(), Value()));
}

TEST(ValueTest, AuthorizationFromJsonClaims) {
  boost::json::object claims =
      boost::json::parse(R"({"sub":"alice","roles":["a","b"],"n":7})").as_object();
  Value authorization(MakeAuthorization("tok", claims));
  EXPECT_EQ(authorization.TypeName(), "Authorization");
  EXPECT_TRUE(authorization.AsObject().IsInstanceOf("Authorization"));
  auto token = authorization.AsObject().GetMember("AccessToken");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->AsString(), "tok");

  auto claims_value = authorization.AsObject().GetMember("Claims");
  ASSERT_TRUE(claims_value.ok());
  const Object& dictionary = claims_value->AsObject();
  Value key("n");
  auto n = dictionary.CallMethod("GetValueOrDefault", std::span<const Value>(&key, 1));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->AsInt(), 7);
  Value roles_key("roles");
  auto roles = dictionary.CallMethod(kIndexerMethod, std::span<const Value>(&roles_key, 1));
  ASSERT_TRUE(roles.ok());
  auto length = roles->AsObject().GetMember("Length");
  ASSERT_TRUE(length.ok());
  EXPECT_EQ(length->AsInt(), 2);
  Value missing("missing");
  EXPECT_FALSE(dictionary.CallMethod(kIndexerMethod, std::span<const Value>(&missing, 1)).ok());
}

// A stored token set as the gateway keeps it: the object reads the token and the response in
// place and keeps the set alive.
struct StoredTokens {
  std::string access_token;
  boost::json::object response;
};

TEST(ValueTest, AuthorizationReadsOwnedTokensInPlace) {
  auto stored = std::make_shared<StoredTokens>();
  stored->access_token = "backend-token";
  stored->response = boost::json::parse(R"({"scope":"repo","n":7})").as_object();
  std::weak_ptr<StoredTokens> watch = stored;
  Value authorization(MakeAuthorization(stored, stored->access_token, stored->response));
  stored.reset();
  ASSERT_FALSE(watch.expired()) << "the object must keep its owner alive";

  EXPECT_TRUE(authorization.AsObject().IsInstanceOf("Authorization"));
  auto token = authorization.AsObject().GetMember("AccessToken");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->AsString(), "backend-token");
  auto claims = authorization.AsObject().GetMember("Claims");
  ASSERT_TRUE(claims.ok());
  Value key("scope");
  auto scope = claims->AsObject().CallMethod("GetValueOrDefault", std::span<const Value>(&key, 1));
  ASSERT_TRUE(scope.ok());
  EXPECT_EQ(scope->AsString(), "repo");
  auto again = authorization.AsObject().GetMember("Claims");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(ValuesEqual(*claims, *again)) << "Claims is one dictionary, as in .NET";

  authorization = Value();
  EXPECT_TRUE(watch.expired());
}

TEST(ValueTest, OwnedValueReleasesTokenOwner) {
  auto stored = std::make_shared<StoredTokens>();
  stored->access_token = "backend-token";
  stored->response = boost::json::parse(R"({"scope":"repo"})").as_object();
  std::weak_ptr<StoredTokens> watch = stored;
  Value borrowed(MakeAuthorization(stored, stored->access_token, stored->response));
  Value list(MakeList({borrowed, Value(1)}));
  Value dictionary(MakeDictionary({{"auth", borrowed}, {"n", Value(2)}}, /*ignore_case=*/false));
  const Value owned = OwnedValue(borrowed);
  const Value owned_list = OwnedValue(list);
  const Value owned_dictionary = OwnedValue(dictionary);
  stored.reset();
  borrowed = Value();
  list = Value();
  dictionary = Value();
  EXPECT_TRUE(watch.expired()) << "an owned copy must not keep the token set alive";

  auto token = owned.AsObject().GetMember("AccessToken");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->AsString(), "backend-token");
  auto claims = owned.AsObject().GetMember("Claims");
  ASSERT_TRUE(claims.ok());
  Value scope_key("scope");
  auto scope =
      claims->AsObject().CallMethod("GetValueOrDefault", std::span<const Value>(&scope_key, 1));
  ASSERT_TRUE(scope.ok());
  EXPECT_EQ(scope->AsString(), "repo");
  auto from_list = owned_list.AsObject().SequenceItem(0).AsObject().GetMember("AccessToken");
  ASSERT_TRUE(from_list.ok());
  EXPECT_EQ(from_list->AsString(), "backend-token");
  EXPECT_EQ(owned_list.AsObject().SequenceItem(1).AsInt(), 1);
  Value auth_key("auth");
  auto from_dictionary =
      owned_dictionary.AsObject().CallMethod(kIndexerMethod, std::span<const Value>(&auth_key, 1));
  ASSERT_TRUE(from_dictionary.ok());
  auto dictionary_token = from_dictionary->AsObject().GetMember("AccessToken");
  ASSERT_TRUE(dictionary_token.ok());
  EXPECT_EQ(dictionary_token->AsString(), "backend-token");
}

TEST(ValueTest, OwnedValueKeepsOwningObjects) {
  const Value list(MakeList({Value("a"), Value(MakeList({Value(1)}))}));
  const Value owned = OwnedValue(list);
  EXPECT_EQ(&owned.AsObject(), &list.AsObject());
}

TEST(ValueTest, ListIsSequence) {
  Value list(MakeList({Value("a"), Value(2)}));
  ASSERT_EQ(list.AsObject().SequenceSize(), 2u);
  EXPECT_EQ(list.AsObject().SequenceItem(1).AsInt(), 2);
}

TEST(ValueTest, DictionaryItemsAreKeyValuePairs) {
  Value dictionary(MakeDictionary(Entries{{"k", Value("v")}}, /*ignore_case=*/false));
  ASSERT_EQ(dictionary.AsObject().SequenceSize(), 1u);
  Value pair = dictionary.AsObject().SequenceItem(0);
  EXPECT_EQ(pair.AsObject().GetMember("Key")->AsString(), "k");
  EXPECT_EQ(pair.AsObject().GetMember("Value")->AsString(), "v");
}

TEST(ValueTest, BytesIndexAndLength) {
  Value bytes(MakeBytes("AB"));
  EXPECT_EQ(bytes.AsObject().GetMember("Length")->AsInt(), 2);
  Value index(1);
  auto item = bytes.AsObject().CallMethod(kIndexerMethod, std::span<const Value>(&index, 1));
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(item->AsInt(), 66);
  ASSERT_NE(BytesOf(bytes), nullptr);
  EXPECT_EQ(*BytesOf(bytes), "AB");
  EXPECT_EQ(BytesOf(Value("AB")), nullptr);
}

TEST(ValueTest, ObjectsWithoutOrderDoNotCompare) {
  Value list(MakeList({}));
  EXPECT_FALSE(list.AsObject().CompareTo(list.AsObject()).has_value());
  EXPECT_TRUE(ValuesEqual(list, list));
  EXPECT_FALSE(ValuesEqual(list, Value(MakeList({}))));
}

TEST(HeaderMapTest, CaseInsensitiveOperations) {
  HeaderMap headers{{"Accept", "a"}, {"X-Id", "1"}, {"accept", "b"}};
  EXPECT_EQ(*headers.Get("ACCEPT"), "a");
  EXPECT_EQ(*headers.GetJoined("accept"), "a,b");
  EXPECT_EQ(headers.Count("Accept"), 2u);

  headers.Set("accept", "c");
  EXPECT_EQ(headers.Count("Accept"), 1u);
  EXPECT_EQ(headers.fields()[0].second, "c");

  headers.Append("X-Id", "2");
  EXPECT_EQ(*headers.GetJoined("x-id"), "1,2");
  EXPECT_EQ(headers.Remove("X-ID"), 2u);
  EXPECT_FALSE(headers.Contains("x-id"));
  EXPECT_FALSE(headers.Get("x-id").has_value());
}

}  // namespace
}  // namespace credgate::policy
