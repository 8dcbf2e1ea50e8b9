// JObject and JArray values of policy expressions, in the manner of Newtonsoft.Json, which APIM
// expressions use through Body.As<JObject>(). Internal to the policy module.
//
// A JSON value reached from an expression wraps a node of a document that the expression
// parsed, so obj["a"]["b"] shares that document. Objects and arrays keep the JSON form; strings,
// numbers, booleans and null become plain Values, so (string)obj["name"] and
// obj["count"] > 3 work directly.
//
// NOTE: JObject and JArray are the only mutable Values: set_Item, Add, Remove and
// Property(name).Remove() change the document in place, through a const Object, as Newtonsoft
// does. This is safe because a document is created by one evaluation on one request, and a
// request runs on one thread at a time. Storing a JObject in context.Variables shares it with
// later statements of the same request, as in APIM.
#pragma once

#include <memory>
#include <span>
#include <string_view>

#include "common/result.h"
#include "policy/value.h"

namespace boost::json {
class value;
}  // namespace boost::json

namespace credgate::policy::internal {

// Parses `text` as JSON for Body.As<JObject>() (`want_array` false) or Body.As<JArray>()
// (true). Errors: kInvalidArgument when the text is not JSON or the top level has the other
// kind.
Result<Value> ParseJsonBody(std::string_view text, bool want_array);

// Parses `text` as any JSON value for Body.As<JToken>(). Errors as ParseJsonBody.
Result<Value> ParseJsonToken(std::string_view text);

// Converts a Value to JSON: JSON objects and arrays copy their node, lists become arrays,
// DateTime becomes its "o" text, and other objects their ToString().
boost::json::value JsonFromValue(const Value& value);

// The functions of the static function table (expression_calls.h) that create JSON values.
// new JObject(...) takes JProperty values and JObjects, whose members it copies. new JArray(...)
// adds each argument, and the items of a list argument. new JProperty(name, value) is a property
// that no object contains yet. Errors: kInvalidArgument for an argument of another kind.
Result<Value> NewJObject(std::span<const Value> args, Value* out);
Result<Value> NewJArray(std::span<const Value> args, Value* out);
Result<Value> NewJProperty(std::span<const Value> args, Value* out);
// JObject.Parse(text) and JArray.Parse(text). Errors as ParseJsonBody.
Result<Value> JObjectParse(std::span<const Value> args, Value* out);
Result<Value> JArrayParse(std::span<const Value> args, Value* out);
// JsonConvert.SerializeObject(value[, formatting]): compact JSON text, whatever the formatting.
Result<Value> SerializeObject(std::span<const Value> args, Value* out);
// JsonConvert.DeserializeObject(text): the JSON value of `text`, as Body.As<JToken>() reads it.
Result<Value> DeserializeObject(std::span<const Value> args, Value* out);

}  // namespace credgate::policy::internal
