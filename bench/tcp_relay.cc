// tcp_relay: the do-nothing reference proxy of bench/gateway_bench.sh. It accepts TCP
// connections and copies bytes both ways between each one and its own connection to the
// upstream, without parsing HTTP, so it shows what any proxy that relays bytes costs on this
// machine. A client connection and its upstream connection live and die together, so keep-alive
// on the client side is keep-alive on the upstream side.
//
//   tcp_relay --listen 127.0.0.1:PORT --upstream 127.0.0.1:PORT [--threads N]
//
// Each of the N threads (default: one per CPU) has its own SO_REUSEPORT listener and its own
// edge-triggered epoll set, so threads share nothing. Prints "tcp_relay ready" on stdout once
// every listener is bound, and runs until SIGINT or SIGTERM.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr size_t kBufferBytes = 16 * 1024;

std::atomic<bool> g_stop{false};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "tcp_relay: %s\n", message.c_str());
  std::exit(1);
}

sockaddr_in ParseAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    Die("invalid address \"" + std::string(text) + "\": expected IPV4:PORT");
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  const std::string host(text.substr(0, colon));
  const int port = std::atoi(std::string(text.substr(colon + 1)).c_str());
  if (inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1 || port <= 0 || port > 65535) {
    Die("invalid address \"" + std::string(text) + "\": expected IPV4:PORT");
  }
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// One direction of a relayed connection: bytes read from `from` and not yet written to `to`.
struct Direction {
  int from = -1;
  int to = -1;
  std::array<char, kBufferBytes> buffer;
  size_t begin = 0;
  size_t end = 0;
  bool eof = false;  // `from` reached end of stream and `to` was shut down for writing.
};

// A client connection and its upstream connection. Each epoll registration points at one Side.
struct Pair;
struct Side {
  Pair* pair;
};
struct Pair {
  bool closed = false;
  Direction to_upstream;
  Direction to_client;
  Side client_side{this};
  Side upstream_side{this};
};

// Writes the buffered bytes of `d` to d.to. Returns false when send fails, with errno set
// (EAGAIN when the socket would block).
bool Drain(Direction& d) {
  while (d.begin < d.end) {
    const ssize_t written = send(d.to, d.buffer.data() + d.begin, d.end - d.begin, MSG_NOSIGNAL);
    if (written < 0) return false;
    d.begin += static_cast<size_t>(written);
  }
  d.begin = d.end = 0;
  return true;
}

// Moves bytes from d.from to d.to until one of them would block. Returns false on an error that
// ends the pair.
bool Pump(Direction& d) {
  while (true) {
    if (!Drain(d)) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (d.eof) return true;
    const ssize_t got = recv(d.from, d.buffer.data(), d.buffer.size(), 0);
    if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (got == 0) {
      d.eof = true;
      shutdown(d.to, SHUT_WR);
      return true;
    }
    d.end = static_cast<size_t>(got);
    // A short read emptied the receive queue, and later data raises a new edge, so the next
    // recv would only return EAGAIN. Write what arrived and wait.
    if (d.end < d.buffer.size()) {
      if (!Drain(d)) return errno == EAGAIN || errno == EWOULDBLOCK;
      return true;
    }
  }
}

void Close(Pair* pair) {
  close(pair->to_upstream.from);
  close(pair->to_upstream.to);
  delete pair;
}

void SetNoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Accepts every pending connection on `listener` and starts its upstream connection.
void AcceptAll(int listener, int epoll_fd, const sockaddr_in& upstream) {
  while (true) {
    const int client = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0) return;
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (server < 0) {
      close(client);
      continue;
    }
    SetNoDelay(client);
    SetNoDelay(server);
    if (connect(server, reinterpret_cast<const sockaddr*>(&upstream), sizeof upstream) != 0 &&
        errno != EINPROGRESS) {
      std::fprintf(stderr, "tcp_relay: connect to the upstream failed: %s\n", std::strerror(errno));
      close(client);
      close(server);
      continue;
    }
    auto* pair = new Pair;
    pair->to_upstream.from = client;
    pair->to_upstream.to = server;
    pair->to_client.from = server;
    pair->to_client.to = client;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    event.data.ptr = &pair->client_side;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, client, &event);
    event.data.ptr = &pair->upstream_side;
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, server, &event);
  }
}

// Creates a bound, listening, non-blocking SO_REUSEPORT socket, so that each thread has its own.
int Listen(const sockaddr_in& address) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  const auto* bound = reinterpret_cast<const sockaddr*>(&address);
  if (bind(listener, bound, sizeof address) != 0 || listen(listener, 1024) != 0) {
    Die(std::string("listening failed: ") + std::strerror(errno));
  }
  return listener;
}

void RunThread(int listener, const sockaddr_in& upstream) {
  const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  epoll_event listen_event{};
  listen_event.events = EPOLLIN;
  listen_event.data.ptr = nullptr;
  epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &listen_event);

  std::array<epoll_event, 256> events;
  std::vector<Pair*> finished;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const int count = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 200);
    for (int i = 0; i < count; ++i) {
      if (events[i].data.ptr == nullptr) {
        AcceptAll(listener, epoll_fd, upstream);
        continue;
      }
      Pair* pair = static_cast<Side*>(events[i].data.ptr)->pair;
      // Both sides of a pair may report in one batch, so a pair ended by the first is freed
      // only after the batch.
      if (pair->closed) continue;
      const bool failed = (events[i].events & EPOLLERR) != 0;
      if (failed || !Pump(pair->to_upstream) || !Pump(pair->to_client) ||
          (pair->to_upstream.eof && pair->to_client.eof)) {
        pair->closed = true;
        finished.push_back(pair);
      }
    }
    for (Pair* pair : finished) Close(pair);
    finished.clear();
  }
  close(epoll_fd);
  close(listener);
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen_text;
  std::string upstream_text;
  unsigned threads = std::thread::hardware_concurrency();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view name = argv[i];
    if (name == "--listen") {
      listen_text = argv[i + 1];
    } else if (name == "--upstream") {
      upstream_text = argv[i + 1];
    } else if (name == "--threads") {
      const int value = std::atoi(argv[i + 1]);
      threads = value > 0 ? static_cast<unsigned>(value) : std::thread::hardware_concurrency();
    } else {
      Die("unknown option " + std::string(name));
    }
  }
  if (listen_text.empty() || upstream_text.empty()) {
    Die("usage: tcp_relay --listen IPV4:PORT --upstream IPV4:PORT [--threads N]");
  }
  const sockaddr_in listen_address = ParseAddress(listen_text);
  const sockaddr_in upstream = ParseAddress(upstream_text);

  struct sigaction action{};
  action.sa_handler = [](int) { g_stop.store(true); };
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::vector<int> listeners;
  for (unsigned i = 0; i < threads; ++i) listeners.push_back(Listen(listen_address));
  std::vector<std::thread> workers;
  for (int listener : listeners) workers.emplace_back(RunThread, listener, upstream);
  std::printf("tcp_relay ready listen=%s upstream=%s threads=%u\n", listen_text.c_str(),
              upstream_text.c_str(), threads);
  std::fflush(stdout);
  for (auto& worker : workers) worker.join();
  return 0;
}
