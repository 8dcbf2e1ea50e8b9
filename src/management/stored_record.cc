#include "management/stored_record.h"

#include <boost/json/parse.hpp>
#include <string>

#include "credentials/provider_resolution.h"
#include "crypto/aead.h"
#include "crypto/keyring.h"
#include "management/persistence.h"

namespace credgate::management {

namespace json = boost::json;

namespace {

// Reads a stored connection's sealed parameters into `resource`.
Status OpenConnectionParameters(const json::object& body, const std::string& key,
                                const crypto::Keyring& keyring, ConnectionResource& resource) {
  auto sealed = body.find(kSealedParametersMember);
  if (sealed == body.end() || !sealed->value().is_string()) return OkStatus();
  auto blob = crypto::SealedFromBase64(sealed->value().get_string());
  if (!blob.ok()) return blob.error();
  auto opened = keyring.Open(*blob, key);
  if (!opened.ok()) return opened.error();
  boost::system::error_code ec;
  json::value parameters = json::parse(opened->Expose(), ec);
  if (ec || !parameters.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "its sealed parameters are not a JSON object");
  }
  resource.parameters_given = true;
  for (const auto& [name, value] : parameters.get_object()) {
    if (!value.is_string()) continue;
    if (name == credentials::kClientSecretParameter) {
      resource.parameters.Mutable().client_secret = Secret(std::string(value.get_string()));
    } else {
      resource.parameters.Mutable().values[std::string(name)] = std::string(value.get_string());
    }
  }
  // NOTE: boost::json cannot cleanse its buffers, so the parsed copy of the secret stays in freed
  // heap memory until it is reused.
  return OkStatus();
}

}  // namespace

Result<ResourcePath> PathOfKey(std::string_view key) { return ParseResourcePath(key); }

Result<ParsedRecord> ParseRecord(const store::ResourceRecord& record,
                                 const crypto::Keyring& keyring, json::storage_ptr storage) {
  auto body = ParseJsonBody(record.body_json, std::move(storage));
  if (!body.ok()) return body.error();
  ParsedRecord parsed{std::move(*body), std::nullopt, std::nullopt, std::nullopt};
  const bool connection = record.kind == "connection";
  if (!connection && record.kind != "accessPolicy") return parsed;
  auto path = PathOfKey(record.key);
  if (!path.ok()) return path.error();
  if (connection) {
    auto resource = ParseConnection(path->first, path->second, parsed.body);
    if (!resource.ok()) return resource.error();
    CREDGATE_RETURN_IF_ERROR(OpenConnectionParameters(parsed.body, record.key, keyring, *resource));
    parsed.connection = std::move(*resource);
  } else {
    auto resource = ParseAccessPolicy(path->first, path->second, path->third, parsed.body);
    if (!resource.ok()) return resource.error();
    parsed.access_policy = std::move(*resource);
  }
  parsed.path = std::move(*path);
  return parsed;
}


}  // namespace credgate::management
