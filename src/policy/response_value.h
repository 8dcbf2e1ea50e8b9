// The response object that send-request stores in its response-variable-name.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "policy/value.h"

namespace credgate::policy {

// Returns an object of TypeName "IResponse" with StatusCode (Int64), StatusReason (String, ""),
// Headers (a dictionary with case-insensitive names whose values are the fields of that name
// joined with ", ") and Body (the body as a String; APIM has an IMessageBody with As<T>()).
std::shared_ptr<const Object> MakeResponse(
    int status, const std::vector<std::pair<std::string, std::string>>& headers, std::string body);

}  // namespace credgate::policy
