// Header rules shared by the server, the client and the reverse proxy: field syntax
// (RFC 9110 §5), hop-by-hop removal (RFC 9110 §7.6.1), request framing checks against request
// smuggling (RFC 9112 §6) and request ids.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>
#include <string_view>

#include "common/result.h"

namespace credgate::http {

// Reports whether `text` is a non-empty token (RFC 9110 §5.6.2), the syntax of field names and
// methods.
bool IsToken(std::string_view text);

// Reports whether `value` is a valid field value: no CR, LF or NUL (RFC 9110 §5.5).
bool IsFieldValue(std::string_view value);

// Reports whether `name` is one of the hop-by-hop fields that RemoveHopByHopFields() always
// removes. Fields named in a Connection field are hop-by-hop too.
bool IsHopByHopField(boost::beast::http::field name);

// Removes the hop-by-hop fields (Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade, Proxy-Authenticate, Proxy-Authorization) and every field named in
// a Connection field, as a proxy must before forwarding (RFC 9110 §7.6.1).
void RemoveHopByHopFields(boost::beast::http::fields& fields);

// Checks the framing of a request header that Beast's parser accepted and rejects the shapes
// that let a front and back end disagree on where the body ends (RFC 9112 §6.1, §6.3):
// Transfer-Encoding other than exactly "chunked", Transfer-Encoding together with Content-Length,
// and Transfer-Encoding in an HTTP/1.0 request. Beast itself rejects differing Content-Length
// values, a Content-Length after chunked and a repeated chunked coding.
// Fails with kInvalidArgument, which the server answers with 400 and a closed connection.
Status CheckRequestFraming(const boost::beast::http::request_header<>& header);

// Returns the incoming `x-request-id` when it is 1 to 64 characters of [A-Za-z0-9._:-], or else
// a new id of 16 base64url characters from NewRequestId() (common/request_id.h).
std::string RequestIdFor(const boost::beast::http::request_header<>& header);

}  // namespace credgate::http
