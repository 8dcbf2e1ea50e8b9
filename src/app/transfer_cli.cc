#include "app/transfer_cli.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "app/management_client.h"
#include "common/encoding.h"
#include "common/random.h"
#include "crypto/export_seal.h"

namespace credgate::app {

namespace json = boost::json;

namespace {

// An import applies every resource in one call, so it may take longer than a single PUT.
constexpr std::chrono::seconds kTransferTimeout{300};

void PrintError(const std::string& message) {
  std::fprintf(stderr, "credgate: %s\n", message.c_str());
}

Result<std::string> ReadFile(const std::string& path, const std::string& option) {
  std::ifstream file(path);
  if (!file) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot read the file '" + path + "'; check the path given to " + option);
  }
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

Result<Secret> ReadExportKey(const std::string& path) {
  auto text = ReadFile(path, "--export-key-file");
  if (!text.ok()) return text.error();
  auto key = crypto::ParseExportKey(*text);
  if (!key.ok()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the file '" + path + "' holds no export key: " + key.error().message);
  }
  // The server takes the key in base64, the form the key file contains.
  return Secret(Base64Encode(key->Expose()));
}

// Writes `content` to `path` with mode 0600: to a new file beside it first, then renamed over
// it, so that a reader never sees half a document and no byte is ever readable by others.
Status WritePrivateFile(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".tmp";
  auto failed = [&](const std::string& what) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot " + what + " '" + path + "': " + std::strerror(errno));
  };
  ::unlink(temporary.c_str());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return failed("create");
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(temporary.c_str());
      return failed("write");
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temporary.c_str());
    return failed("write");
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    ::unlink(temporary.c_str());
    return failed("replace");
  }
  return OkStatus();
}

}  // namespace

TransferCommands::TransferCommands(CLI::App& app) {
  CLI::App* key = app.add_subcommand("export-key", "Create the key that seals export documents");
  key->require_subcommand(1);
  key_create_ = key->add_subcommand(
      "create", "Print a fresh random export key (base64 of 32 bytes) on standard output");

  export_ = app.add_subcommand(
      "export", "Write every resource, secret and connection token of a server to a file");
  export_->add_option("--out", file_, "File to write; created with mode 0600")->required();
  export_
      ->add_option("--export-key-file", key_file_,
                   "File with the export key that seals the secrets and tokens")
      ->required();
  AddManagementOptions(*export_, options_);

  import_ = app.add_subcommand("import", "Load a file written by 'credgate export' into a server");
  import_->add_option("--in", file_, "File written by 'credgate export'")->required();
  import_->add_option("--export-key-file", key_file_, "File with the export key of the document")
      ->required();
  import_->add_flag("--replace", replace_,
                    "Replace resources the server has already; without it they fail the import");
  AddManagementOptions(*import_, options_);
}

std::optional<int> TransferCommands::Run() const {
  if (key_create_->parsed()) {
    OpenSslRandom random;
    Secret key = crypto::GenerateExportKey(random);
    std::printf("%.*s\n", static_cast<int>(key.size()), key.Expose().data());
    return 0;
  }
  if (export_->parsed()) return RunExport();
  if (import_->parsed()) return RunImport();
  return std::nullopt;
}

int TransferCommands::RunExport() const {
  auto key = ReadExportKey(key_file_);
  if (!key.ok()) {
    PrintError(key.error().message);
    return 2;
  }
  auto target = ResolveManagementTarget(options_);
  if (!target.ok()) {
    PrintError(target.error().message);
    return 2;
  }
  json::object request;
  request["exportKey"] = key->Expose();
  auto document = CallManagementApi(target->url, "POST", "/export", target->admin_key,
                                    json::serialize(request), kTransferTimeout);
  if (!document.ok()) {
    PrintError(document.error().message);
    return 1;
  }
  Status written = WritePrivateFile(file_, json::serialize(*document) + "\n");
  if (!written.ok()) {
    PrintError(written.error().message);
    return 2;
  }
  const json::value* resources =
      document->is_object() ? document->as_object().if_contains("resources") : nullptr;
  const size_t count = resources && resources->is_array() ? resources->as_array().size() : 0;
  std::printf("exported %zu resources to %s\n", count, file_.c_str());
  return 0;
}

int TransferCommands::RunImport() const {
  auto key = ReadExportKey(key_file_);
  if (!key.ok()) {
    PrintError(key.error().message);
    return 2;
  }
  auto text = ReadFile(file_, "--in");
  if (!text.ok()) {
    PrintError(text.error().message);
    return 2;
  }

  boost::system::error_code parse_error;
  json::value document = json::parse(*text, parse_error);
  if (parse_error) {
    PrintError("the file '" + file_ + "' is not JSON: " + parse_error.message());
    return 2;
  }
  auto target = ResolveManagementTarget(options_);
  if (!target.ok()) {
    PrintError(target.error().message);
    return 2;
  }

  json::object request;
  request["exportKey"] = key->Expose();
  request["document"] = std::move(document);
  request["mode"] = replace_ ? "replace" : "create-only";
  auto result = CallManagementApi(target->url, "POST", "/import", target->admin_key,
                                  json::serialize(request), kTransferTimeout);
  if (!result.ok()) {
    PrintError(result.error().message);
    return 1;
  }
  auto number = [&](const char* member) -> int64_t {
    const json::value* value =
        result->is_object() ? result->as_object().if_contains(member) : nullptr;
    return value && value->is_int64() ? value->as_int64() : 0;
  };
  std::printf("imported from %s: %lld created, %lld replaced, %lld token sets\n", file_.c_str(),
              static_cast<long long>(number("created")), static_cast<long long>(number("replaced")),
              static_cast<long long>(number("tokens")));
  return 0;
}

}  // namespace credgate::app
