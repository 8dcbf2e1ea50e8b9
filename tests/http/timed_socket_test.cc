// TimedSocket: reads time out at the deadline with beast::error::timeout, a deadline moved later
// or removed while a read is pending lets the read finish, and a completion runs on the
// executor bound to its handler.
#include "http/timed_socket.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <optional>

#include "test_support.h"

namespace credgate::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// A connected pair on loopback: `client` is the TimedSocket under test, `peer` the other end.
class TimedSocketTest : public ::testing::Test {
 protected:
  void SetUp() override { client_.emplace(testing::ConnectedPair(io_, peer_)); }

  // Starts one read on the client and runs the io_context until it completes.
  boost::system::error_code ReadOnce(std::size_t* bytes = nullptr) {
    std::optional<boost::system::error_code> result;
    client_->async_read_some(asio::buffer(data_), [&](boost::system::error_code ec, std::size_t n) {
      result = ec;
      if (bytes != nullptr) *bytes = n;
    });
    io_.restart();
    while (!result && io_.run_one() != 0) {
    }
    return result.value_or(asio::error::would_block);
  }

  // Writes one byte from the peer after `delay`.
  void WriteFromPeerAfter(std::chrono::milliseconds delay) {
    peer_timer_.expires_after(delay);
    peer_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec) asio::write(peer_, asio::buffer("x", 1));
    });
  }

  asio::io_context io_;
  std::optional<TimedSocket> client_;
  tcp::socket peer_{io_};
  asio::steady_timer peer_timer_{io_};
  char data_[16];
};

TEST_F(TimedSocketTest, ReadTimesOutAtDeadline) {
  const auto start = std::chrono::steady_clock::now();
  client_->expires_after(50ms);
  EXPECT_EQ(ReadOnce(), boost::beast::error::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_FALSE(client_->socket().is_open());
}

TEST_F(TimedSocketTest, OperationsAfterTimeoutFailWithTimeout) {
  client_->expires_after(10ms);
  ASSERT_EQ(ReadOnce(), boost::beast::error::timeout);
  client_->expires_after(10s);
  EXPECT_EQ(ReadOnce(), boost::beast::error::timeout);
}

TEST_F(TimedSocketTest, ReadStartedAfterDeadlineTimesOut) {
  client_->expires_at(std::chrono::steady_clock::now() - 1s);
  WriteFromPeerAfter(200ms);
  EXPECT_EQ(ReadOnce(), boost::beast::error::timeout);
}

TEST_F(TimedSocketTest, WriteStartedAfterDeadlineTimesOut) {
  client_->expires_at(std::chrono::steady_clock::now() - 1s);
  std::optional<boost::system::error_code> result;
  client_->async_write_some(asio::buffer("x", 1),
                            [&](boost::system::error_code ec, std::size_t) { result = ec; });
  io_.restart();
  while (!result && io_.run_one() != 0) {
  }
  EXPECT_EQ(result, boost::beast::error::timeout);
}

TEST_F(TimedSocketTest, ReadWithinDeadlineSucceeds) {
  client_->expires_after(10s);
  WriteFromPeerAfter(20ms);
  std::size_t bytes = 0;
  EXPECT_EQ(ReadOnce(&bytes), boost::system::error_code());
  EXPECT_EQ(bytes, 1u);
  EXPECT_TRUE(client_->socket().is_open());
}

TEST_F(TimedSocketTest, DeadlineMovedLaterWhilePendingApplies) {
  client_->expires_after(50ms);
  asio::steady_timer extend(io_, 10ms);
  extend.async_wait([this](boost::system::error_code) { client_->expires_after(10s); });
  WriteFromPeerAfter(200ms);
  EXPECT_EQ(ReadOnce(), boost::system::error_code());
}

TEST_F(TimedSocketTest, ExpiresNeverRemovesDeadline) {
  client_->expires_after(30ms);
  client_->expires_never();
  WriteFromPeerAfter(150ms);
  EXPECT_EQ(ReadOnce(), boost::system::error_code());
}

TEST_F(TimedSocketTest, EarlierDeadlineReplacesArmedWait) {
  // The first read arms the timer for 10 s. The second read's 50 ms deadline must re-arm it.
  client_->expires_after(10s);
  WriteFromPeerAfter(10ms);
  ASSERT_EQ(ReadOnce(), boost::system::error_code());
  client_->expires_after(50ms);
  EXPECT_EQ(ReadOnce(), boost::beast::error::timeout);
}

TEST_F(TimedSocketTest, ManyReadsWithinDeadlineAllSucceed) {
  for (int i = 0; i < 200; ++i) {
    client_->expires_after(10s);
    asio::write(peer_, asio::buffer("y", 1));
    ASSERT_EQ(ReadOnce(), boost::system::error_code()) << "read " << i;
  }
}

TEST_F(TimedSocketTest, CancelAbortsWithoutTimeout) {
  client_->expires_after(10s);
  asio::post(io_, [this] { client_->cancel(); });
  EXPECT_EQ(ReadOnce(), asio::error::operation_aborted);
  EXPECT_TRUE(client_->socket().is_open());
}

TEST_F(TimedSocketTest, CompletionRunsOnHandlerExecutor) {
  auto strand = asio::make_strand(io_);
  bool on_strand = false;
  bool done = false;
  client_->expires_after(10s);
  client_->async_read_some(asio::buffer(data_),
                           asio::bind_executor(strand, [&](boost::system::error_code, std::size_t) {
                             on_strand = strand.running_in_this_thread();
                             done = true;
                           }));
  asio::write(peer_, asio::buffer("z", 1));
  while (!done && io_.run_one() != 0) {
  }
  EXPECT_TRUE(on_strand);
}

TEST_F(TimedSocketTest, DestroyedWithArmedTimerReleasesState) {
  client_->expires_after(10s);
  WriteFromPeerAfter(5ms);
  ASSERT_EQ(ReadOnce(), boost::system::error_code());
  client_.reset();  // The timer's wait is still pending for 10 s.
  io_.restart();
  const auto start = std::chrono::steady_clock::now();
  io_.run();  // Returns once the cancelled wait has run, long before 10 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(TimedSocketTest, MoveAssignmentClosesReplacedSocket) {
  client_->expires_after(10s);
  WriteFromPeerAfter(5ms);
  ASSERT_EQ(ReadOnce(), boost::system::error_code());
  *client_ = TimedSocket(io_.get_executor());  // The old socket has an armed wait for 10 s.
  // Waits at most 2 s, so a socket left open fails the test instead of hanging it.
  pollfd readable{peer_.native_handle(), POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, 2000), 1) << "the replaced socket is still open";
  char byte;
  EXPECT_EQ(::recv(peer_.native_handle(), &byte, 1, 0), 0);  // End of stream.
}

}  // namespace
}  // namespace credgate::http
