#include "credentials/token_request.h"

#include <openssl/crypto.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace credgate::credentials {

namespace {

void Cleanse(std::string& text) {
  if (!text.empty()) OPENSSL_cleanse(text.data(), text.size());
}

std::string JsonBody(const FormFields& fields) {
  boost::json::object object;
  for (const auto& [name, value] : fields) object[name] = value;
  // NOTE: boost::json has no hook to cleanse its buffers, so the object's copies of the values
  // stay in freed heap memory until it is reused.
  return boost::json::serialize(object);
}

}  // namespace

http::ClientRequest BuildTokenRequest(const ProviderConfig& provider, const std::string& url,
                                      FormFields fields) {
  http::ClientRequest request;
  request.method = "POST";
  request.url = url;
  const bool json = provider.token_request_encoding == TokenRequestEncoding::kJson;
  request.headers = {
      {"Content-Type", json ? "application/json" : "application/x-www-form-urlencoded"},
      {"Accept", "application/json"},
  };

  if (provider.client_secret.empty()) {
    fields.emplace_back("client_id", provider.client_id);
  } else if (provider.client_auth_method == ClientAuthMethod::kClientSecretPost) {
    fields.emplace_back("client_id", provider.client_id);
    fields.emplace_back("client_secret", provider.client_secret.Expose());
  } else {
    // RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined with ':' and
    // base64-encoded, so a ':' or '+' inside either survives the round trip.
    std::string credentials = FormEncodeComponent(provider.client_id) + ":" +
                              FormEncodeComponent(provider.client_secret.Expose());
    request.headers.emplace_back("Authorization", "Basic " + Base64Encode(credentials));
    Cleanse(credentials);
  }
  request.body = json ? JsonBody(fields) : FormEncode(fields);
  for (auto& [name, value] : fields) Cleanse(value);
  return request;
}

}  // namespace credgate::credentials
