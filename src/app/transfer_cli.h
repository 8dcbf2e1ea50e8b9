// The moving and backing up subcommands of the credgate binary, which call a running server's
// POST /export and POST /import (management/transfer_handlers.h):
//
//   credgate export-key create > KEYFILE       prints a fresh random export key
//   credgate export --out FILE --export-key-file KEYFILE
//   credgate import --in FILE --export-key-file KEYFILE [--replace]
//
// export writes the document to FILE, created with mode 0600 and replaced atomically (written
// beside it, then renamed). import sends FILE in create-only mode, or in replace mode with
// --replace. The server and admin key options are those of the resource commands
// (resource_cli.h). Exit status: 0 on success, 1 when the call failed, 2 for invalid arguments or
// an unreadable or unwritable file.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "app/resource_cli.h"

namespace credgate::app {

class TransferCommands {
 public:
  // Registers the subcommands on `app`, which must outlive this object.
  explicit TransferCommands(CLI::App& app);

  // Runs the subcommand that app.parse() selected and returns its exit status, or nullopt when
  // none of these was selected.
  std::optional<int> Run() const;

 private:
  int RunExport() const;
  int RunImport() const;

  CLI::App* export_ = nullptr;
  CLI::App* import_ = nullptr;
  CLI::App* key_create_ = nullptr;
  std::string file_;
  std::string key_file_;
  bool replace_ = false;
  ManagementOptions options_;
};

}  // namespace credgate::app
