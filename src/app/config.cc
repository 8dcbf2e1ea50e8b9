#include "app/config.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "app/logging.h"
#include "credentials/model.h"
#include "crypto/key_command.h"
#include "http/server_tls.h"
#include "http/tls.h"
#include "http/url.h"
#include "management/redirect_url.h"
#include "store/open_store.h"

namespace credgate::app {

namespace {

constexpr int kMaxDefaultTokenLifetimeSeconds = 366 * 24 * 3600;

Error ConfigError(const std::string& path, const std::string& message) {
  return MakeError(ErrorCode::kInvalidArgument, "config file '" + path + "': " + message);
}

// Converts a YAML node to JSON so that declared resources go through the same validation as the
// management API. Scalars stay strings except YAML's plain true/false/null and numbers.
boost::json::value YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      boost::json::object object;
      for (const auto& item : node) object[item.first.as<std::string>()] = YamlToJson(item.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      boost::json::array array;
      for (const auto& item : node) array.push_back(YamlToJson(item));
      return array;
    }
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (node.Tag() == "!") return boost::json::string(text);  // Quoted scalar.
      if (text == "true") return true;
      if (text == "false") return false;
      if (text == "null" || text == "~") return nullptr;
      int64_t integer = 0;
      auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
      if (error == std::errc() && end == text.data() + text.size() && !text.empty()) {
        return integer;
      }
      return boost::json::string(text);
    }
    default:
      return nullptr;
  }
}

std::string StripTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string Position(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0) return "";
  return " (line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ")";
}

Result<std::string> ReadString(const YAML::Node& node, const std::string& key,
                               const std::string& path) {
  if (!node.IsScalar()) {
    return ConfigError(path, "'" + key + "' must be a string" + Position(node));
  }
  return node.Scalar();
}

// Rejects a key of the mapping `node` (the value of `parent`) that is not in `known`.
Status RejectUnknownKeys(const YAML::Node& node, std::initializer_list<std::string_view> known,
                         const std::string& parent, const std::string& path) {
  for (const auto& item : node) {
    const std::string key = item.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string expected;
    for (std::string_view name : known) {
      expected += (expected.empty() ? "'" : ", '") + std::string(name) + "'";
    }
    return ConfigError(path, "unknown key '" + parent + "." + key + "'" + Position(item.first) +
                                 "; '" + parent + "' takes " + expected);
  }
  return OkStatus();
}

Status ValidatePublicUrl(std::string_view public_url) {
  auto url = boost::urls::parse_absolute_uri(public_url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty() ||
      !url->query().empty() || url->has_fragment()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid public URL '" + std::string(public_url) +
                         "': use an absolute http or https URL without query or fragment, for "
                         "example https://gateway.example.com");
  }
  return OkStatus();
}

Status ValidatePostLoginRedirectUrl(std::string_view allowed) {
  // The entry must pass the rules that a login link's URL is held to, or it could never match.
  auto normalized = management::NormalizeRedirectUrl(allowed);
  if (!normalized.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid post-login redirect URL '" + std::string(allowed) +
                         "' in the allow-list: use an absolute http or https URL with a DNS "
                         "name or IPv4 host, without user name or fragment (" +
                         normalized.error().message + ")");
  }
  return OkStatus();
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool IsScopeToken(std::string_view token) {
  return !token.empty() && std::all_of(token.begin(), token.end(), [](char c) {
    return c >= 0x21 && c <= 0x7e && c != '"' && c != '\\';
  });
}

// Checks the settings of the portal's OpenID Connect sign-in, which `config` enables.
Status ValidatePortalOidc(const AdminJwtConfig& config) {
  const std::string& client_id = config.portal_client_id;
  const bool printable = std::all_of(client_id.begin(), client_id.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  });
  if (!printable) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid adminJwt.portalClientId: it contains a control character");
  }
  if (std::find(config.audiences.begin(), config.audiences.end(), client_id) ==
      config.audiences.end()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "adminJwt.audiences must contain the portal client id '" + client_id +
                         "', because the portal signs in with the ID token, whose audience is "
                         "its client id");
  }

  const std::string& redirect = config.portal_redirect_url;
  if (redirect.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "adminJwt.portalRedirectUrl is missing: set it to the management "
                     "listener's URL as browsers reach it, followed by " +
                         std::string(kPortalOidcCallbackPath) +
                         ", for example https://credgate-admin.example.com" +
                         std::string(kPortalOidcCallbackPath));
  }
  auto url = boost::urls::parse_absolute_uri(redirect);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty() ||
      url->has_query() || url->has_fragment() || url->has_userinfo() ||
      std::string(url->encoded_path()) != kPortalOidcCallbackPath) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid adminJwt.portalRedirectUrl '" + redirect +
                         "': use an absolute http or https URL of the management listener "
                         "whose path is " +
                         std::string(kPortalOidcCallbackPath) +
                         ", without user name, query or fragment");
  }

  bool has_openid = false;
  std::string_view scopes = config.portal_scopes;
  while (!scopes.empty()) {
    size_t space = scopes.find(' ');
    std::string_view token = scopes.substr(0, space);
    scopes = space == std::string_view::npos ? std::string_view() : scopes.substr(space + 1);
    if (token.empty()) continue;
    if (!IsScopeToken(token)) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "invalid adminJwt.portalScopes '" + config.portal_scopes + "': scope '" +
                           std::string(token) +
                           "' contains a character that RFC 6749 §3.3 does not allow");
    }
    if (token == "openid") has_openid = true;
  }
  if (!has_openid) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid adminJwt.portalScopes '" + config.portal_scopes +
                         "': add the scope 'openid', without which the issuer returns no ID "
                         "token");
  }
  return OkStatus();
}

Status ValidateLogFormat(std::string_view log_format) {
  auto format = ParseLogFormat(log_format);
  if (!format.ok()) return format.error();
  return OkStatus();
}

Result<int> ReadInt(const YAML::Node& node, const std::string& key, const std::string& path,
                    int min, int max) {
  int value = 0;
  if (!node.IsScalar() || !YAML::convert<int>::decode(node, value) || value < min || value > max) {
    return ConfigError(path, "'" + key + "' must be a whole number from " + std::to_string(min) +
                                 " to " + std::to_string(max) + Position(node));
  }
  return value;
}

// Reads a command as a list of strings, or as one string split on whitespace.
Result<std::vector<std::string>> ReadCommand(const YAML::Node& node, const std::string& key,
                                             const std::string& path) {
  std::vector<std::string> argv;
  if (node.IsScalar()) {
    argv = crypto::SplitCommandLine(node.Scalar());
  } else if (node.IsSequence()) {
    for (const auto& item : node) {
      auto text = ReadString(item, key, path);
      if (!text.ok()) return text.error();
      argv.push_back(*text);
    }
  }
  if (argv.empty()) {
    return ConfigError(path, "'" + key + "' must be a command: a list of strings (the program, "
                                 "then its arguments) or one string" + Position(node));
  }
  return argv;
}

// Reads the portal client secret from the file that 'adminJwt.portalClientSecretFile' names or
// the environment variable that 'adminJwt.portalClientSecretEnv' names, without the trailing
// line break. Returns an empty secret when neither key is given.
Result<Secret> ReadPortalClientSecret(const YAML::Node& node, const std::string& path) {
  const YAML::Node file_node = node["portalClientSecretFile"];
  const YAML::Node env_node = node["portalClientSecretEnv"];
  if (file_node && env_node) {
    return ConfigError(path, "'adminJwt' takes one of 'portalClientSecretFile' and "
                             "'portalClientSecretEnv', not both" + Position(node));
  }
  std::string secret;
  if (file_node) {
    auto file = ReadString(file_node, "adminJwt.portalClientSecretFile", path);
    if (!file.ok()) return file.error();
    std::FILE* stream = std::fopen(file->c_str(), "rb");
    if (stream == nullptr) {
      return ConfigError(path, "portal client secret file '" + *file + "' cannot be read: " +
                                   std::strerror(errno) + Position(file_node));
    }
    char buffer[4096];
    size_t read = 0;
    while ((read = std::fread(buffer, 1, sizeof(buffer), stream)) > 0) {
      secret.append(buffer, read);
      if (secret.size() > 64 * 1024) break;
    }
    std::fclose(stream);
  } else if (env_node) {
    auto name = ReadString(env_node, "adminJwt.portalClientSecretEnv", path);
    if (!name.ok()) return name.error();
    const char* value = std::getenv(name->c_str());
    if (value == nullptr) {
      return ConfigError(path, "the environment variable '" + *name +
                                   "' that 'adminJwt.portalClientSecretEnv' names is not set" +
                                   Position(env_node));
    }
    secret = value;
  } else {
    return Secret();
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) {
    return ConfigError(path, "the portal client secret is empty; leave out "
                             "'portalClientSecretFile' and 'portalClientSecretEnv' for a public "
                             "client" + Position(node));
  }
  return Secret(std::move(secret));
}

Result<AdminJwtConfig> ReadAdminJwt(const YAML::Node& node, const std::string& path) {
  if (!node.IsMap() || !node["issuer"] || !node["audiences"]) {
    return ConfigError(path, "'adminJwt' needs 'issuer' and 'audiences'" + Position(node));
  }
  CREDGATE_RETURN_IF_ERROR(RejectUnknownKeys(
      node,
      {"issuer", "audiences", "jwksUri", "roleClaim", "portalClientId", "portalClientSecretFile",
       "portalClientSecretEnv", "portalRedirectUrl", "portalScopes"},
      "adminJwt", path));
  AdminJwtConfig config;
  auto issuer = ReadString(node["issuer"], "adminJwt.issuer", path);
  if (!issuer.ok()) return issuer.error();
  config.issuer = *issuer;
  const YAML::Node audiences = node["audiences"];
  if (audiences.IsScalar()) {
    config.audiences.push_back(audiences.Scalar());
  } else if (audiences.IsSequence()) {
    for (const auto& item : audiences) {
      auto audience = ReadString(item, "adminJwt.audiences", path);
      if (!audience.ok()) return audience.error();
      config.audiences.push_back(*audience);
    }
  }
  for (std::string_view optional_key : {"jwksUri", "roleClaim"}) {
    const std::string name(optional_key);
    if (!node[name]) continue;
    auto text = ReadString(node[name], "adminJwt." + name, path);
    if (!text.ok()) return text.error();
    (name == "jwksUri" ? config.jwks_uri : config.role_claim) = *text;
  }
  for (std::string_view portal_key : {"portalClientId", "portalRedirectUrl", "portalScopes"}) {
    const std::string name(portal_key);
    if (!node[name]) continue;
    auto text = ReadString(node[name], "adminJwt." + name, path);
    if (!text.ok()) return text.error();
    if (name == "portalClientId") config.portal_client_id = *text;
    if (name == "portalRedirectUrl") config.portal_redirect_url = *text;
    if (name == "portalScopes") config.portal_scopes = *text;
  }
  auto secret = ReadPortalClientSecret(node, path);
  if (!secret.ok()) return secret.error();
  config.portal_client_secret = std::move(*secret);
  // FinalizeConfig() checks the values, after command-line flags may have replaced some.
  return config;
}

Result<ListenerTls> ReadListenerTls(const YAML::Node& node, const std::string& key,
                                    const std::string& path) {
  if (!node.IsMap() || !node["certificate"] || !node["key"]) {
    return ConfigError(path, "'" + key + "' needs 'certificate' and 'key', the paths of PEM files" +
                                 Position(node));
  }
  CREDGATE_RETURN_IF_ERROR(RejectUnknownKeys(node, {"certificate", "key"}, key, path));
  auto certificate = ReadString(node["certificate"], key + ".certificate", path);
  if (!certificate.ok()) return certificate.error();
  auto key_file = ReadString(node["key"], key + ".key", path);
  if (!key_file.ok()) return key_file.error();
  return ListenerTls{*certificate, *key_file};
}

// Checks that `tls` names both files and that they load as a certificate chain and its key.
// `listener` names the listener, `flag` its flag prefix and `yaml_key` its YAML key.
Status ValidateListenerTls(const ListenerTls& tls, std::string_view listener, std::string_view flag,
                           std::string_view yaml_key) {
  if (!tls.enabled()) return OkStatus();
  if (tls.certificate_file.empty() || tls.key_file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("{} TLS needs both a certificate file and a key file: set {}-cert "
                                 "and {}-key, or {}.certificate and {}.key",
                                 listener, flag, flag, yaml_key, yaml_key));
  }
  auto context = http::MakeServerTlsContext(tls.certificate_file, tls.key_file);
  if (!context.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("{} listener: {}", listener, context.error().message));
  }
  return OkStatus();
}

Status ValidateBackendCaFile(const std::string& ca_file) {
  if (ca_file.empty()) return OkStatus();
  FILE* file = std::fopen(ca_file.c_str(), "rb");
  if (file == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("backend CA file '{}' cannot be read: {}; check the path and its "
                                 "permissions",
                                 ca_file, std::strerror(errno)));
  }
  std::fclose(file);
  auto context = http::MakeClientTlsContext(ca_file);
  if (!context.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("backend CA file: {}", context.error().message));
  }
  return OkStatus();
}

// Reads a webhook's secret from the file or environment variable that the entry names.
Result<Secret> ReadWebhookSecret(const YAML::Node& entry, const std::string& path) {
  const bool from_file = static_cast<bool>(entry["secretFile"]);
  const bool from_env = static_cast<bool>(entry["secretEnv"]);
  if (from_file == from_env) {
    return ConfigError(path,
                       "each entry of 'webhooks' needs exactly one of 'secretFile' and "
                       "'secretEnv'" +
                           Position(entry));
  }
  std::string secret;
  if (from_file) {
    auto file = ReadString(entry["secretFile"], "webhooks[].secretFile", path);
    if (!file.ok()) return file.error();
    std::FILE* stream = std::fopen(file->c_str(), "rb");
    if (stream == nullptr) {
      return ConfigError(path, "webhook secret file '" + *file + "' cannot be read: " +
                                   std::strerror(errno) + Position(entry["secretFile"]));
    }
    char buffer[4096];
    size_t read = 0;
    while ((read = std::fread(buffer, 1, sizeof(buffer), stream)) > 0) {
      secret.append(buffer, read);
      if (secret.size() > 64 * 1024) break;
    }
    std::fclose(stream);
  } else {
    auto name = ReadString(entry["secretEnv"], "webhooks[].secretEnv", path);
    if (!name.ok()) return name.error();
    const char* value = std::getenv(name->c_str());
    if (value == nullptr) {
      return ConfigError(path, "the environment variable '" + *name +
                                   "' that a webhook's secretEnv names is not set" +
                                   Position(entry["secretEnv"]));
    }
    secret = value;
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.size() < kMinWebhookSecretBytes) {
    OPENSSL_cleanse(secret.data(), secret.size());
    return ConfigError(path, "a webhook secret must have at least " +
                                 std::to_string(kMinWebhookSecretBytes) + " bytes" +
                                 Position(entry));
  }
  return Secret(std::move(secret));
}

Result<std::vector<WebhookConfig>> ReadWebhooks(const YAML::Node& node, const std::string& path) {
  if (!node.IsSequence()) {
    return ConfigError(
        path, "'webhooks' must be a list of {url, secretFile or secretEnv}" + Position(node));
  }
  std::vector<WebhookConfig> webhooks;
  for (const auto& entry : node) {
    if (!entry.IsMap() || !entry["url"]) {
      return ConfigError(path, "each entry of 'webhooks' needs 'url'" + Position(entry));
    }
    CREDGATE_RETURN_IF_ERROR(
        RejectUnknownKeys(entry, {"url", "secretFile", "secretEnv"}, "webhooks[]", path));
    auto url = ReadString(entry["url"], "webhooks[].url", path);
    if (!url.ok()) return url.error();
    auto parsed = boost::urls::parse_absolute_uri(*url);
    if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") ||
        parsed->host().empty() || parsed->has_fragment()) {
      return ConfigError(path, "invalid webhook URL '" + *url +
                                   "': use an absolute http or https URL without fragment" +
                                   Position(entry["url"]));
    }
    auto secret = ReadWebhookSecret(entry, path);
    if (!secret.ok()) return secret.error();
    webhooks.push_back(WebhookConfig{*url, std::move(*secret)});
  }
  return webhooks;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text, std::string_view field) {
  auto fail = [&](const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "invalid " + std::string(field) + " '" + std::string(text) + "': " + why +
                         "; use host:port, for example 127.0.0.1:8080 or [::1]:8080");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return fail("missing port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return fail("an IPv6 address must be in brackets");
  }
  if (host.empty()) return fail("missing host");
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return fail("port must be a number from 0 to 65535");
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(port)};
}

Status LoadConfigFile(const std::string& path, ServeConfig& config) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "config file '" + path + "' cannot be read: check the path and permissions");
  } catch (const YAML::Exception& e) {
    return ConfigError(path, "invalid YAML at line " + std::to_string(e.mark.line + 1) +
                                 ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (root.IsNull()) return OkStatus();
  if (!root.IsMap()) return ConfigError(path, "the top level must be a mapping");

  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>();
    const YAML::Node& value = item.second;
    if (key == "gatewayListen" || key == "managementListen") {
      auto text = ReadString(value, key, path);
      if (!text.ok()) return text.error();
      auto address = ParseListenAddress(*text, key);
      if (!address.ok()) return ConfigError(path, address.error().message + Position(value));
      (key == "gatewayListen" ? config.gateway_listen : config.management_listen) = *address;
    } else if (key == "gatewayTls" || key == "managementTls") {
      auto tls = ReadListenerTls(value, key, path);
      if (!tls.ok()) return tls.error();
      (key == "gatewayTls" ? config.gateway_tls : config.management_tls) = std::move(*tls);
    } else if (key == "masterKeyCommand") {
      auto argv = ReadCommand(value, key, path);
      if (!argv.ok()) return argv.error();
      config.master_key_command = std::move(*argv);
    } else if (key == "masterKeyCommandTimeoutSeconds" || key == "adminAuthFailureLimit" ||
               key == "adminAuthFailureWindowSeconds") {
      auto number = ReadInt(value, key, path, key == "adminAuthFailureWindowSeconds" ? 1 : 0,
                            key == "adminAuthFailureLimit" ? 1'000'000 : 3600);
      if (!number.ok()) return number.error();
      if (key == "masterKeyCommandTimeoutSeconds") {
        config.master_key_command_timeout_seconds = *number;
      }
      if (key == "adminAuthFailureLimit") config.admin_auth_failure_limit = *number;
      if (key == "adminAuthFailureWindowSeconds") {
        config.admin_auth_failure_window_seconds = *number;
      }
    } else if (key == "adminJwt") {
      auto admin_jwt = ReadAdminJwt(value, path);
      if (!admin_jwt.ok()) return admin_jwt.error();
      config.admin_jwt = std::move(*admin_jwt);
    } else if (key == "publicUrl" || key == "dataDir" || key == "masterKeyFile" ||
               key == "logFormat" || key == "logLevel" || key == "store" || key == "instanceId" ||
               key == "auditLog" || key == "backendCaFile" || key == "daprSidecarUrl") {
      auto text = ReadString(value, key, path);
      if (!text.ok()) return text.error();
      Status valid = OkStatus();
      if (key == "publicUrl") valid = ValidatePublicUrl(StripTrailingSlashes(*text));
      if (key == "logFormat") valid = ValidateLogFormat(*text);
      if (key == "logLevel") valid = ValidateLogLevel(*text);
      if (key == "store") valid = ValidateStoreUrl(*text);
      if (key == "instanceId") valid = ValidateInstanceId(*text);
      if (key == "daprSidecarUrl") {
        auto parsed = http::ParseHttpUrl(*text);
        if (!parsed.ok()) valid = parsed.error();
      }
      if (!valid.ok()) {
        return ConfigError(path, "'" + key + "'" + Position(value) + ": " + valid.error().message);
      }
      if (key == "publicUrl") config.public_url = *text;
      if (key == "dataDir") config.data_dir = *text;
      if (key == "masterKeyFile") config.master_key_file = *text;
      if (key == "auditLog") config.audit_log = *text;
      if (key == "backendCaFile") config.backend_ca_file = *text;
      if (key == "logFormat") config.log_format = *text;
      if (key == "logLevel") config.log_level = *text;
      if (key == "store") config.store_url = *text;
      if (key == "instanceId") config.instance_id = *text;
      if (key == "daprSidecarUrl") config.dapr_sidecar_url = StripTrailingSlashes(*text);
    } else if (key == "refreshLeaseTtlSeconds" || key == "reconcileIntervalSeconds") {
      auto number = ReadInt(value, key, path, 1, 3600);
      if (!number.ok()) return number.error();
      if (key == "refreshLeaseTtlSeconds") config.refresh_lease_ttl_seconds = *number;
      if (key == "reconcileIntervalSeconds") config.reconcile_interval_seconds = *number;
    } else if (key == "threads" || key == "drainTimeoutSeconds" || key == "refreshMarginSeconds") {
      auto number = ReadInt(value, key, path, 0, key == "threads" ? 256 : 3600);
      if (!number.ok()) return number.error();
      if (key == "threads") config.threads = *number;
      if (key == "drainTimeoutSeconds") config.drain_timeout_seconds = *number;
      if (key == "refreshMarginSeconds") config.refresh_margin_seconds = *number;
    } else if (key == "webhooks") {
      auto webhooks = ReadWebhooks(value, path);
      if (!webhooks.ok()) return webhooks.error();
      config.webhooks = std::move(*webhooks);
    } else if (key == "webhookMaxAttempts") {
      auto number = ReadInt(value, key, path, 1, 20);
      if (!number.ok()) return number.error();
      config.webhook_max_attempts = *number;
    } else if (key == "eventRetention") {
      auto number = ReadInt(value, key, path, 100, 10'000'000);
      if (!number.ok()) return number.error();
      config.event_retention = *number;
    } else if (key == "maxRefreshRate") {
      auto number = ReadInt(value, key, path, 1, kMaxRefreshRateUpperBound);
      if (!number.ok()) return number.error();
      config.max_refresh_rate = *number;
    } else if (key == "defaultTokenLifetimeSeconds") {
      auto number = ReadInt(value, key, path, 0, kMaxDefaultTokenLifetimeSeconds);
      if (!number.ok()) return number.error();
      config.default_token_lifetime_seconds = *number;
    } else if (key == "postLoginRedirectAllowList") {
      if (!value.IsSequence()) {
        return ConfigError(path, "'postLoginRedirectAllowList' must be a list of URLs" +
                                     Position(value));
      }
      for (const auto& url : value) {
        auto text = ReadString(url, key, path);
        if (!text.ok()) return text.error();
        Status valid = ValidatePostLoginRedirectUrl(*text);
        if (!valid.ok()) {
          return ConfigError(path, "'" + key + "'" + Position(url) + ": " + valid.error().message);
        }
        config.post_login_redirect_allow.push_back(*text);
      }
    } else if (key == "managedIdentity") {
      if (!value.IsMap() || !value["tenantId"] || !value["objectId"]) {
        return ConfigError(path, "'managedIdentity' needs 'tenantId' and 'objectId'" +
                                     Position(value));
      }
      CREDGATE_RETURN_IF_ERROR(RejectUnknownKeys(
          value, {"tenantId", "objectId", "tokenProvider", "resourceParameter", "userAssigned"},
          key, path));
      ManagedIdentity identity;
      auto tenant = ReadString(value["tenantId"], "managedIdentity.tenantId", path);
      if (!tenant.ok()) return tenant.error();
      auto object = ReadString(value["objectId"], "managedIdentity.objectId", path);
      if (!object.ok()) return object.error();
      identity.tenant_id = *tenant;
      identity.object_id = *object;
      if (value["tokenProvider"]) {
        auto provider = ReadString(value["tokenProvider"], "managedIdentity.tokenProvider", path);
        if (!provider.ok()) return provider.error();
        if (!credentials::IsValidName(*provider)) {
          return ConfigError(path, "'managedIdentity.tokenProvider' '" + *provider +
                                       "' is not a valid provider name" +
                                       Position(value["tokenProvider"]));
        }
        identity.token_provider = *provider;
      }
      if (value["resourceParameter"]) {
        auto mode =
            ReadString(value["resourceParameter"], "managedIdentity.resourceParameter", path);
        if (!mode.ok()) return mode.error();
        if (*mode != "scope" && *mode != "resource") {
          return ConfigError(path, "'managedIdentity.resourceParameter' must be 'scope' or "
                                   "'resource', not '" + *mode + "'" +
                                       Position(value["resourceParameter"]));
        }
        identity.resource_parameter = *mode == "resource";
      }
      if (const YAML::Node assigned = value["userAssigned"]) {
        if (!assigned.IsMap()) {
          return ConfigError(path, "'managedIdentity.userAssigned' must map client ids to "
                                   "authorization provider names" +
                                       Position(assigned));
        }
        for (const auto& entry : assigned) {
          if (!entry.first.IsScalar()) {
            return ConfigError(path, "'managedIdentity.userAssigned' keys must be client ids" +
                                         Position(entry.first));
          }
          const std::string client_id = entry.first.Scalar();
          const std::string field = "managedIdentity.userAssigned." + client_id;
          auto provider = ReadString(entry.second, field, path);
          if (!provider.ok()) return provider.error();
          if (client_id.empty() || !credentials::IsValidName(*provider)) {
            return ConfigError(path, "'" + field + "' must name a valid authorization provider, "
                                     "not '" + *provider + "'" + Position(entry.second));
          }
          identity.user_assigned[client_id] = *provider;
        }
      }
      config.managed_identity = std::move(identity);
    } else if (key == "resources") {
      if (!value.IsSequence()) {
        return ConfigError(path, "'resources' must be a list of {path, body}" + Position(value));
      }
      for (const auto& resource : value) {
        if (!resource.IsMap() || !resource["path"] || !resource["body"]) {
          return ConfigError(path, "each entry of 'resources' needs 'path' and 'body'" +
                                       Position(resource));
        }
        CREDGATE_RETURN_IF_ERROR(RejectUnknownKeys(resource, {"path", "body"}, key, path));
        auto resource_path = ReadString(resource["path"], "resources[].path", path);
        if (!resource_path.ok()) return resource_path.error();
        config.resources.push_back(DeclaredResource{
            *resource_path, boost::json::serialize(YamlToJson(resource["body"]))});
      }
    } else {
      return ConfigError(path, "unknown key '" + key + "'" + Position(item.first) +
                                   "; see docs/configuration.md for the keys");
    }
  }
  return OkStatus();
}

Status ValidateStoreUrl(std::string_view url) {
  const bool sqlite = url.starts_with("sqlite:") && url.size() > std::string_view("sqlite:").size();
  if (sqlite || store::IsPostgresUrl(url)) return OkStatus();
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid store '" + store::RedactStoreUrl(url) +
                       "': use sqlite:<path to a database file> or "
                       "postgresql://user@host:port/database");
}

Status ValidateInstanceId(std::string_view id) {
  const bool valid = !id.empty() && id.size() <= 100 &&
                     std::all_of(id.begin(), id.end(), [](char c) {
                       return std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                              c == '_' || c == '.';
                     });
  if (valid) return OkStatus();
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid instance id '" + std::string(id) +
                       "': use 1 to 100 characters from A-Z, a-z, 0-9, '-', '_' and '.'");
}

Status ValidateAdminJwtConfig(const AdminJwtConfig& config) {
  if (config.issuer.empty() || config.audiences.empty() || config.role_claim.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "administrator JWT authentication needs an issuer, at least one audience "
                     "and a role claim name");
  }
  if (!config.portal_enabled()) {
    if (!config.portal_redirect_url.empty() || !config.portal_client_secret.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "adminJwt.portalRedirectUrl and the portal client secret need "
                       "adminJwt.portalClientId, the client id of the portal at the issuer");
    }
    return OkStatus();
  }
  return ValidatePortalOidc(config);
}

Status FinalizeConfig(ServeConfig& config) {
  if (config.data_dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "the data directory must not be empty");
  }
  if (config.public_url.empty()) {
    const auto& listen = config.gateway_listen;
    std::string host = listen.host.find(':') != std::string::npos ? "[" + listen.host + "]"
                                                                   : listen.host;
    const char* scheme = config.gateway_tls.enabled() ? "https://" : "http://";
    config.public_url = scheme + host + ":" + std::to_string(listen.port);
  }
  config.public_url = StripTrailingSlashes(config.public_url);
  if (config.audit_log.empty()) config.audit_log = config.data_dir + "/audit.log";
  if (!config.master_key_command.empty() && !config.master_key_file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "both a master key file and a master key command are set; keep one");
  }
  if (config.admin_jwt) CREDGATE_RETURN_IF_ERROR(ValidateAdminJwtConfig(*config.admin_jwt));
  CREDGATE_RETURN_IF_ERROR(ValidatePublicUrl(config.public_url));
  CREDGATE_RETURN_IF_ERROR(
      ValidateListenerTls(config.gateway_tls, "gateway", "--gateway-tls", "gatewayTls"));
  CREDGATE_RETURN_IF_ERROR(ValidateListenerTls(config.management_tls, "management",
                                               "--management-tls", "managementTls"));
  CREDGATE_RETURN_IF_ERROR(ValidateBackendCaFile(config.backend_ca_file));
  for (const auto& allowed : config.post_login_redirect_allow) {
    CREDGATE_RETURN_IF_ERROR(ValidatePostLoginRedirectUrl(allowed));
  }
  if (config.store_url.empty()) config.store_url = "sqlite:" + config.data_dir + "/credgate.db";
  CREDGATE_RETURN_IF_ERROR(ValidateStoreUrl(config.store_url));
  if (config.instance_id.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
      std::snprintf(host, sizeof(host), "credgate");
    }
    config.instance_id = std::string(host) + "-" + std::to_string(::getpid());
    std::replace_if(
        config.instance_id.begin(), config.instance_id.end(),
        [](char c) {
          return !std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.';
        },
        '-');
  }
  CREDGATE_RETURN_IF_ERROR(ValidateInstanceId(config.instance_id));
  if (config.refresh_lease_ttl_seconds < 1) {
    return MakeError(ErrorCode::kInvalidArgument, "the refresh lease TTL must be at least 1 s");
  }
  return OkStatus();
}

}  // namespace credgate::app
