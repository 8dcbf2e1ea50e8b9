// Operators, String methods, static classes, JWT, DateTime, LINQ, JSON and block statements,
// each as APIM's documented policy expressions use them.
#include <gtest/gtest.h>

#include <string>

#include "common/encoding.h"
#include "expression_fixture.h"
#include "policy/expression.h"

namespace credgate::policy {
namespace {

struct EvalCase {
  std::string text;
  std::string expected;  // Value::ToString() of the result.
};

class LibraryEvalTest : public ExpressionTest, public ::testing::WithParamInterface<EvalCase> {
 protected:
  LibraryEvalTest() {
    // {"alg":"HS256","typ":"JWT"}.{"sub":"alice","aud":["api1","api2"],"iss":"https://issuer",
    // "exp":1700000000,"roles":["reader","writer"],"scope":"read write"}.signature
    std::string token =
        Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." +
        Base64UrlEncode(R"({"sub":"alice","aud":["api1","api2"],"iss":"https://issuer",)"
                        R"("exp":1700000000,"roles":["reader","writer"],"scope":"read write"})") +
        ".c2ln";
    context_.request.headers.Set("Authorization", "Bearer " + token);
    context_.request.headers.Append("X-Basic", "Basic " + Base64Encode("bob:s3cret:x"));
    context_.request.body =
        R"({"name":"widget","price":12.5,"tags":["a","b","c"],"owner":{"id":7},"secret":"x"})";
    context_.response.body = R"([{"id":1,"ok":true},{"id":2,"ok":false}])";
    context_.variables["list"] = Value(MakeList({Value("x"), Value("y")}));
    context_.variables["response"] =
        Value(MakeResponse(201, "Created", Entries{{"Content-Type", Value("application/json")}},
                           R"({"token":"t-1"})"));
    context_.timestamp = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    context_.deployment = {"westeurope", "gw-1", "svc-1", "gateway-a"};
  }
};

TEST_P(LibraryEvalTest, Evaluates) {
  EXPECT_EQ(EvalString(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    TypeTests, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(context.Variables[\"count\"] is int)", "True"},
        EvalCase{"@(context.Variables[\"count\"] is string)", "False"},
        EvalCase{"@(context.Variables.GetValueOrDefault(\"none\") is null)", "True"},
        EvalCase{"@(context.Variables[\"count\"] is not null)", "True"},
        EvalCase{"@(context.Variables[\"auth-context\"] is Authorization)", "True"},
        EvalCase{"@((context.Variables[\"count\"] as string) ?? \"not a string\")", "not a string"},
        EvalCase{"@(context.Request.Body.As<JObject>() is JObject)", "True"},
        EvalCase{"@((string)context.Variables.GetValueOrDefault(\"none\") ?? \"-\")", "-"},
        EvalCase{"@((long)2.9)", "2"}, EvalCase{"@((double)3 / 2)", "1.5"}));

INSTANTIATE_TEST_SUITE_P(
    StringMethods, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(\"a,b,,c\".Split(',').Length)", "4"}, EvalCase{"@(\"a b\".Split(' ')[1])", "b"},
        EvalCase{"@(string.Join(\"-\", \"a,b,c\".Split(',')))", "a-b-c"},
        EvalCase{"@(string.Join(\"+\", \"x\", 1, true))", "x+1+True"},
        EvalCase{"@(\"abcdef\".Substring(2, 3))", "cde"},
        EvalCase{"@(\"abcdef\".Substring(4))", "ef"},
        EvalCase{"@(\"abc\".Contains(\"b\"))", "True"},
        EvalCase{"@(\"abc\".StartsWith(\"ab\") && \"abc\".EndsWith(\"bc\"))", "True"},
        EvalCase{"@(\"a-a\".Replace(\"a\", \"bb\"))", "bb-bb"},
        EvalCase{"@(\"MiXed\".ToLower() + \"MiXed\".ToUpper())", "mixedMIXED"},
        EvalCase{"@(\"  pad  \".Trim() + \"|\")", "pad|"},
        EvalCase{"@(\"abcabc\".IndexOf(\"c\") + \"abcabc\".IndexOf(\"c\", 3))", "7"},
        EvalCase{"@(\"hello\".Length)", "5"},
        EvalCase{"@(string.Concat(\"a\", 1, null, \"b\"))", "a1b"},
        EvalCase{"@(string.Format(\"{0}-{1}\", \"a\", 2))", "a-2"},
        EvalCase{"@(string.IsNullOrEmpty(\"\") && string.IsNullOrWhiteSpace(\" \"))", "True"},
        EvalCase{"@(string.Empty.Length)", "0"},
        EvalCase{"@(\"ABC\".Equals(\"abc\", StringComparison.OrdinalIgnoreCase))", "True"},
        EvalCase{"@(\"ABC\".Equals(\"abc\", StringComparison.Ordinal))", "False"},
        EvalCase{"@(context.Request.Method.Equals(\"get\", "
                 "StringComparison.InvariantCultureIgnoreCase))",
                 "True"},
        EvalCase{"@(\"Bearer x\".StartsWith(\"bearer \", StringComparison.OrdinalIgnoreCase))",
                 "True"},
        EvalCase{"@(\"a.JSON\".EndsWith(\".json\", StringComparison.OrdinalIgnoreCase))", "True"},
        EvalCase{"@(\"xAbC\".Contains(\"abc\", StringComparison.OrdinalIgnoreCase))", "True"},
        EvalCase{"@(\"xAbC\".IndexOf(\"abc\", StringComparison.OrdinalIgnoreCase))", "1"}));

INSTANTIATE_TEST_SUITE_P(
    Interpolation, LibraryEvalTest,
    ::testing::Values(EvalCase{"@($\"{context.Request.Method} {context.Request.Url.Path}\")",
                               "GET /orders/42"},
                      EvalCase{"@($\"n={(int)context.Variables[\"count\"] + 1}!\")", "n=4!"},
                      EvalCase{"@($\"{{literal}} \\\"q\\\" \\t.\")", "{literal} \"q\" \t."},
                      EvalCase{"@($@\"C:\\{context.Api.Path}\"\"\")", "C:\\orders\""},
                      EvalCase{"@($\"{(1 > 0 ? \"yes\" : \"no\")}\")", "yes"},
                      EvalCase{"@($\"{context.Timestamp:yyyy-MM-dd}\")", "2023-11-14"},
                      EvalCase{"@{ var n = 2; return $\"{n}{n}\"; }", "22"},
                      EvalCase{"@($\"{context.LastError?.Message ?? \"ok\"}\")", "ok"}));

INSTANTIATE_TEST_SUITE_P(
    ContextMembers, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(context.Request.Body.As<string>(preserveContent: true).Length > 10)", "True"},
        EvalCase{"@(context.Request.Body.As<JObject>(true)[\"name\"])", "widget"},
        EvalCase{"@(context.Response.Body.As<JArray>().Count)", "2"},
        EvalCase{"@(context.Request.OriginalUrl)",
                 "https://api.example.com:8443/orders/42?page=2&tag=a&tag=b"},
        EvalCase{"@(context.Deployment.Region + \"/\" + context.Deployment.ServiceName)",
                 "westeurope/gw-1"},
        EvalCase{"@(context.Deployment.GatewayId)", "gateway-a"},
        EvalCase{"@(context.Timestamp.ToString(\"o\"))", "2023-11-14T22:13:20.0000000Z"},
        EvalCase{"@(context.Elapsed.TotalSeconds > 0)", "True"},
        EvalCase{"@(context.Subscription?.Key ?? \"anonymous\")", "anonymous"},
        EvalCase{"@(context.User?.Email ?? \"-\")", "-"},
        EvalCase{"@(context.Response.Headers.GetValueOrDefault(\"Missing\", \"none\"))", "none"}));

INSTANTIATE_TEST_SUITE_P(
    Jwt, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(context.Request.Headers.GetValueOrDefault(\"Authorization\", \"\")"
                 ".Split(' ').Last().AsJwt()?.Subject)",
                 "alice"},
        EvalCase{"@(context.Request.Headers.GetValueOrDefault(\"Authorization\", \"\")"
                 ".Split(' ')[1].AsJwt().Claims.GetValueOrDefault(\"roles\", \"none\"))",
                 "reader,writer"},
        EvalCase{"@(context.Request.Headers[\"Authorization\"].Split(' ')[1].AsJwt()"
                 ".Claims.GetValueOrDefault(\"missing\", \"none\"))",
                 "none"},
        EvalCase{"@(context.Request.Headers[\"Authorization\"].Split(' ')[1].AsJwt()"
                 ".Audiences.Contains(\"api2\"))",
                 "True"},
        EvalCase{"@(context.Request.Headers[\"Authorization\"].Split(' ')[1].AsJwt()"
                 ".Claims[\"roles\"].Any(r => r == \"writer\"))",
                 "True"},
        EvalCase{"@(context.Request.Headers[\"Authorization\"].Split(' ')[1].AsJwt()"
                 ".ExpirationTime.ToString(\"s\"))",
                 "2023-11-14T22:13:20"},
        EvalCase{"@(context.Request.Headers[\"Authorization\"].Split(' ')[1].AsJwt()"
                 ".Issuer + \" \" + context.Request.Headers[\"Authorization\"].Split(' ')[1]"
                 ".AsJwt().Algorithm)",
                 "https://issuer HS256"},
        EvalCase{"@(context.Request.Headers[\"Authorization\"].Split(' ')[1]"
                 ".TryParseJwt(out var jwt) ? jwt.Subject : \"invalid\")",
                 "alice"},
        EvalCase{"@(\"not-a-token\".TryParseJwt(out var jwt) ? \"valid\" : \"invalid\")",
                 "invalid"},
        EvalCase{"@(\"not-a-token\".AsJwt() == null)", "True"},
        EvalCase{"@(context.Request.Headers.GetValueOrDefault(\"X-Basic\", \"\").AsBasic()"
                 ".Username)",
                 "bob"},
        EvalCase{"@(context.Request.Headers[\"X-Basic\"].AsBasic().Password)", "s3cret:x"},
        EvalCase{"@(\"Bearer x\".AsBasic() == null)", "True"}));

INSTANTIATE_TEST_SUITE_P(
    StaticClasses, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(int.Parse(\" 42 \") + 1)", "43"}, EvalCase{"@(int.Parse(\"-7\"))", "-7"},
        EvalCase{"@(long.Parse(\"3000000000\"))", "3000000000"},
        EvalCase{"@(int.TryParse(\"12\", out var n) ? n * 2 : -1)", "24"},
        EvalCase{"@(int.TryParse(\"x12\", out var n) ? n : -1)", "-1"},
        EvalCase{"@(double.Parse(\"2.5\") * 2)", "5"}, EvalCase{"@(bool.Parse(\"True\"))", "True"},
        EvalCase{"@(Convert.ToBase64String(Encoding.UTF8.GetBytes(\"user:pass\")))",
                 "dXNlcjpwYXNz"},
        EvalCase{"@(Encoding.UTF8.GetString(Convert.FromBase64String(\"dXNlcjpwYXNz\")))",
                 "user:pass"},
        EvalCase{"@(Encoding.UTF8.GetBytes(\"abc\").Length)", "3"},
        EvalCase{"@(Encoding.UTF8.GetBytes(\"abc\")[0])", "97"},
        EvalCase{"@(Convert.ToInt32(\"17\") + Convert.ToInt32(2.5))", "19"},
        EvalCase{"@(Convert.ToString(12))", "12"},
        EvalCase{"@(Guid.NewGuid().ToString().Length)", "36"},
        EvalCase{"@(Guid.NewGuid().ToString(\"N\").Length)", "32"},
        EvalCase{"@(Math.Max(3, 9) - Math.Min(3, 9) + Math.Abs(-1))", "7"}));

INSTANTIATE_TEST_SUITE_P(
    Regexes, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(Regex.Match(\"public, max-age=300\", @\"max-age=(?<maxAge>\\d+)\")"
                 ".Groups[\"maxAge\"]?.Value)",
                 "300"},
        EvalCase{"@(Regex.Match(\"no cache\", @\"max-age=(?<maxAge>\\d+)\").Success)", "False"},
        EvalCase{"@(Regex.Match(\"no cache\", @\"max-age=(?<maxAge>\\d+)\")"
                 ".Groups[\"maxAge\"].Value.Length)",
                 "0"},
        EvalCase{"@(Regex.Match(\"a1b22\", @\"(\\d+)\\D(\\d+)\").Groups[2].Value)", "22"},
        EvalCase{"@(Regex.IsMatch(context.Request.Url.Path, \"^/ORDERS/\\\\d+$\", "
                 "RegexOptions.IgnoreCase))",
                 "True"},
        EvalCase{"@(Regex.IsMatch(\"abc\", context.Api.Path))", "False"},
        EvalCase{"@(Regex.Replace(\"a1b2\", @\"\\d\", \"#\"))", "a#b#"},
        EvalCase{"@(Regex.Replace(\"john smith\", @\"(\\w+) (\\w+)\", \"$2 $1\"))", "smith john"}));

INSTANTIATE_TEST_SUITE_P(
    DateTimes, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(DateTime.UtcNow > context.Timestamp)", "True"},
        EvalCase{"@(DateTime.UtcNow.AddMinutes(5) > DateTime.UtcNow)", "True"},
        EvalCase{"@(context.Timestamp.AddSeconds(90).ToString(\"o\"))",
                 "2023-11-14T22:14:50.0000000Z"},
        EvalCase{"@(context.Timestamp.AddDays(-1).AddHours(2).ToString(\"yyyy-MM-ddTHH:mm:ssZ\"))",
                 "2023-11-14T00:13:20Z"},
        EvalCase{"@(context.Timestamp.ToString(\"r\"))", "Tue, 14 Nov 2023 22:13:20 GMT"},
        EvalCase{"@(context.Timestamp.ToString())", "11/14/2023 22:13:20"},
        EvalCase{"@(context.Timestamp.Year * 100 + context.Timestamp.Month)", "202311"},
        EvalCase{"@((context.Timestamp.AddMinutes(3) - context.Timestamp).TotalSeconds)", "180"},
        EvalCase{"@((context.Timestamp + TimeSpan.FromHours(1)).Hour)", "23"},
        EvalCase{"@(TimeSpan.FromMinutes(90).ToString())", "01:30:00"},
        EvalCase{"@(TimeSpan.FromSeconds(90) == TimeSpan.FromMinutes(1.5))", "True"},
        EvalCase{"@(DateTime.Parse(\"2024-05-01T10:20:30+02:00\").ToString(\"o\"))",
                 "2024-05-01T08:20:30.0000000Z"},
        EvalCase{"@(DateTime.Parse(\"2024-05-01\") < DateTime.Parse(\"2024-05-02\"))", "True"},
        EvalCase{"@(context.Timestamp.ToString(\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"))",
                 "00000000000000000000000000002023"},
        EvalCase{"@(context.Timestamp.AddMilliseconds(1).ToString(\"HH:mm:ss.fff\"))",
                 "22:13:20.001"}));

INSTANTIATE_TEST_SUITE_P(
    Linq, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@(\"a,b,c\".Split(',').Any(x => x == \"b\"))", "True"},
        EvalCase{"@(\"a,b,c\".Split(',').All(x => x.Length == 1))", "True"},
        EvalCase{"@(\"a,b,c\".Split(',').First())", "a"},
        EvalCase{"@(\"a,b,c\".Split(',').First(x => x != \"a\"))", "b"},
        EvalCase{"@(\"a,b,c\".Split(',').FirstOrDefault(x => x == \"z\") ?? \"none\")", "none"},
        EvalCase{"@(\"a,b,c\".Split(',').Last())", "c"},
        EvalCase{"@(string.Join(\"\", \"a,b,c\".Split(',').Where(x => x != \"b\")))", "ac"},
        EvalCase{"@(string.Join(\"\", \"a,b\".Split(',').Select(x => x.ToUpper())))", "AB"},
        EvalCase{"@(\"a,b,c\".Split(',').Count())", "3"},
        EvalCase{"@(\"a=1;b=2\".Split(';').Select(c => c.Split('='))"
                 ".SingleOrDefault(c => c[0] == \"b\")?[1])",
                 "2"},
        EvalCase{"@(\"a=1\".Split(';').Select(c => c.Split('='))"
                 ".SingleOrDefault(c => c[0] == \"z\")?[1] ?? \"none\")",
                 "none"},
        EvalCase{"@(\"a,b\".Split(',').Single(x => x == \"b\"))", "b"},
        EvalCase{"@(\"a,b,c\".Split(',').Count(x => x == \"a\"))", "1"},
        EvalCase{"@(\"a,b,c\".Split(',').Contains(\"c\"))", "True"},
        EvalCase{"@(\"\".Split(',').Any())", "True"},
        EvalCase{"@(context.Request.Headers.Any(h => h.Key == \"X-Multi\"))", "True"},
        EvalCase{"@(context.Request.Body.As<JObject>()[\"tags\"].Select(t => (string)t)"
                 ".Last())",
                 "c"},
        EvalCase{"@(context.Response.Body.As<JArray>().Where(i => (bool)i[\"ok\"]).Count())",
                 "1"}));

INSTANTIATE_TEST_SUITE_P(
    Json, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@((string)context.Request.Body.As<JObject>()[\"name\"])", "widget"},
        EvalCase{"@((double)context.Request.Body.As<JObject>()[\"price\"] * 2)", "25"},
        EvalCase{"@(context.Request.Body.As<JObject>()[\"owner\"][\"id\"])", "7"},
        EvalCase{"@(context.Request.Body.As<JObject>()[\"tags\"][1])", "b"},
        EvalCase{"@(context.Request.Body.As<JObject>()[\"missing\"] == null)", "True"},
        EvalCase{"@(context.Request.Body.As<JObject>().Value<string>(\"name\"))", "widget"},
        EvalCase{"@(context.Request.Body.As<JObject>()[\"owner\"].ToString())", "{\"id\":7}"},
        EvalCase{"@(context.Request.Body.As<JObject>().Count)", "5"},
        EvalCase{"@(context.Request.Body.As<JObject>().ContainsKey(\"secret\"))", "True"},
        EvalCase{"@(context.Request.Body.As<JObject>().Property(\"name\").Value)", "widget"},
        EvalCase{"@((int)context.Request.Body.As<JObject>().SelectToken(\"owner.id\"))", "7"},
        EvalCase{"@((string)context.Request.Body.As<JObject>(preserveContent: true)"
                 ".SelectToken(\"$.tags[2]\"))",
                 "c"},
        EvalCase{"@(context.Request.Body.As<JObject>().SelectToken(\"['owner']\").ToString())",
                 "{\"id\":7}"},
        EvalCase{"@(context.Request.Body.As<JObject>().SelectToken(\"owner.missing.x\") == null)",
                 "True"},
        EvalCase{"@(((IResponse)context.Variables[\"response\"]).StatusCode)", "201"},
        EvalCase{"@(((IResponse)context.Variables[\"response\"]).Headers"
                 ".GetValueOrDefault(\"content-type\", \"\"))",
                 "application/json"},
        EvalCase{"@((string)((IResponse)context.Variables[\"response\"]).Body"
                 ".As<JObject>(preserveContent: true)[\"token\"])",
                 "t-1"},
        EvalCase{"@(((IResponse)context.Variables[\"response\"]).Body.As<string>())",
                 "{\"token\":\"t-1\"}"},
        EvalCase{"@{ var body = context.Request.Body.As<JObject>(preserveContent: true);"
                 " body.Remove(\"secret\"); body[\"name\"] = \"gadget\";"
                 " body.Add(\"count\", 2); body.Property(\"tags\").Remove();"
                 " return body.ToString(); }",
                 "{\"name\":\"gadget\",\"price\":12.5,\"owner\":{\"id\":7},\"count\":2}"},
        EvalCase{"@{ var list = context.Response.Body.As<JArray>(); list.Add(\"x\");"
                 " list[0] = 1; return list.ToString(); }",
                 "[1,{\"id\":2,\"ok\":false},\"x\"]"},
        EvalCase{"@{ var body = context.Request.Body.As<JObject>(); var owner = body[\"owner\"];"
                 " body.Remove(\"owner\"); return owner.ToString(); }",
                 ""}));

INSTANTIATE_TEST_SUITE_P(
    Blocks, LibraryEvalTest,
    ::testing::Values(
        EvalCase{"@{ var total = 0; foreach (var part in \"1,2,3\".Split(',')) {"
                 " total += int.Parse(part); } return total; }",
                 "6"},
        EvalCase{"@{ string text = \"\"; foreach (var item in context.Variables[\"list\"])"
                 " text += item; return text; }",
                 "xy"},
        EvalCase{"@{ foreach (var tag in context.Request.Body.As<JObject>()[\"tags\"]) {"
                 " if ((string)tag == \"b\") { return \"found\"; } } return \"missing\"; }",
                 "found"},
        EvalCase{"@{ var keys = \"\"; foreach (var property in"
                 " context.Response.Body.As<JArray>()[0]) { keys += property.Name; }"
                 " return keys; }",
                 "idok"},
        EvalCase{"@{ var auth = context.Request.Headers.GetValueOrDefault(\"Authorization\","
                 " \"\"); if (auth.StartsWith(\"Bearer \")) { var jwt = auth.Substring(7)"
                 ".AsJwt(); return jwt?.Subject ?? \"anonymous\"; } else { return \"none\"; } }",
                 "alice"}));

TEST_F(ExpressionTest, JsonBodyThatIsNotJsonFails) {
  context_.request.body = "not json";
  Error error = RuntimeError("@(context.Request.Body.As<JObject>()[\"a\"])");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("not valid JSON"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, IntParseOfTextFails) {
  Error error = RuntimeError("@(int.Parse(\"abc\"))");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("'abc' is not an integer"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, IntParseBeyondInt32Fails) {
  Error error = RuntimeError("@(int.Parse(\"3000000000\"))");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
}

TEST_F(ExpressionTest, FirstOfEmptySequenceFails) {
  Error error = RuntimeError("@(\"a\".Split(',').First(x => x == \"b\"))");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("no item"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, LinqOnNonSequenceFails) {
  Error error = RuntimeError("@(context.Variables[\"count\"].Any())");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("is not a sequence"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, SingleWithTwoMatchesFails) {
  Error error = RuntimeError("@(\"a,a\".Split(',').Single(x => x == \"a\"))");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("more than one"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, ResponseBodyAsUnsupportedTypeFails) {
  context_.variables["response"] = Value(MakeResponse(200, "OK", {}, "1"));
  Error error = RuntimeError("@(((IResponse)context.Variables[\"response\"]).Body.As<int>())");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("not supported"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, InvalidRuntimePatternFails) {
  context_.variables["pattern"] = Value("(");
  Error error = RuntimeError("@(Regex.IsMatch(\"a\", (string)context.Variables[\"pattern\"]))");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
  EXPECT_NE(error.message.find("invalid regular expression"), std::string::npos) << error.message;
}

TEST_F(ExpressionTest, BadBase64Fails) {
  Error error = RuntimeError("@(Convert.FromBase64String(\"@@@\"))");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
}

TEST_F(ExpressionTest, DateTimeBeyondRangeFails) {
  Error error = RuntimeError("@(DateTime.MaxValue.AddDays(1))");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
}

TEST_F(ExpressionTest, InterpolationFormatOnNumberFails) {
  Error error = RuntimeError("@($\"{context.Variables[\"count\"]:D4}\")");
  EXPECT_EQ(error.reason, kExpressionFailureReason);
}

struct CompileErrorCase {
  std::string text;
  size_t offset;             // Expected 0-based offset of the error in `text`.
  std::string message_part;  // Expected substring of the message.
};

class LibraryCompileErrorTest : public ExpressionTest,
                                public ::testing::WithParamInterface<CompileErrorCase> {};

TEST_P(LibraryCompileErrorTest, Rejects) {
  size_t offset = 9999;
  std::string message = CompileError(GetParam().text, &offset);
  EXPECT_NE(message.find(GetParam().message_part), std::string::npos)
      << GetParam().text << " -> " << message;
  EXPECT_EQ(offset, GetParam().offset) << GetParam().text << " -> " << message;
}

INSTANTIATE_TEST_SUITE_P(
    Errors, LibraryCompileErrorTest,
    ::testing::Values(
        CompileErrorCase{"@(1 is Foo)", 7, "expected a type after 'is'"},
        CompileErrorCase{"@(1 as int)", 7, "expected a reference type after 'as'"},
        CompileErrorCase{"@(int.Parsee(\"1\"))", 6, "unknown member 'Parsee' of int"},
        CompileErrorCase{"@(int.Parse(\"1\", \"2\"))", 6, "takes 1 argument"},
        CompileErrorCase{"@(int.TryParse(\"1\"))", 6, "needs an out argument"},
        CompileErrorCase{"@(Encoding.UTF8.Encode(\"a\"))", 16, "unknown member 'Encode'"},
        CompileErrorCase{"@(Regex.IsMatch(\"a\", \"(\"))", 21, "invalid regular expression"},
        CompileErrorCase{"@(Regex.IsMatch(\"a\"))", 8, "takes 2 arguments"},
        CompileErrorCase{"@(Regex.Matches(\"a\", \"b\"))", 8, "unknown member 'Matches'"},
        CompileErrorCase{"@(DateTime.Today)", 11, "unknown member 'Today' of DateTime"},
        CompileErrorCase{"@($\"a {} b\")", 7, "needs an expression"},
        CompileErrorCase{"@($\"a {1 +} b\")", 10, "a value is missing"},
        CompileErrorCase{"@($\"a {1 2} b\")", 9, "unexpected '2' in the interpolation hole"},
        CompileErrorCase{"@($\"a {1\")", 8, "unterminated string literal"},
        CompileErrorCase{"@($\"a } b\")", 6, "unmatched '}'"},
        CompileErrorCase{"@(\"a\".Split(',').Where())", 17, "takes one lambda"},
        CompileErrorCase{"@(\"a\".Split(',').Where(x => 1))", 28, "must be a Boolean"},
        CompileErrorCase{"@(\"a\".Contains(x => true))", 15, "does not take a lambda"},
        CompileErrorCase{"@(\"a\".Where(x => true))", 6, "String is not a sequence"},
        CompileErrorCase{"@(\"a\".Split(',')[x => 1])", 17, "the indexer does not take a lambda"},
        CompileErrorCase{"@(context.Variables[out var v])", 20,
                         "the indexer does not take an out argument"},
        CompileErrorCase{"@(context.Request.Body)", 18, "is read with As<string>()"},
        CompileErrorCase{"@(context.Request.Body.As<Foo>())", 26, "is read with As<string>()"},
        CompileErrorCase{"@(context.Deployment.Zone)", 21, "unknown member 'Zone'"},
        CompileErrorCase{"@(\"a\".AsJwt().Subjet)", 14, "Jwt has no member 'Subjet'"},
        CompileErrorCase{"@(context.Timestamp.AddSecond(1))", 20,
                         "DateTime has no method 'AddSecond'"},
        CompileErrorCase{"@{ foreach (var x of \"a\") { } return 1; }", 16, "expected 'in'"},
        CompileErrorCase{"@{ \"a\".Length; return 1; }", 3, "expected a statement"},
        CompileErrorCase{"@{ var x = 1; x.ToString() = 2; return x; }", 27,
                         "only a local variable or an item"},
        CompileErrorCase{"@{ context.Request.Method; return 1; }", 19,
                         "only a method call can stand as a statement"}));

TEST_F(ExpressionTest, OutVariableOfSingleExpressionIsScoped) {
  // The out variable exists only in its expression; each evaluation starts it afresh.
  auto expression = CompileExpression("@(int.TryParse(\"5\", out var n) ? n : 0)");
  ASSERT_TRUE(expression.ok()) << expression.error().message;
  for (int i = 0; i < 3; ++i) {
    auto value = (*expression)->Evaluate(context_);
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(value->ToString(), "5");
  }
}

}  // namespace
}  // namespace credgate::policy
