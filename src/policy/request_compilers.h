// Compilers of the statements that rewrite, check or respond to a request: set-method, rewrite-uri,
// set-query-parameter, set-backend-service, check-header, ip-filter, cors, mock-response,
// authentication-basic, authentication-managed-identity and trace. Internal to the policy module. Each rejects an unknown
// attribute or child element and an invalid value with its line and column.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

Result<Statement> CompileSetMethod(const ElementReader& element, const std::string& path);
Result<Statement> CompileRewriteUri(const ElementReader& element, const std::string& path);
Result<Statement> CompileSetQueryParameter(const ElementReader& element, const std::string& path);
Result<Statement> CompileSetBackendService(const ElementReader& element, const std::string& path);
Result<Statement> CompileCheckHeader(const ElementReader& element, const std::string& path);
Result<Statement> CompileIpFilter(const ElementReader& element, const std::string& path);
Result<Statement> CompileCors(const ElementReader& element, const std::string& path);
Result<Statement> CompileMockResponse(const ElementReader& element, const std::string& path);
Result<Statement> CompileAuthenticationBasic(const ElementReader& element, const std::string& path);
// <authentication-managed-identity>, also as a child of send-request.
Result<ManagedIdentitySpec> CompileManagedIdentitySpec(const ElementReader& element);
Result<Statement> CompileAuthenticationManagedIdentity(const ElementReader& element,
                                                       const std::string& path);
Result<Statement> CompileTrace(const ElementReader& element, const std::string& path);

// Parses an IPv4 or IPv6 address into the 16-byte form of IpRange (IPv4 mapped to ::ffff:0:0/96).
std::optional<std::array<unsigned char, 16>> ParseIpAddress(std::string_view text);

}  // namespace credgate::policy::internal
