// The sealing of secrets in an export document (management/transfer.h): how client secrets,
// connection parameters and token sets travel between credgate instances.
//
// The export key is 32 random bytes that the operator keeps apart from the document, written as
// base64 (RFC 4648 §4, padded, 44 characters). A passphrase is not accepted: a random key needs
// no key derivation and cannot be guessed offline from the document.
//
// Each value is a blob of the sealed format of aead.h under the master key id "export": its own
// random data key and two fresh 96-bit nonces, AES-256-GCM throughout. The associated data is
// "<resource path>#<field>", for example "/authorizationProviders/github#tokens", so a value
// copied onto another record or another field of the same record fails to open.
//
// All functions are thread-safe when the RandomSource passed in is.
#pragma once

#include <string>
#include <string_view>

#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"

namespace credgate::crypto {

// The key id that export blobs name.
inline constexpr std::string_view kExportKeyId = "export";

// Returns a fresh export key as base64.
Secret GenerateExportKey(RandomSource& random);

// Decodes an export key. Surrounding whitespace (a trailing newline of a key file) is ignored.
// Fails with kInvalidArgument when the text is not base64 of exactly 32 bytes; the message never
// contains the text.
Result<Secret> ParseExportKey(std::string_view text);

// Seals `plaintext` for the field `field` of the resource at `resource_path` and returns the
// blob as base64. Fails with kInvalidArgument for a key that is not 32 bytes.
Result<std::string> SealExportValue(const Secret& key, std::string_view resource_path,
                                    std::string_view field, const Secret& plaintext,
                                    RandomSource& random);

// Opens a value made by SealExportValue for the same path and field. Fails with
// kInvalidArgument, naming the path and field, on invalid base64, a malformed or modified blob,
// a wrong key, or a value sealed for another path or field.
Result<Secret> OpenExportValue(const Secret& key, std::string_view resource_path,
                               std::string_view field, std::string_view sealed_base64);

}  // namespace credgate::crypto
