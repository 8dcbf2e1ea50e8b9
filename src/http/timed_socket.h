// TimedSocket: a TCP socket whose reads, writes and connects fail with beast::error::timeout
// once the deadline set by expires_after() or expires_at() has passed, as with
// beast::tcp_stream, at a fraction of the cost per operation.
//
// beast::tcp_stream starts a wait on an Asio timer for every operation and cancels it when the
// operation completes, so each read or write also takes the reactor's timer lock twice and runs
// a second handler for the cancelled wait. TimedSocket arms its one timer lazily instead. An
// operation arms it only when no wait is pending or the new deadline comes before the pending
// wait. When the timer fires, it re-arms for the current deadline if that moved later, and it
// closes the socket only when an operation is still pending and the deadline has passed. A
// connection that keeps moving its deadline forward by the same timeout therefore costs one
// timer event per timeout period instead of two timer operations per read or write.
//
// As with beast::tcp_stream, a timeout closes the socket, so the pending operations, and every
// later one, complete with beast::error::timeout. An operation that starts after its deadline
// fails the same way. A deadline changed while an operation is pending applies to that
// operation. expires_never() removes the deadline. Not thread-safe: the timer's handler runs on
// the socket's executor, so that executor must be the strand, or the io_context that one thread
// runs, on which the operations complete.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>

namespace credgate::http {

class TimedSocket {
 public:
  using executor_type = boost::asio::any_io_executor;
  using socket_type = boost::asio::ip::tcp::socket;
  // Asio's ssl::stream reaches the socket through lowest_layer().
  using lowest_layer_type = socket_type;
  using clock_type = std::chrono::steady_clock;

  explicit TimedSocket(const executor_type& executor);
  explicit TimedSocket(socket_type socket);
  TimedSocket(TimedSocket&&) noexcept = default;
  // Closes this socket first, as the destructor does.
  TimedSocket& operator=(TimedSocket&& other) noexcept;
  // Closes the socket and cancels the timer's wait. Handlers still pending complete later with
  // an error.
  ~TimedSocket();

  executor_type get_executor() noexcept { return state_->socket.get_executor(); }
  socket_type& socket() noexcept { return state_->socket; }
  lowest_layer_type& lowest_layer() noexcept { return state_->socket; }

  void expires_after(clock_type::duration timeout) { state_->deadline = clock_type::now() + timeout; }
  void expires_at(clock_type::time_point deadline) { state_->deadline = deadline; }
  void expires_never() { state_->deadline = clock_type::time_point::max(); }

  // Cancels the pending operations, which complete with operation_aborted.
  void cancel();
  // Closes the socket. The pending operations complete with operation_aborted.
  void close();

  template <typename MutableBufferSequence, typename ReadToken>
  auto async_read_some(const MutableBufferSequence& buffers, ReadToken&& token) {
    return Initiate<void(boost::system::error_code, std::size_t)>(
        std::forward<ReadToken>(token), [buffers](socket_type& socket, auto completion) {
          socket.async_read_some(buffers, std::move(completion));
        });
  }

  template <typename ConstBufferSequence, typename WriteToken>
  auto async_write_some(const ConstBufferSequence& buffers, WriteToken&& token) {
    return Initiate<void(boost::system::error_code, std::size_t)>(
        std::forward<WriteToken>(token), [buffers](socket_type& socket, auto completion) {
          socket.async_write_some(buffers, std::move(completion));
        });
  }

  // Writes what the kernel accepts of `buffers` at once, without waiting and without a handler,
  // and returns the number of bytes written. Returns 0 with `ec` clear when the kernel accepts
  // nothing now, the socket is closed, or the deadline has passed, so that the caller writes
  // asynchronously and that write reports the socket's state. Returns 0 with the error in `ec`
  // when the write fails: the kernel reports a connection's error only once, so a later write
  // would see another one. Only the first kMaxDirectBuffers non-empty buffers are offered. Call
  // it only while no write is pending.
  template <typename ConstBufferSequence>
  std::size_t TryWriteSome(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    std::array<boost::asio::const_buffer, kMaxDirectBuffers> pieces;
    std::size_t count = 0;
    const auto end = boost::asio::buffer_sequence_end(buffers);
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end && count < pieces.size();
         ++it) {
      const boost::asio::const_buffer piece(*it);
      if (piece.size() > 0) pieces[count++] = piece;
    }
    return TryWriteBuffers(std::span<const boost::asio::const_buffer>(pieces.data(), count), ec);
  }
  static constexpr std::size_t kMaxDirectBuffers = 8;

  // Connects to the first of `endpoints` that accepts, as boost::asio::async_connect does.
  // Completes with the error and the endpoint connected to.
  template <typename EndpointSequence, typename ConnectToken>
  auto async_connect(const EndpointSequence& endpoints, ConnectToken&& token) {
    return Initiate<void(boost::system::error_code, boost::asio::ip::tcp::endpoint)>(
        std::forward<ConnectToken>(token), [endpoints](socket_type& socket, auto completion) {
          boost::asio::async_connect(socket, endpoints, std::move(completion));
        });
  }

 private:
  // Lives on the heap, because the timer's handler and each operation's completion keep it
  // alive after a move or the destruction of the TimedSocket.
  struct State : std::enable_shared_from_this<State> {
    explicit State(socket_type socket_in)
        : socket(std::move(socket_in)), timer(socket.get_executor()) {}

    // Counts an operation as pending, times out at once when the deadline has passed, and
    // otherwise arms the timer when the deadline needs it.
    void Start();
    // Marks the socket timed out and closes it, so pending and later operations fail.
    void TimeOut();
    // Returns whether a deadline is set and has passed. Reads the clock only when one is set.
    bool DeadlinePassed() const;
    void Arm();
    void OnTimer(uint64_t generation, const boost::system::error_code& ec);

    socket_type socket;
    boost::asio::steady_timer timer;
    clock_type::time_point deadline = clock_type::time_point::max();
    // The expiry of the pending wait, or max() when no wait is pending.
    clock_type::time_point armed_until = clock_type::time_point::max();
    uint64_t generation = 0;  // Of the pending wait. A handler of an older one is stale.
    size_t pending = 0;       // Reads, writes and connects not completed yet.
    bool timed_out = false;
  };

 public:
  // Wraps an operation's handler: counts the operation as done and reports a failure after a
  // timeout as beast::error::timeout. Public only for the associator specialisation below.
  template <typename Handler>
  struct Completion {
    std::shared_ptr<State> state;
    Handler handler;

    template <typename... Args>
    void operator()(boost::system::error_code ec, Args&&... args) {
      --state->pending;
      if (ec && state->timed_out) ec = boost::beast::error::timeout;
      std::move(handler)(ec, std::forward<Args>(args)...);
    }
  };

 private:
  // Starts one timed operation: counts it as pending, arms the timer when the deadline needs it
  // and calls `operation(socket, completion)`, which must start the socket operation with
  // `completion` as its handler.
  template <typename Signature, typename Token, typename Operation>
  auto Initiate(Token&& token, Operation operation) {
    return boost::asio::async_initiate<Token, Signature>(
        [](auto handler, std::shared_ptr<State> state, Operation started) {
          state->Start();
          socket_type& socket = state->socket;
          started(socket, Completion<decltype(handler)>{std::move(state), std::move(handler)});
        },
        token, state_, std::move(operation));
  }

  // Closes the socket and cancels the timer's wait, which would otherwise keep the state, and
  // so the socket, until the deadline.
  void Release() noexcept;

  std::size_t TryWriteBuffers(std::span<const boost::asio::const_buffer> pieces,
                              boost::system::error_code& ec) noexcept;

  std::shared_ptr<State> state_;
};

}  // namespace credgate::http

// A Completion runs on the executor, with the allocator and the cancellation slot, of the
// handler it wraps, so a coroutine resumes where it would without the wrapper.
template <template <typename, typename> class Associator, typename Handler,
          typename DefaultCandidate>
struct boost::asio::associator<Associator, credgate::http::TimedSocket::Completion<Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const credgate::http::TimedSocket::Completion<Handler>& completion) noexcept {
    return Associator<Handler, DefaultCandidate>::get(completion.handler);
  }
  static auto get(const credgate::http::TimedSocket::Completion<Handler>& completion,
                  const DefaultCandidate& candidate) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(completion.handler, candidate)) {
    return Associator<Handler, DefaultCandidate>::get(completion.handler, candidate);
  }
};
