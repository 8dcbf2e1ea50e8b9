// open_loop: an open-loop HTTP/1.1 load generator for bench/gateway_bench.sh. Request i has the
// intended send time start + i / rate, whatever happened to earlier requests, and its latency is
// measured from that intended time to the end of its response. A request that waits for a free
// connection therefore counts its wait, so a stalled server shows in the percentiles instead of
// slowing the sender down (the correction for coordinated omission that wrk2 makes).
//
//   open_loop --url http://127.0.0.1:PORT/PATH --rate REQUESTS_PER_S --duration SECONDS
//             [--connections N] [--threads T] [--header 'Name: value']... [--token-file FILE]
//             [--drain-timeout SECONDS]
//
// It keeps N keep-alive connections (default 64) and sends each due request on any idle one, one
// request per connection at a time. With T threads (default 1), thread k owns every T-th request
// of the schedule, starting with request k, and N / T of the connections, so the threads share
// nothing until their latencies are merged at the end. --token-file sends "Authorization: Bearer <line>" with the
// file's lines in turn. Sending stops at the end of --duration, and responses still missing
// --drain-timeout seconds (default 2) later count as timeouts, so a run always ends. Prints one
// line:
//   OPENLOOP rate=F achieved_rate=F intended=N completed=N errors=N timeouts=N p50_us=F
//            p99_us=F p999_us=F max_us=F
// `errors` counts responses outside 200-399 and connections that failed or closed mid-response.
// achieved_rate is completed responses per second of the time from the first intended send to
// the last response. Exit status 1 on invalid options or when no connection can be opened.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "response_parser.h"

namespace {

using Nanos = int64_t;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "open_loop: %s\n", message.c_str());
  std::exit(1);
}

Nanos Now() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<Nanos>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

struct Options {
  sockaddr_in address{};
  std::string host_header;
  std::string path;
  double rate = 0;
  double duration_s = 0;
  int connections = 64;
  int threads = 1;
  double drain_timeout_s = 2;
  std::vector<std::string> headers;
  std::vector<std::string> tokens;
};

void ParseUrl(std::string_view url, Options& options) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) Die("invalid --url: expected http://IPV4:PORT/PATH");
  url.remove_prefix(kScheme.size());
  const size_t slash = url.find('/');
  const std::string_view authority = url.substr(0, slash);
  options.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  const size_t colon = authority.rfind(':');
  if (colon == std::string_view::npos) Die("invalid --url: expected http://IPV4:PORT/PATH");
  const std::string host(authority.substr(0, colon));
  const int port = std::atoi(std::string(authority.substr(colon + 1)).c_str());
  options.address.sin_family = AF_INET;
  if (inet_pton(AF_INET, host.c_str(), &options.address.sin_addr) != 1 || port <= 0 ||
      port > 65535) {
    Die("invalid --url: expected an IPv4 address and a port, such as http://127.0.0.1:8080/");
  }
  options.address.sin_port = htons(static_cast<uint16_t>(port));
  options.host_header = std::string(authority);
}

Options ParseOptions(int argc, char** argv) {
  Options options;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (i + 1 >= argc) Die("option " + std::string(name) + " needs a value");
    const std::string value = argv[++i];
    if (name == "--url") {
      ParseUrl(value, options);
      have_url = true;
    } else if (name == "--rate") {
      options.rate = std::atof(value.c_str());
    } else if (name == "--duration") {
      options.duration_s = std::atof(value.c_str());
    } else if (name == "--connections") {
      options.connections = std::atoi(value.c_str());
    } else if (name == "--threads") {
      options.threads = std::atoi(value.c_str());
    } else if (name == "--drain-timeout") {
      options.drain_timeout_s = std::atof(value.c_str());
    } else if (name == "--header") {
      options.headers.push_back(value);
    } else if (name == "--token-file") {
      std::ifstream file(value);
      if (!file) Die("cannot read --token-file " + value);
      for (std::string line; std::getline(file, line);) {
        if (!line.empty()) options.tokens.push_back(line);
      }
      if (options.tokens.empty()) Die("--token-file " + value + " has no tokens");
    } else {
      Die("unknown option " + std::string(name));
    }
  }
  if (!have_url) Die("--url is required");
  if (!(options.rate > 0)) Die("--rate must be a positive number of requests per second");
  if (!(options.duration_s > 0)) Die("--duration must be a positive number of seconds");
  if (options.connections < 1) Die("--connections must be at least 1");
  if (options.threads < 1 || options.threads > options.connections) {
    Die("--threads must be between 1 and --connections");
  }
  if (!(options.drain_timeout_s >= 0)) Die("--drain-timeout must be a number of seconds >= 0");
  return options;
}

struct Connection {
  int fd = -1;
  bool busy = false;
  Nanos intended = 0;  // Intended send time of the request in flight.
  std::string pending;  // Bytes of the request not yet written.
  ResponseParser parser;
};

// What one generator thread measured.
struct Outcome {
  std::vector<Nanos> latencies;
  uint64_t intended = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  Nanos last_completion = 0;
};

// One thread's share of the schedule: requests `index`, `index` + `count`, `index` + 2 * `count`,
// ... of the whole run, on its own connections and its own epoll set.
class Generator {
 public:
  Generator(const Options& options, int index, int count)
      : options_(options), index_(index), count_(count) {
    const int base = options.connections / count;
    connections_.resize(static_cast<size_t>(base + (index < options.connections % count ? 1 : 0)));
    token_index_ = options.tokens.empty() ? 0 : static_cast<size_t>(index) % options.tokens.size();
  }

  // Opens this thread's connections. Exits the program when one cannot be opened.
  void Connect() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < connections_.size(); ++i) {
      if (!Open(i)) Die(std::string("cannot connect to the target: ") + std::strerror(errno));
    }
  }

  // Sends this thread's requests of the schedule that begins at `start`.
  Outcome Run(Nanos start) {
    const auto all = static_cast<uint64_t>(std::llround(options_.rate * options_.duration_s));
    const auto share = static_cast<uint64_t>(count_);
    const uint64_t total = all / share + (static_cast<uint64_t>(index_) < all % share ? 1 : 0);
    const double overall_interval_ns = 1e9 / options_.rate;
    const double interval_ns = overall_interval_ns * static_cast<double>(count_);
    start_ = start + static_cast<Nanos>(overall_interval_ns * index_);
    latencies_.reserve(total);
    const Nanos send_end = start + static_cast<Nanos>(options_.duration_s * 1e9);
    const Nanos deadline = send_end + static_cast<Nanos>(options_.drain_timeout_s * 1e9);
    uint64_t next = 0;
    uint64_t in_flight = 0;
    std::array<epoll_event, 256> events;
    while (true) {
      const Nanos now = Now();
      // Sends every due request that has an idle connection, oldest first.
      while (next < total) {
        const Nanos intended = start_ + static_cast<Nanos>(static_cast<double>(next) * interval_ns);
        if (intended > now) break;
        Connection* idle = FindIdle();
        if (idle == nullptr) break;
        Send(*idle, intended);
        ++next;
        ++in_flight;
      }
      if ((next >= total && in_flight == 0) || now >= deadline) break;

      Nanos wait_ns = deadline - now;
      if (next < total && FindIdle() != nullptr) {
        const Nanos intended = start_ + static_cast<Nanos>(static_cast<double>(next) * interval_ns);
        wait_ns = std::min(wait_ns, std::max<Nanos>(intended - now, 0));
      }
      timespec timeout{wait_ns / 1'000'000'000, wait_ns % 1'000'000'000};
      const int capacity = static_cast<int>(events.size());
      const int count = epoll_pwait2(epoll_fd_, events.data(), capacity, &timeout, nullptr);
      for (int i = 0; i < count; ++i) {
        const size_t index = events[i].data.u64;
        if (Service(index, events[i].events)) --in_flight;
      }
    }
    Outcome outcome;
    outcome.latencies = std::move(latencies_);
    outcome.intended = total;
    outcome.errors = errors_;
    outcome.timeouts = in_flight + (total - next);
    outcome.last_completion = last_completion_;
    return outcome;
  }

 private:
  bool Open(size_t index) {
    Connection& connection = connections_[index];
    connection.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connection.fd < 0) return false;
    const int one = 1;
    setsockopt(connection.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(connection.fd, reinterpret_cast<const sockaddr*>(&options_.address),
                sizeof options_.address) != 0) {
      close(connection.fd);
      connection.fd = -1;
      return false;
    }
    fcntl(connection.fd, F_SETFL, fcntl(connection.fd, F_GETFL) | O_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.u64 = index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, connection.fd, &event);
    connection.busy = false;
    connection.parser.Reset();
    connection.pending.clear();
    return true;
  }

  Connection* FindIdle() {
    // Round-robin from the last used connection spreads requests over all connections.
    for (size_t step = 0; step < connections_.size(); ++step) {
      cursor_ = (cursor_ + 1) % connections_.size();
      Connection& connection = connections_[cursor_];
      if (!connection.busy && connection.fd >= 0) return &connection;
    }
    return nullptr;
  }

  std::string BuildRequest() {
    std::string request = "GET " + options_.path + " HTTP/1.1\r\nHost: " + options_.host_header +
                          "\r\n";
    for (const std::string& header : options_.headers) request += header + "\r\n";
    if (!options_.tokens.empty()) {
      request += "Authorization: Bearer " + options_.tokens[token_index_] + "\r\n";
      token_index_ = (token_index_ + 1) % options_.tokens.size();
    }
    request += "\r\n";
    return request;
  }

  void Send(Connection& connection, Nanos intended) {
    connection.busy = true;
    connection.intended = intended;
    connection.parser.Reset();
    connection.pending = BuildRequest();
    Flush(connection);
  }

  void Flush(Connection& connection) {
    while (!connection.pending.empty()) {
      const ssize_t written =
          send(connection.fd, connection.pending.data(), connection.pending.size(), MSG_NOSIGNAL);
      if (written < 0) return;  // EAGAIN waits for EPOLLOUT. Errors show on the next read.
      connection.pending.erase(0, static_cast<size_t>(written));
    }
  }

  // Handles readiness of connection `index`. Returns true when its request finished, with a
  // response or with an error.
  bool Service(size_t index, uint32_t events) {
    Connection& connection = connections_[index];
    const bool readable = (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
    if (!connection.busy) {
      if (!readable) return false;
      // An idle connection that the server closed is replaced.
      char probe;
      if (recv(connection.fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0) Reopen(index);
      return false;
    }
    Flush(connection);
    if (!readable) return false;
    std::array<char, 16 * 1024> buffer;
    while (true) {
      const ssize_t got = recv(connection.fd, buffer.data(), buffer.size(), 0);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
      if (got <= 0) {
        ++errors_;
        Reopen(index);
        return true;
      }
      const auto state = connection.parser.Feed(buffer.data(), static_cast<size_t>(got));
      if (state == ResponseParser::State::kIncomplete) continue;
      if (state == ResponseParser::State::kInvalid) {
        ++errors_;
        Reopen(index);
        return true;
      }
      const Nanos done = Now();
      latencies_.push_back(done - connection.intended);
      last_completion_ = done;
      const int status = connection.parser.status();
      if (status < 200 || status > 399) ++errors_;
      connection.busy = false;
      return true;
    }
  }

  void Reopen(size_t index) {
    Connection& connection = connections_[index];
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, connection.fd, nullptr);
    close(connection.fd);
    connection.fd = -1;
    connection.busy = false;
    Open(index);  // A failed reconnect leaves the slot unused.
  }

  const Options& options_;
  int index_;
  int count_;
  int epoll_fd_ = -1;
  std::vector<Connection> connections_;
  size_t cursor_ = 0;
  size_t token_index_ = 0;
  std::vector<Nanos> latencies_;
  Nanos start_ = 0;
  Nanos last_completion_ = 0;
  uint64_t errors_ = 0;
};

// Returns the latency at `fraction` (0.5 for p50) of the sorted `latencies`, in microseconds.
double Percentile(const std::vector<Nanos>& latencies, double fraction) {
  if (latencies.empty()) return 0;
  const auto rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(latencies.size())));
  return static_cast<double>(latencies[std::clamp<size_t>(rank, 1, latencies.size()) - 1]) / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  std::vector<Generator> generators;
  generators.reserve(static_cast<size_t>(options.threads));
  for (int i = 0; i < options.threads; ++i) generators.emplace_back(options, i, options.threads);
  for (Generator& generator : generators) generator.Connect();

  // Every thread's schedule starts at the same instant, shortly after all have connected.
  const Nanos start = Now() + 1'000'000;
  std::vector<Outcome> outcomes(generators.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < generators.size(); ++i) {
    threads.emplace_back([&, i] { outcomes[i] = generators[i].Run(start); });
  }
  for (std::thread& thread : threads) thread.join();

  Outcome total;
  for (Outcome& outcome : outcomes) {
    total.latencies.insert(total.latencies.end(), outcome.latencies.begin(), outcome.latencies.end());
    total.intended += outcome.intended;
    total.errors += outcome.errors;
    total.timeouts += outcome.timeouts;
    total.last_completion = std::max(total.last_completion, outcome.last_completion);
  }
  std::sort(total.latencies.begin(), total.latencies.end());
  const Nanos elapsed = std::max<Nanos>(total.last_completion - start, 1);
  const double achieved = static_cast<double>(total.latencies.size()) / (static_cast<double>(elapsed) / 1e9);
  std::printf(
      "OPENLOOP rate=%.1f achieved_rate=%.1f intended=%llu completed=%zu errors=%llu "
      "timeouts=%llu p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f\n",
      options.rate, achieved, static_cast<unsigned long long>(total.intended),
      total.latencies.size(), static_cast<unsigned long long>(total.errors),
      static_cast<unsigned long long>(total.timeouts), Percentile(total.latencies, 0.50),
      Percentile(total.latencies, 0.99), Percentile(total.latencies, 0.999),
      Percentile(total.latencies, 1.0));
  return 0;
}
