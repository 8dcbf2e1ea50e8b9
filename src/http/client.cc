#include "http/client.h"

#include <boost/beast/core/string.hpp>

namespace credgate::http {

std::string_view ClientResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, name)) return value;
  }
  return {};
}

}  // namespace credgate::http
