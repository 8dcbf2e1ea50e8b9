// The compiler of <send-request> and <send-one-way-request>. Internal to the policy module.
#pragma once

#include <string>

#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

// Compiles either statement. <set-url> is required, because in copy mode the current request's
// URL would be the gateway itself. <authentication-managed-identity> sets the request's
// Authorization header. <authentication-certificate> presents a client certificate (a stored one
// by certificate-id or thumbprint, or a body), and <proxy> sends the request through an HTTP
// proxy. Errors name a missing stored certificate, one without a private key, an invalid
// literal body or password, and an https proxy URL.
Result<Statement> CompileSendRequest(const ElementReader& element, const std::string& path);

// Compiles <authentication-certificate> in inbound, whose certificate the backend call presents.
// It takes the attributes and gives the errors of the one inside send-request.
Result<Statement> CompileAuthenticationCertificate(const ElementReader& element,
                                                   const std::string& path);

}  // namespace credgate::policy::internal
