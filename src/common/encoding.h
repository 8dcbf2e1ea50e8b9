// Byte and URL encodings shared by every module: base64 and base64url (RFC 4648 §4, §5),
// percent-encoding (RFC 3986 §2.1) and application/x-www-form-urlencoded bodies (the WHATWG URL
// standard's form encoding, which OAuth 2.0 token requests use).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace credgate {

using FormFields = std::vector<std::pair<std::string, std::string>>;

std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);  // Unpadded.
// Decoders return nullopt on any character outside the alphabet or on a bad length. Base64Url
// accepts input with or without '=' padding.
std::optional<std::string> Base64Decode(std::string_view text);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Escapes every byte except RFC 3986 unreserved characters (ALPHA DIGIT - . _ ~).
std::string PercentEncode(std::string_view text);
// Decodes %XX escapes; with `plus_as_space` also '+' (form bodies and query strings). Returns
// nullopt on a truncated or non-hex escape.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space);

// Form encoding: spaces become '+', unreserved characters stay, everything else is %XX.
std::string FormEncodeComponent(std::string_view text);
std::string FormEncode(const FormFields& fields);
// Parses `a=1&b=2`. Returns nullopt when an escape is malformed. Empty pairs are skipped.
std::optional<FormFields> FormDecode(std::string_view body);

std::string HexEncode(std::string_view bytes);

}  // namespace credgate
