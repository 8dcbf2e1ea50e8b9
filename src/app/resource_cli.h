// The resource subcommands of the credgate binary, which call a running server's management API:
//
//   credgate issuer|provider|api list|get NAME|put NAME --file F|delete NAME
//   credgate connection list|get|put|delete ... --provider P
//   credgate connection login-link NAME --provider P [--redirect URL]
//   credgate access-policy list|get|put|delete ... --provider P --connection C
//   credgate operation list|get|put|delete ... --api A
//   credgate policy get|put --file F|delete [--api A [--operation O]]
//
// `put` sends the file's JSON body (or, for `policy`, an XML policy document, which it wraps in
// {"properties":{"format":"rawxml","value":...}}); `--file -` reads standard input. Output is a
// table for people, or the server's JSON with `-o json`. The server comes from
// --management-url, else CREDGATE_MANAGEMENT_URL, else `managementUrl` in the CLI config file,
// else http://127.0.0.1:8081. The admin key comes from --admin-key-file, else CREDGATE_ADMIN_KEY,
// else `adminKeyFile` in the CLI config file, else <data dir>/admin.key. The CLI config file is
// --cli-config, else CREDGATE_CLI_CONFIG, else ~/.config/credgate/cli.yaml when it exists.
// Exit status: 0 on success, 1 when the call failed (the message names the method, path, status
// and the server's reason), 2 for invalid arguments or an unreadable file.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::app {

// The options that choose the server and admin key, shared by every subcommand that calls the
// management API (these and transfer_cli.h).
struct ManagementOptions {
  std::string management_url;
  std::string admin_key_file;
  std::string data_dir = "./credgate-data";
  std::string cli_config;
};

// Registers --management-url, --admin-key-file, --data-dir and --cli-config on `command`.
void AddManagementOptions(CLI::App& command, ManagementOptions& options);

struct ManagementTarget {
  std::string url;
  Secret admin_key;
};

// Resolves the server and admin key as described above. Errors: kInvalidArgument with a message
// for the user (an unreadable CLI config or admin key file).
Result<ManagementTarget> ResolveManagementTarget(const ManagementOptions& options);

class ResourceCommands {
 public:
  // Registers the subcommands on `app`, which must outlive this object.
  explicit ResourceCommands(CLI::App& app);

  // Runs the resource subcommand that app.parse() selected and returns its exit status, or
  // nullopt when none was selected.
  std::optional<int> Run() const;

 private:
  struct Verb {
    CLI::App* command;
    // issuer, provider, connection, access-policy, api, operation, policy, policy-fragment,
    // backend
    // certificate
    std::string kind;
    std::string action;  // list, get, put, delete, login-link
  };
  void AddKind(CLI::App& app, const std::string& kind);
  int RunVerb(const Verb& verb) const;

  std::vector<Verb> verbs_;
  // Values of the options; only one subcommand runs per process, so they are shared.
  std::string name_;
  std::string file_;
  std::string provider_;
  std::string connection_;
  std::string api_;
  std::string operation_;
  std::string redirect_;
  std::string description_;
  std::string output_ = "table";
  ManagementOptions options_;
};

}  // namespace credgate::app
