#include "store/postgres_change_feed.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>

namespace credgate::store {

PostgresChangeFeed::PostgresChangeFeed(PostgresChangeFeedOptions options)
    : options_(std::move(options)) {}

PostgresChangeFeed::~PostgresChangeFeed() { Stop(); }

Status PostgresChangeFeed::Start(Callback callback) {
  if (thread_.joinable()) {
    return MakeError(ErrorCode::kFailedPrecondition, "the change feed was started already");
  }
  auto connection = ConnectAndListen();
  if (!connection.ok()) return connection.error();
  callback_ = std::move(callback);
  stopping_ = false;
  thread_ = std::thread(&PostgresChangeFeed::Run, this, std::move(*connection));
  return OkStatus();
}

void PostgresChangeFeed::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_requested_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<PostgresConnection>> PostgresChangeFeed::ConnectAndListen() {
  auto connection = PostgresConnection::Connect({.url = options_.url,
                                                 .application_name = options_.application_name,
                                                 .connect_timeout = options_.connect_timeout});
  if (!connection.ok()) return connection.error();
  const std::string listen = "LISTEN " + (*connection)->QuoteIdentifier(options_.channel);
  Status listening = (*connection)->ExecuteScript(listen, "change feed LISTEN");
  if (!listening.ok()) {
    Error error = listening.error();
    if (error.code != ErrorCode::kInvalidArgument) error.code = ErrorCode::kUnavailable;
    return error;
  }
  return std::move(*connection);
}

void PostgresChangeFeed::Run(std::unique_ptr<PostgresConnection> connection) {
  std::string server = connection->server();
  spdlog::info("store: change feed listening on {} at {}", options_.channel, server);
  std::chrono::milliseconds backoff = options_.min_backoff;
  while (!stopping_) {
    if (connection == nullptr) {
      auto reconnected = ConnectAndListen();
      if (!reconnected.ok()) {
        spdlog::warn("store: change feed reconnect failed, next try in {} ms: {}", backoff.count(),
                     reconnected.error().message);
        if (!SleepUnlessStopped(backoff)) break;
        backoff = std::min(backoff * 2, options_.max_backoff);
        continue;
      }
      connection = std::move(*reconnected);
      backoff = options_.min_backoff;
      spdlog::info("store: change feed reconnected to {}; delivering a resync", server);
      callback_(StoreChange{});
    }

    ReadUntilBroken(*connection);
    if (stopping_) break;
    spdlog::warn("store: change feed lost its connection to {}: {}; reconnecting", server,
                 connection->LastError());
    connection.reset();
  }
}

void PostgresChangeFeed::ReadUntilBroken(PostgresConnection& connection) {
  PGconn* handle = connection.handle();
  const int timeout_ms = static_cast<int>(options_.stop_check_interval.count());
  while (!stopping_) {
    pollfd socket{PQsocket(handle), POLLIN, 0};
    if (socket.fd < 0) return;
    int ready = ::poll(&socket, 1, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return;
    if (ready == 0) continue;

    const bool consumed = PQconsumeInput(handle) == 1;
    while (PGnotify* notification = PQnotifies(handle)) {
      Deliver(notification);
      PQfreemem(notification);
    }
    if (!consumed || PQstatus(handle) == CONNECTION_BAD) return;
  }
}

void PostgresChangeFeed::Deliver(PGnotify* notification) {
  auto change = ParseStoreChange(notification->extra != nullptr ? notification->extra : "");
  if (!change.ok()) {
    spdlog::warn("store: change feed delivers a resync for an unreadable notification: {}",
                 change.error().message);
    callback_(StoreChange{});
    return;
  }
  callback_(std::move(*change));
}

bool PostgresChangeFeed::SleepUnlessStopped(std::chrono::milliseconds duration) {
  std::unique_lock lock(mutex_);
  return !stop_requested_.wait_for(lock, duration, [this] { return stopping_.load(); });
}

}  // namespace credgate::store
