#include "crypto/key_command.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace credgate::crypto {

namespace {

bool IsKeyCharacter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=' || c == '-' || c == '_' || c == ':';
}

// Owns the two ends of a pipe.
struct Pipe {
  int read_end = -1;
  int write_end = -1;
  ~Pipe() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  bool Open() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return false;
    read_end = fds[0];
    write_end = fds[1];
    return true;
  }
  void CloseWrite() {
    ::close(write_end);
    write_end = -1;
  }
};

std::string DescribeStderr(const std::string& stderr_text) {
  if (stderr_text.empty()) return "";
  std::string shown = RedactKeyMaterial(stderr_text.substr(0, 300));
  return "; standard error (redacted): " + shown;
}

}  // namespace

std::string RedactKeyMaterial(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t run = 0;
    while (i + run < text.size() && IsKeyCharacter(text[i + run])) ++run;
    if (run >= 16) {
      out += "[redacted]";
    } else {
      for (size_t j = 0; j < run; ++j) out.push_back(text[i + j]);
    }
    i += run;
    if (i < text.size()) {
      char c = text[i];
      out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
      ++i;
    }
  }
  return out;
}

std::vector<std::string> SplitCommandLine(std::string_view line) {
  std::vector<std::string> argv;
  std::string current;
  for (char c : line) {
    if (c == ' ' || c == '\t') {
      if (!current.empty()) argv.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) argv.push_back(std::move(current));
  return argv;
}

Result<Secret> RunKeyCommand(const KeyCommand& command) {
  if (command.argv.empty() || command.argv[0].empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "the master key command is empty");
  }
  const std::string& program = command.argv[0];
  Pipe out;
  Pipe err;
  if (!out.Open() || !err.Open()) {
    return MakeError(ErrorCode::kUnavailable, "failed to create pipes for master key command " +
                                                  program + ": " + std::strerror(errno));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write_end, 1);
  posix_spawn_file_actions_adddup2(&actions, err.write_end, 2);
  std::vector<char*> argv;
  for (const auto& arg : command.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  // The command gets the environment without credgate's own secrets.
  std::vector<char*> env;
  for (char** variable = environ; *variable != nullptr; ++variable) {
    if (std::string_view(*variable).starts_with("CREDGATE_")) continue;
    env.push_back(*variable);
  }
  env.push_back(nullptr);
  pid_t pid = 0;
  int spawned = ::posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return MakeError(ErrorCode::kUnavailable, "failed to start master key command " + program +
                                                  ": " + std::strerror(spawned));
  }
  out.CloseWrite();
  err.CloseWrite();

  std::string stdout_text;
  std::string stderr_text;
  bool too_much = false;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + command.timeout;
  pollfd fds[2] = {{out.read_end, POLLIN, 0}, {err.read_end, POLLIN, 0}};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buffer[4096];
      ssize_t count = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (count < 0 && errno == EINTR) continue;
      if (count <= 0) {
        fds[i].fd = -1;
        continue;
      }
      std::string& target = i == 0 ? stdout_text : stderr_text;
      if (target.size() + static_cast<size_t>(count) > command.max_output_bytes) {
        too_much = true;
      } else {
        target.append(buffer, static_cast<size_t>(count));
      }
      OPENSSL_cleanse(buffer, sizeof(buffer));
    }
    if (too_much) break;
  }
  Secret output(std::move(stdout_text));
  if (timed_out || too_much) ::kill(pid, SIGKILL);

  // The program may close its output and still run, so the wait has the same deadline.
  int status = 0;
  while (true) {
    pid_t waited = ::waitpid(pid, &status, timed_out || too_much ? 0 : WNOHANG);
    if (waited < 0 && errno == EINTR) continue;
    if (waited != 0) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      timed_out = true;
      ::kill(pid, SIGKILL);
      continue;
    }
    ::usleep(10'000);
  }
  if (timed_out) {
    return MakeError(ErrorCode::kDeadlineExceeded,
                     "master key command " + program + " did not finish within " +
                         std::to_string(command.timeout.count()) + " ms and was killed" +
                         DescribeStderr(stderr_text));
  }
  if (too_much) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "master key command " + program + " wrote more than " +
                         std::to_string(command.max_output_bytes) + " bytes and was killed");
  }
  if (WIFSIGNALED(status)) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "master key command " + program + " was ended by signal " +
                         std::to_string(WTERMSIG(status)) + DescribeStderr(stderr_text));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "master key command " + program + " exited with status " +
                         std::to_string(WEXITSTATUS(status)) + DescribeStderr(stderr_text));
  }
  return output;
}

}  // namespace credgate::crypto
