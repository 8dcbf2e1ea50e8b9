#include "http/timed_socket.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace credgate::http {

TimedSocket::TimedSocket(const executor_type& executor)
    : state_(std::make_shared<State>(socket_type(executor))) {}

TimedSocket::TimedSocket(socket_type socket)
    : state_(std::make_shared<State>(std::move(socket))) {}

TimedSocket& TimedSocket::operator=(TimedSocket&& other) noexcept {
  if (this != &other) {
    Release();
    state_ = std::move(other.state_);
  }
  return *this;
}

TimedSocket::~TimedSocket() { Release(); }

void TimedSocket::Release() noexcept {
  if (state_ == nullptr) return;  // Moved from.
  boost::system::error_code ignored;
  state_->socket.close(ignored);
  state_->timer.cancel();
  state_.reset();
}

std::size_t TimedSocket::TryWriteBuffers(std::span<const boost::asio::const_buffer> pieces,
                                         boost::system::error_code& ec) noexcept {
  ec.clear();
  if (pieces.empty() || state_->timed_out || !state_->socket.is_open()) return 0;
  // After the deadline, the asynchronous write that follows fails with the timeout.
  if (state_->DeadlinePassed()) return 0;
  std::array<iovec, kMaxDirectBuffers> vectors;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    vectors[i].iov_base = const_cast<void*>(pieces[i].data());
    vectors[i].iov_len = pieces[i].size();
  }
  msghdr message{};
  message.msg_iov = vectors.data();
  message.msg_iovlen = pieces.size();
  // MSG_DONTWAIT keeps this one call from blocking whatever the socket's mode, and MSG_NOSIGNAL
  // turns a write to a closed peer into EPIPE instead of SIGPIPE, as in Asio's own writes.
  const ssize_t written =
      ::sendmsg(state_->socket.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (written >= 0) return static_cast<std::size_t>(written);
  if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    ec.assign(errno, boost::asio::error::get_system_category());
  }
  return 0;
}

void TimedSocket::cancel() {
  boost::system::error_code ignored;
  state_->socket.cancel(ignored);
}

void TimedSocket::close() {
  boost::system::error_code ignored;
  state_->socket.close(ignored);
}

void TimedSocket::State::Start() {
  ++pending;
  // Closing at once, not through a wait that fires at once, keeps a write that the kernel would
  // take immediately from succeeding after its deadline.
  if (DeadlinePassed()) {
    TimeOut();
    return;
  }
  if (deadline < armed_until) Arm();
}

bool TimedSocket::State::DeadlinePassed() const {
  return deadline != clock_type::time_point::max() && deadline <= clock_type::now();
}

void TimedSocket::State::TimeOut() {
  timed_out = true;
  boost::system::error_code ignored;
  socket.close(ignored);
}

void TimedSocket::State::Arm() {
  armed_until = deadline;
  const uint64_t armed = ++generation;
  // Setting the expiry cancels the previous wait, whose handler then finds its generation stale.
  timer.expires_at(deadline);
  timer.async_wait([self = shared_from_this(), armed](const boost::system::error_code& ec) {
    self->OnTimer(armed, ec);
  });
}

void TimedSocket::State::OnTimer(uint64_t armed, const boost::system::error_code& ec) {
  if (armed != generation) return;  // A later Arm() replaced this wait.
  armed_until = clock_type::time_point::max();
  // Only Release() cancels the current wait, and then nothing is left to time out.
  if (ec) return;
  // With no operation pending, the next one arms the timer again.
  if (pending == 0 || deadline == clock_type::time_point::max()) return;
  if (clock_type::now() < deadline) {
    Arm();  // The deadline moved later while the wait was pending.
    return;
  }
  TimeOut();
}

}  // namespace credgate::http
