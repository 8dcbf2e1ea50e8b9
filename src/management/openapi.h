// The OpenAPI 3.0 document of the management API (src/management/openapi.json, compiled into
// the binary). The management listener serves it at GET /openapi.json without a credential.
// tests/e2e/openapi.test.mjs sends every operation it lists to a running server and checks the
// statuses and bodies, and checks that every method it does not list gets 405.
#pragma once

#include <string_view>

namespace credgate::management {

// The document's JSON text, valid for the life of the process.
std::string_view OpenApiDocument();

}  // namespace credgate::management
