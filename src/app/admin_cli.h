// The administrative subcommands of the credgate binary:
//
//   credgate admin-key create --id ID --role ROLE   prints the new key once, on stdout
//   credgate admin-key revoke ID
//   credgate admin-key list
//   credgate keys rewrap                            rewraps every sealed record under the
//                                                   active master key
//
// admin-key works offline on the data directory's database (like the bootstrap key, access to
// the files is the authorisation), or, with a management URL, through a running server's
// management API with an admin key. keys rewrap likewise calls the running server with a
// management URL, and otherwise loads the master keys itself (as credgate serve does, without
// generating a key file) and rewraps the data directory's database. An offline rewrap may run
// while a server uses the same database, because every record is replaced with a
// compare-and-swap. Each function returns the process exit status: 0 on success, 1 when the
// operation failed, 2 for invalid arguments.
#pragma once

#include <string>
#include <vector>

namespace credgate::app {

struct AdminCliTarget {
  std::string data_dir = "./credgate-data";
  std::string management_url;  // When set, the call goes to the running server.
  // File with the admin key for management_url calls; empty means CREDGATE_ADMIN_KEY, then
  // <data_dir>/admin.key.
  std::string admin_key_file;
  // Master key sources of an offline `keys rewrap`; CREDGATE_MASTER_KEY, else
  // <data_dir>/master.key, when both are empty.
  std::string master_key_file;
  std::vector<std::string> master_key_command;
};

int RunAdminKeyCreate(const AdminCliTarget& target, const std::string& id, const std::string& role);
int RunAdminKeyRevoke(const AdminCliTarget& target, const std::string& id);
int RunAdminKeyList(const AdminCliTarget& target);
int RunKeysRewrap(const AdminCliTarget& target);

}  // namespace credgate::app
