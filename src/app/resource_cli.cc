#include "app/resource_cli.h"

#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "app/management_client.h"
#include "common/secret.h"

namespace credgate::app {

namespace json = boost::json;

namespace {

constexpr std::chrono::seconds kRequestTimeout{30};
constexpr char kDefaultManagementUrl[] = "http://127.0.0.1:8081";

// A table column: its heading and the member of `properties` it shows ("a.b" for nested).
struct Column {
  const char* heading;
  const char* member;
};

struct KindInfo {
  const char* kind;
  const char* help;
  std::vector<Column> columns;
};

const std::vector<KindInfo>& Kinds() {
  static const std::vector<KindInfo> kinds = {
      {"issuer", "Trusted issuers of caller JWTs",
       {{"ISSUER", "issuer"}, {"AUDIENCES", "audiences"}}},
      {"provider", "Credential providers",
       {{"IDENTITY PROVIDER", "identityProvider"}, {"DISPLAY NAME", "displayName"}}},
      {"connection", "Connections of a credential provider",
       {{"TYPE", "oauth2grantType"}, {"STATUS", "status"}, {"ERROR", "error.code"}}},
      {"access-policy", "Access policies of a connection",
       {{"TENANT", "tenantId"}, {"OBJECT", "objectId"}, {"APPS", "appIds"}}},
      {"api", "APIs", {{"PATH", "path"}, {"SERVICE URL", "serviceUrl"}}},
      {"operation", "Operations of an API", {{"METHOD", "method"}, {"URL TEMPLATE", "urlTemplate"}}},
      {"backend", "Backends, named by set-backend-service backend-id",
       {{"URL", "url"}, {"DESCRIPTION", "description"}}},
      {"certificate", "Certificates that policies name by certificate-id",
       {{"SUBJECT", "subject"}, {"THUMBPRINT", "thumbprint"}, {"EXPIRES", "expirationDate"}}},
      {"policy-fragment", "Policy fragments, included by policies with <include-fragment>",
       {{"DESCRIPTION", "description"}}},
      {"policy", "Policy documents (global, API or operation scope)", {}},
  };
  return kinds;
}

const KindInfo& InfoFor(const std::string& kind) {
  for (const auto& info : Kinds()) {
    if (kind == info.kind) return info;
  }
  return Kinds().back();
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "credgate: %s\n", message.c_str());
}

// Renders a JSON value as one table cell: strings as they are, arrays joined with commas.
std::string CellText(const json::value* value) {
  if (value == nullptr || value->is_null()) return "";
  if (value->is_string()) return std::string(value->as_string());
  if (value->is_array()) {
    std::string joined;
    for (const auto& item : value->as_array()) {
      if (!joined.empty()) joined += ",";
      joined += CellText(&item);
    }
    return joined;
  }
  return json::serialize(*value);
}

// Finds `member` ("a.b" for nested) in the resource's properties.
const json::value* Member(const json::value& resource, std::string_view member) {
  const json::value* current = resource.is_object()
                                   ? resource.as_object().if_contains("properties")
                                   : nullptr;
  while (current != nullptr && !member.empty()) {
    size_t dot = member.find('.');
    std::string_view part = member.substr(0, dot);
    current = current->is_object() ? current->as_object().if_contains(part) : nullptr;
    member = dot == std::string_view::npos ? std::string_view() : member.substr(dot + 1);
  }
  return current;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

// Adds one row per leaf of `value`, named by its path below properties.
void FlattenInto(const json::value& value, const std::string& prefix,
                 std::vector<std::vector<std::string>>& rows) {
  if (value.is_object() && !value.as_object().empty()) {
    for (const auto& [key, member] : value.as_object()) {
      FlattenInto(member, prefix.empty() ? std::string(key) : prefix + "." + std::string(key),
                  rows);
    }
    return;
  }
  rows.push_back({prefix, CellText(&value)});
}

void PrintResource(const std::string& kind, const json::value& resource) {
  std::vector<std::vector<std::string>> rows = {{"FIELD", "VALUE"}};
  if (kind == "policy" || kind == "policy-fragment") {
    const json::value* xml = Member(resource, "value");
    std::printf("%s\n", CellText(xml).c_str());
    return;
  }
  if (const auto* name = resource.as_object().if_contains("name")) {
    rows.push_back({"name", CellText(name)});
  }
  if (const auto* properties = resource.as_object().if_contains("properties")) {
    FlattenInto(*properties, "", rows);
  }
  PrintTable(rows);
}

void PrintCollection(const std::string& kind, const json::value& collection) {
  const KindInfo& info = InfoFor(kind);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> headings = {"NAME"};
  for (const auto& column : info.columns) headings.push_back(column.heading);
  rows.push_back(std::move(headings));
  const json::value* items = collection.is_object() ? collection.as_object().if_contains("value")
                                                    : nullptr;
  if (items != nullptr && items->is_array()) {
    for (const auto& item : items->as_array()) {
      const json::value* name = item.is_object() ? item.as_object().if_contains("name") : nullptr;
      std::vector<std::string> row = {CellText(name)};
      for (const auto& column : info.columns) row.push_back(CellText(Member(item, column.member)));
      rows.push_back(std::move(row));
    }
  }
  PrintTable(rows);
}

Result<std::string> ReadInput(const std::string& path) {
  std::stringstream content;
  if (path == "-") {
    content << std::cin.rdbuf();
    return content.str();
  }
  std::ifstream file(path);
  if (!file) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot read the file '" + path + "'; check the path given to --file");
  }
  content << file.rdbuf();
  return content.str();
}

std::string TrimmedLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

struct CliSettings {
  std::string management_url;
  std::string admin_key_file;
};

// Reads managementUrl and adminKeyFile from the CLI config file, when there is one.
Result<CliSettings> LoadCliConfig(const std::string& explicit_path) {
  std::string path = explicit_path;
  bool required = !path.empty();
  if (path.empty()) {
    if (const char* from_env = std::getenv("CREDGATE_CLI_CONFIG"); from_env && *from_env) {
      path = from_env;
      required = true;
    } else if (const char* home = std::getenv("HOME"); home && *home) {
      path = std::string(home) + "/.config/credgate/cli.yaml";
    }
  }
  CliSettings settings;
  if (path.empty() || (!required && !std::filesystem::exists(path))) return settings;
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap() && !root.IsNull()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the CLI config file " + path + " is not a YAML mapping");
    }
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      if (key == "managementUrl") {
        settings.management_url = entry.second.as<std::string>();
      } else if (key == "adminKeyFile") {
        settings.admin_key_file = entry.second.as<std::string>();
      } else {
        return MakeError(ErrorCode::kInvalidArgument,
                         "unknown key '" + key + "' in the CLI config file " + path +
                             "; the keys are managementUrl and adminKeyFile");
      }
    }
  } catch (const YAML::Exception& error) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot read the CLI config file " + path + ": " + error.what());
  }
  return settings;
}

}  // namespace

ResourceCommands::ResourceCommands(CLI::App& app) {
  for (const auto& info : Kinds()) AddKind(app, info.kind);
}

void ResourceCommands::AddKind(CLI::App& app, const std::string& kind) {
  CLI::App* group = app.add_subcommand(kind, InfoFor(kind).help);
  group->require_subcommand(1);
  const bool is_policy = kind == "policy";
  std::vector<std::string> actions = is_policy
                                         ? std::vector<std::string>{"get", "put", "delete"}
                                         : std::vector<std::string>{"list", "get", "put", "delete"};
  if (kind == "connection") actions.push_back("login-link");
  for (const auto& action : actions) {
    std::string help = action == "list"     ? "List every resource of this kind"
                       : action == "get"    ? "Show one"
                       : action == "put"    ? "Create or replace one from a file"
                       : action == "delete" ? "Delete one"
                                            : "Print a single-use login link for a user to sign in";
    CLI::App* command = group->add_subcommand(action, help);
    if (!is_policy && action != "list") {
      command->add_option("name", name_, "Name of the " + kind)->required();
    }
    const bool is_fragment = kind == "policy-fragment";
    if (action == "put") {
      command->add_option("-f,--file", file_,
                          is_policy     ? "XML policy document, or - for standard input"
                          : is_fragment ? "XML <fragment> document, or - for standard input"
                                        : "JSON body ({\"properties\":{...}}), or - for standard input")
          ->required();
    }
    if (action == "put" && is_fragment) {
      command->add_option("--description", description_, "Description of the fragment");
    }
    if (kind == "connection" || kind == "access-policy") {
      command->add_option("--provider", provider_, "Credential provider name")->required();
    }
    if (kind == "access-policy") {
      command->add_option("--connection", connection_, "Connection name")->required();
    }
    if (kind == "operation") command->add_option("--api", api_, "API name")->required();
    if (is_policy) {
      command->add_option("--api", api_, "API of an API or operation policy; none is global");
      command->add_option("--operation", operation_, "Operation of an operation policy")
          ->needs(command->get_option("--api"));
    }
    if (action == "login-link") {
      command->add_option("--redirect", redirect_,
                          "Where the browser goes after the sign-in; it must be on the server's "
                          "allow-list");
    }
    command->add_option("-o,--output", output_, "Output format: table or json")
        ->check(CLI::IsMember({"table", "json"}));
    AddManagementOptions(*command, options_);
    verbs_.push_back({command, kind, action});
  }
}

std::optional<int> ResourceCommands::Run() const {
  for (const auto& verb : verbs_) {
    if (verb.command->parsed()) return RunVerb(verb);
  }
  return std::nullopt;
}

Result<ManagementTarget> ResolveManagementTarget(const ManagementOptions& options) {
  auto settings = LoadCliConfig(options.cli_config);
  if (!settings.ok()) return settings.error();
  ManagementTarget target;
  target.url = options.management_url;
  if (target.url.empty()) {
    const char* from_env = std::getenv("CREDGATE_MANAGEMENT_URL");
    target.url = from_env && *from_env ? from_env : settings->management_url;
  }
  if (target.url.empty()) target.url = kDefaultManagementUrl;

  std::string key_file = options.admin_key_file;
  const char* key_from_env = std::getenv("CREDGATE_ADMIN_KEY");
  if (key_file.empty() && key_from_env && *key_from_env) {
    target.admin_key = Secret(std::string(key_from_env));
    return target;
  }
  if (key_file.empty()) key_file = settings->admin_key_file;
  if (key_file.empty()) key_file = options.data_dir + "/admin.key";
  auto text = ReadInput(key_file);
  if (!text.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot read the admin key file '" + key_file +
                         "'; pass --admin-key-file or set CREDGATE_ADMIN_KEY");
  }
  target.admin_key = Secret(TrimmedLine(std::move(*text)));
  return target;
}

void AddManagementOptions(CLI::App& command, ManagementOptions& options) {
  command.add_option("--management-url", options.management_url,
                     "Management API base URL (default CREDGATE_MANAGEMENT_URL, the CLI "
                     "config file, then http://127.0.0.1:8081)");
  command.add_option("--admin-key-file", options.admin_key_file,
                     "File with the admin key (default CREDGATE_ADMIN_KEY, the CLI config "
                     "file, then <data-dir>/admin.key)");
  command.add_option("--data-dir", options.data_dir,
                     "Data directory whose admin.key is used when no other key is given");
  command.add_option("--cli-config", options.cli_config,
                     "CLI config file (default CREDGATE_CLI_CONFIG, then "
                     "~/.config/credgate/cli.yaml)");
}

int ResourceCommands::RunVerb(const Verb& verb) const {
  auto target = ResolveManagementTarget(options_);
  if (!target.ok()) {
    PrintError(target.error().message);
    return 2;
  }
  const std::string& url = target->url;
  const Secret& key = target->admin_key;

  std::string path;
  const std::string& kind = verb.kind;
  if (kind == "issuer") path = "/trustedIssuers";
  if (kind == "provider") path = "/authorizationProviders";
  if (kind == "connection") path = "/authorizationProviders/" + provider_ + "/authorizations";
  if (kind == "access-policy") {
    path = "/authorizationProviders/" + provider_ + "/authorizations/" + connection_ +
           "/accessPolicies";
  }
  if (kind == "api") path = "/apis";
  if (kind == "operation") path = "/apis/" + api_ + "/operations";
  if (kind == "policy-fragment") path = "/policyFragments";
  if (kind == "backend") path = "/backends";
  if (kind == "certificate") path = "/certificates";
  if (kind == "policy") {
    if (!api_.empty()) path = "/apis/" + api_;
    if (!operation_.empty()) path += "/operations/" + operation_;
    path += "/policies/policy";
  } else if (verb.action != "list") {
    path += "/" + name_;
  }

  std::string method = "GET";
  std::string body;
  if (verb.action == "put") {
    method = "PUT";
    auto input = ReadInput(file_);
    if (!input.ok()) {
      PrintError(input.error().message);
      return 2;
    }
    if (kind == "policy") {
      json::object properties{{"format", "rawxml"}, {"value", *input}};
      body = json::serialize(json::object{{"properties", std::move(properties)}});
    } else if (kind == "policy-fragment") {
      json::object properties{
          {"format", "rawxml"}, {"value", *input}, {"description", description_}};
      body = json::serialize(json::object{{"properties", std::move(properties)}});
    } else {
      boost::system::error_code parse_error;
      json::value parsed = json::parse(*input, parse_error);
      if (parse_error || !parsed.is_object()) {
        PrintError("the file '" + file_ +
                   "' is not a JSON object; send a body such as {\"properties\":{...}}");
        return 2;
      }
      body = std::move(*input);
    }
  }
  if (verb.action == "delete") method = "DELETE";
  if (verb.action == "login-link") {
    method = "POST";
    path += "/getLoginLinks";
    json::object request;
    if (!redirect_.empty()) request["postLoginRedirectUrl"] = redirect_;
    body = json::serialize(request);
  }

  auto result = CallManagementApi(url, method, path, key, body, kRequestTimeout);
  if (!result.ok()) {
    PrintError(result.error().message);
    return 1;
  }
  if (output_ == "json") {
    std::printf("%s\n", json::serialize(*result).c_str());
    return 0;
  }
  if (verb.action == "list") {
    PrintCollection(kind, *result);
  } else if (verb.action == "delete") {
    std::printf("deleted %s %s\n", kind.c_str(), path.c_str());
  } else if (verb.action == "login-link") {
    std::printf("%s\n", CellText(result->is_object() ? result->as_object().if_contains("loginLink")
                                                     : nullptr)
                            .c_str());
  } else {
    PrintResource(kind, *result);
  }
  return 0;
}

}  // namespace credgate::app
