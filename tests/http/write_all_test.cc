// TimedSocket::TryWriteSome and WriteAll. A small message goes out in the direct write, and the
// asynchronous write finishes a message larger than the send buffer, in order. A closed,
// timed-out or expired socket leaves the error to the asynchronous write. A connection reset by
// the peer is reported by the direct write that found it.
#include "http/write_all.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace credgate::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// A connected pair on loopback: `client` is the TimedSocket under test, `peer` the other end,
// read with blocking calls.
class WriteAllTest : public ::testing::Test {
 protected:
  void SetUp() override { client_.emplace(testing::ConnectedPair(io_, peer_)); }

  // Reads exactly `size` bytes on the peer.
  std::string ReadOnPeer(std::size_t size) {
    std::string data(size, '\0');
    asio::read(peer_, asio::buffer(data));
    return data;
  }

  // Runs WriteAll(client, buffers) to completion on the io_context.
  template <typename Buffers>
  std::tuple<boost::system::error_code, std::size_t> RunWriteAll(const Buffers& buffers) {
    std::optional<std::tuple<boost::system::error_code, std::size_t>> result;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { result = co_await WriteAll(*client_, buffers); },
        asio::detached);
    io_.restart();
    while (!result && io_.run_one() != 0) {
    }
    return result.value_or(std::tuple(asio::error::would_block, std::size_t{0}));
  }

  // Checks that the direct write leaves a message to the asynchronous write, which then fails
  // with beast::error::timeout without writing.
  void ExpectDeferredWriteTimesOut() {
    const std::string message = "hello";
    boost::system::error_code direct_ec;
    EXPECT_EQ(client_->TryWriteSome(asio::buffer(message), direct_ec), 0u);
    EXPECT_FALSE(direct_ec);
    auto [ec, written] = RunWriteAll(asio::buffer(message));
    EXPECT_EQ(ec, boost::beast::error::timeout);
    EXPECT_EQ(written, 0u);
  }

  asio::io_context io_;
  std::optional<TimedSocket> client_;
  tcp::socket peer_{io_};
};

TEST_F(WriteAllTest, SmallMessageGoesOutDirectly) {
  const std::string head = "GET / HTTP/1.1\r\n";
  const std::string rest = "Host: a\r\n\r\n";
  const std::array<asio::const_buffer, 2> pieces = {asio::buffer(head), asio::buffer(rest)};

  boost::system::error_code ec;
  EXPECT_EQ(client_->TryWriteSome(pieces, ec), head.size() + rest.size());
  EXPECT_FALSE(ec);
  EXPECT_EQ(ReadOnPeer(head.size() + rest.size()), head + rest);
}

TEST_F(WriteAllTest, FullSendBufferTakesPartOfMessage) {
  const int small = 4096;
  client_->socket().set_option(asio::socket_base::send_buffer_size(small));
  const std::string message(4 << 20, 'x');

  boost::system::error_code ec;
  const std::size_t written = client_->TryWriteSome(asio::buffer(message), ec);
  EXPECT_FALSE(ec);
  EXPECT_GT(written, 0u);
  EXPECT_LT(written, message.size());
}

TEST_F(WriteAllTest, LargeMessageArrivesWholeAndInOrder) {
  client_->socket().set_option(asio::socket_base::send_buffer_size(4096));
  std::string message(4 << 20, '\0');
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<char>('a' + i % 26);

  std::string received;
  std::thread reader([&] { received = ReadOnPeer(message.size()); });
  auto [ec, written] = RunWriteAll(asio::buffer(message));
  reader.join();

  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(written, message.size());
  EXPECT_TRUE(received == message);
}

TEST_F(WriteAllTest, ManyBuffersArriveInOrder) {
  std::vector<std::string> parts;
  std::vector<asio::const_buffer> buffers;
  std::string expected;
  for (int i = 0; i < 20; ++i) parts.push_back("part-" + std::to_string(i) + ";");
  for (const std::string& part : parts) {
    buffers.push_back(asio::buffer(part));
    expected += part;
  }

  auto [ec, written] = RunWriteAll(buffers);

  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(written, expected.size());
  EXPECT_EQ(ReadOnPeer(expected.size()), expected);
}

TEST_F(WriteAllTest, ClosedSocketReportsAsyncWriteError) {
  client_->close();
  const std::string message = "hello";

  boost::system::error_code direct_ec;
  EXPECT_EQ(client_->TryWriteSome(asio::buffer(message), direct_ec), 0u);
  EXPECT_FALSE(direct_ec);
  auto [ec, written] = RunWriteAll(asio::buffer(message));
  EXPECT_TRUE(ec);
  EXPECT_EQ(written, 0u);
}

TEST_F(WriteAllTest, TimedOutSocketReportsTimeout) {
  client_->expires_after(10ms);
  char byte;
  std::optional<boost::system::error_code> read_result;
  client_->async_read_some(asio::buffer(&byte, 1),
                           [&](boost::system::error_code ec, std::size_t) { read_result = ec; });
  while (!read_result && io_.run_one() != 0) {
  }
  ASSERT_EQ(read_result, boost::beast::error::timeout);

  ExpectDeferredWriteTimesOut();
}

TEST_F(WriteAllTest, ExpiredDeadlineFailsWithTimeout) {
  client_->expires_at(std::chrono::steady_clock::now() - 1s);

  ExpectDeferredWriteTimesOut();
}

TEST_F(WriteAllTest, PeerResetIsReportedAsReset) {
  // Closing with a zero linger time sends a reset instead of a FIN.
  peer_.set_option(asio::socket_base::linger(true, 0));
  peer_.close();
  std::this_thread::sleep_for(50ms);  // Lets the reset arrive on loopback.
  const std::string message = "hello";

  auto [ec, written] = RunWriteAll(asio::buffer(message));
  EXPECT_EQ(ec, asio::error::connection_reset);
  EXPECT_EQ(written, 0u);
}

TEST_F(WriteAllTest, EmptyBuffersCompleteWithoutWriting) {
  auto [ec, written] = RunWriteAll(asio::const_buffer());
  EXPECT_FALSE(ec);
  EXPECT_EQ(written, 0u);
}

}  // namespace
}  // namespace credgate::http
