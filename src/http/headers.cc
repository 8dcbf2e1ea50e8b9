#include "http/headers.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <boost/container/small_vector.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <iterator>
#include <string>

#include "common/request_id.h"

namespace credgate::http {
namespace {

namespace http = boost::beast::http;

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsRequestIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

bool IsToken(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

bool IsFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool IsHopByHopField(http::field name) {
  // A switch rather than a scan of a list, because this runs for every field of every request
  // and response.
  switch (name) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::proxy_authenticate:
    case http::field::proxy_authorization:
      return true;
    default:
      return false;
  }
}

void RemoveHopByHopFields(http::fields& fields) {
  // Walks the fields in order and compares field codes, because equal_range and erase by name
  // search Beast's tree with case-insensitive string comparisons, which cost more than the walk.
  // The first pass collects the names listed in Connection and finds out whether there is
  // anything to erase. Most requests have no hop-by-hop field, so they cost only that pass.
  boost::container::small_vector<std::string_view, 8> listed;
  bool any_hop_by_hop = false;
  for (const auto& field : fields) {
    const http::field name = field.name();
    if (name == http::field::connection) {
      for (std::string_view token : http::token_list(field.value())) listed.push_back(token);
    }
    if (IsHopByHopField(name)) any_hop_by_hop = true;
  }
  // A field named in Connection implies a Connection field, which is itself hop-by-hop.
  if (!any_hop_by_hop) return;

  // The names listed in Connection are views into its values, so the Connection fields are
  // erased last: erasing other fields leaves their storage in place.
  auto is_listed = [&listed](std::string_view name) {
    return std::any_of(listed.begin(), listed.end(), [name](std::string_view item) {
      return boost::beast::iequals(item, name);
    });
  };
  for (auto it = fields.begin(); it != fields.end();) {
    const http::field name = it->name();
    const bool hop_by_hop =
        name != http::field::connection &&
        (IsHopByHopField(name) || (!listed.empty() && is_listed(it->name_string())));
    it = hop_by_hop ? fields.erase(it) : std::next(it);
  }
  for (auto it = fields.begin(); it != fields.end();) {
    it = it->name() == http::field::connection ? fields.erase(it) : std::next(it);
  }
}

Status CheckRequestFraming(const http::request_header<>& header) {
  size_t transfer_encodings = 0;
  std::string_view coding;
  for (auto range = header.equal_range(http::field::transfer_encoding); range.first != range.second;
       ++range.first) {
    ++transfer_encodings;
    coding = Trim(range.first->value());
  }
  if (transfer_encodings == 0) return OkStatus();

  if (header.version() < 11) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "Transfer-Encoding is not allowed in an HTTP/1.0 request (RFC 9112 §6.1)",
                     "InvalidFraming");
  }
  if (transfer_encodings > 1 || !boost::beast::iequals(coding, "chunked")) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "unsupported Transfer-Encoding; send only 'Transfer-Encoding: chunked' or a "
                     "Content-Length",
                     "InvalidFraming");
  }
  if (header.count(http::field::content_length) != 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "request has both Transfer-Encoding and Content-Length (RFC 9112 §6.3); "
                     "send only one",
                     "InvalidFraming");
  }
  return OkStatus();
}

std::string RequestIdFor(const http::request_header<>& header) {
  auto it = header.find("x-request-id");
  if (it != header.end()) {
    std::string_view incoming = it->value();
    bool valid = !incoming.empty() && incoming.size() <= 64;
    for (char c : incoming) valid = valid && IsRequestIdChar(c);
    if (valid) return std::string(incoming);
  }
  return NewRequestId();
}

}  // namespace credgate::http
