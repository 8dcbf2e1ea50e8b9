// PostgresChangeFeed: the ChangeFeed of a PostgresStore database, through LISTEN on the channel
// that the store sends its notifications on (postgres_store.h).
//
// The feed keeps one dedicated connection, outside the store's pool, and one thread that waits
// with poll() on the connection's socket, reads notifications with PQconsumeInput and
// PQnotifies, and calls the callback for each. The poll timeout (stop_check_interval) bounds how
// long Stop() waits for the thread. When the connection drops, the thread logs it, reconnects
// with exponential backoff between min_backoff and max_backoff, LISTENs again and then delivers
// kResync, because notifications sent while it was away are lost. A payload that
// ParseStoreChange rejects (a newer credgate's format) is delivered as kResync too.
//
// NOTE: a peer that vanishes without closing the TCP connection is noticed only through TCP
// keepalives, which libpq enables with the system's timers unless the URL sets keepalives_idle.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/change_feed.h"
#include "store/postgres_connection.h"
#include "store/postgres_store.h"

namespace credgate::store {

struct PostgresChangeFeedOptions {
  std::string url;  // A libpq connection URI, as PostgresStoreOptions::url.
  std::string application_name = "credgate-change-feed";
  std::string channel = std::string(kChangeChannel);  // PostgresStoreOptions::change_channel.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds stop_check_interval{100};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

class PostgresChangeFeed final : public ChangeFeed {
 public:
  explicit PostgresChangeFeed(PostgresChangeFeedOptions options);
  // Stops the feed.
  ~PostgresChangeFeed() override;

  // ChangeFeed. Start fails with kUnavailable when the first connection or its LISTEN fails,
  // and with kFailedPrecondition when the feed was started already.
  Status Start(Callback callback) override;
  void Stop() override;

 private:
  Result<std::unique_ptr<PostgresConnection>> ConnectAndListen();
  void Run(std::unique_ptr<PostgresConnection> connection);
  // Delivers notifications until the connection breaks or Stop() is called.
  void ReadUntilBroken(PostgresConnection& connection);
  void Deliver(PGnotify* notification);
  // Waits `duration`, or less when Stop() is called. Returns false when stopping.
  bool SleepUnlessStopped(std::chrono::milliseconds duration);

  const PostgresChangeFeedOptions options_;
  Callback callback_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable stop_requested_;
  std::thread thread_;
};

}  // namespace credgate::store
