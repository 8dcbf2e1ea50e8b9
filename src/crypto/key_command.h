// Running the master key command: a program whose standard output is the master key text, for
// keys kept in a secret manager or a hardware module (for example
// `--master-key-command "vault kv get -field=keys secret/credgate"`).
//
// The command runs once, at start, without a shell: argv[0] is looked up in PATH as execvp does
// and receives the other elements as its arguments, so no quoting, globbing or expansion
// applies. It inherits the environment except the CREDGATE_* variables (the admin key among
// them), reads /dev/null as standard input, and must exit with status 0 within the timeout,
// otherwise it is killed with SIGKILL. Its standard error may contain the key (a program that
// echoes its input on failure), so error messages quote it only after RedactKeyMaterial, and
// never the standard output.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret.h"

namespace credgate::crypto {

struct KeyCommand {
  std::vector<std::string> argv;  // The program and its arguments; must not be empty.
  std::chrono::milliseconds timeout{10'000};
  size_t max_output_bytes = 64 * 1024;  // Larger output fails with kInvalidArgument.
};

// Runs the command and returns its standard output. Errors: kInvalidArgument for an empty argv
// or too much output, kUnavailable when the program cannot be started, kDeadlineExceeded on
// timeout, and kFailedPrecondition for a non-zero exit status or a signal. The message names
// argv[0] and the status, and quotes at most 300 bytes of redacted standard error.
Result<Secret> RunKeyCommand(const KeyCommand& command);

// Replaces every run of 16 or more characters from the base64 and base64url alphabets and ':'
// (the shape of a key, an `id:base64` line or a token) with "[redacted]", and control characters
// with spaces.
std::string RedactKeyMaterial(std::string_view text);

// Splits a command line on spaces and tabs, without quoting rules, into an argv.
std::vector<std::string> SplitCommandLine(std::string_view line);

}  // namespace credgate::crypto
