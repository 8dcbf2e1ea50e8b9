// The values that a <set-body template="liquid"> template reads: `context`, with the members that
// APIM's set-body documentation lists and `Variables`, and `body`, the message body parsed from
// JSON or converted from XML. Internal to the policy module.
#pragma once

#include <boost/json/object.hpp>

#include "common/result.h"
#include "policy/context.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

struct LiquidBodyOptions {
  // xsi-nil="null": an XML element with xsi:nil="true" reads as nil; otherwise as "".
  bool xsi_nil_as_null = false;
  // parse-date="true" (APIM's default): a string in `body` that is a date with a time, as
  // "2012-03-21T05:40:00Z" or "/Date(1198908717056)/", becomes a DateTime, which a template
  // writes as "MM/dd/yyyy HH:mm:ss" in UTC and the Date filter formats.
  bool parse_date = true;
};

// The message body that a Liquid template binds to `body`.
enum class LiquidInput { kRequestBody, kResponseBody, kEmpty };

// Builds the globals of a template that reads `input`: the request's body in inbound and backend,
// the response's in outbound and on-error, and none in return-response. `body` is bound when the
// message's Content-Type is JSON (application/json, text/json, */*+json) or XML (application/xml,
// text/xml, */*+xml) and the body is not empty. Otherwise it is nil. XML converts as Json.NET's
// SerializeXmlNode does: the root element becomes the single member, attributes become "@name"
// members, repeated child elements an array, and an element with text only its string. Errors:
// kInvalidArgument when the body is not valid JSON or XML for its Content-Type, or nests more than
// 64 levels deep.
Result<boost::json::object> LiquidGlobals(const PolicyContext& context, LiquidInput input,
                                          const LiquidBodyOptions& options);

// Evaluates the new body of a set-body: its literal or expression, or its Liquid template
// rendered with `input` as `body`. Errors: those of the expression, of LiquidGlobals and of
// liquid::Template::Render, all kInvalidArgument.
Result<std::string> EvaluateSetBody(const SetBodySpec& spec, const PolicyContext& context,
                                    LiquidInput input);

}  // namespace credgate::policy::internal
