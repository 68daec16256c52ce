#include "p2p/transport/utp_dial_stream.hpp"

#include <boost/asio/error.hpp>

namespace p2p {

namespace {
constexpr std::size_t kMaxReplay = 64 * 1024;
}

UtpDialStream::UtpDialStream(boost::asio::any_io_executor ex, Dial utp, Dial tcp,
                             std::chrono::milliseconds utp_timeout)
    : ex_(ex), utp_(std::move(utp)), tcp_(std::move(tcp)), utp_timeout_(utp_timeout), timer_(ex) {
  if (utp_) current_ = utp_();
  if (current_) {
    on_utp_ = utp_tried_ = true;
  } else {
    current_ = tcp_();
  }
}

UtpDialStream::~UtpDialStream() {
  alive_.reset();
  timer_.cancel();
}

void UtpDialStream::retire() {
  current_->close();
  // Its handler may be the one running now: keep it until this stream goes.
  retired_.push_back(std::move(current_));
}

void UtpDialStream::async_connect(ConnectHandler done) {
  if (!on_utp_) return try_tcp(std::move(done));
  auto shared = std::make_shared<ConnectHandler>(std::move(done));
  std::weak_ptr<int> alive = alive_;
  timer_.expires_after(utp_timeout_);
  // A SYN with no answer: give up on uTP and dial TCP.
  timer_.async_wait([this, alive, shared](const boost::system::error_code& ec) {
    if (ec || alive.expired() || !*shared) return;
    auto d = std::move(*shared);
    *shared = nullptr;
    retire();
    on_utp_ = false;
    if (closed_) return d(boost::asio::error::operation_aborted);
    try_tcp(std::move(d));
  });
  current_->async_connect([this, alive, shared](const boost::system::error_code& ec) {
    if (alive.expired() || !*shared) return;
    auto d = std::move(*shared);
    *shared = nullptr;
    timer_.cancel();
    if (!ec || closed_) return d(ec);
    retire();
    on_utp_ = false;
    try_tcp(std::move(d));
  });
}

void UtpDialStream::try_tcp(ConnectHandler done) {
  current_ = tcp_();
  current_->async_connect(std::move(done));
}

void UtpDialStream::async_write(std::span<const std::uint8_t> buf, IoHandler done) {
  std::span<const std::uint8_t> one[] = {buf};
  async_write(one, std::move(done));
}

void UtpDialStream::async_write(std::span<const std::span<const std::uint8_t>> bufs,
                                IoHandler done) {
  if (on_utp_ || utp_tried_ || heard_ || !utp_) return current_->async_write(bufs, std::move(done));
  for (const auto& b : bufs) {
    if (replay_.size() + b.size() > kMaxReplay) replay_overflow_ = true;
    if (!replay_overflow_) replay_.insert(replay_.end(), b.begin(), b.end());
  }
  bool may_redial = !replay_overflow_;
  current_->async_write(bufs, [may_redial, done = std::move(done)](
                                  const boost::system::error_code& ec, std::size_t n) {
    if (ec && may_redial) return done({}, n);
    done(ec, n);
  });
}

void UtpDialStream::async_read_some(std::span<std::uint8_t> buf, IoHandler done) {
  if (on_utp_ || utp_tried_ || heard_ || !utp_)
    return current_->async_read_some(buf, std::move(done));
  std::weak_ptr<int> alive = alive_;
  current_->async_read_some(buf, [this, alive, buf, done = std::move(done)](
                                     const boost::system::error_code& ec, std::size_t n) mutable {
    if (alive.expired()) return done(boost::asio::error::operation_aborted, 0);
    if (n > 0 || !ec) {
      heard_ = true;
      replay_ = {};
      return done(ec, n);
    }
    utp_tried_ = true;
    if (closed_ || replay_overflow_ || ec == boost::asio::error::operation_aborted)
      return done(ec, n);
    auto s = utp_();
    if (!s) return done(ec, n);
    retire();
    current_ = std::move(s);
    on_utp_ = true;
    current_->async_connect([this, alive, buf, ec,
                             done = std::move(done)](const boost::system::error_code& cec) mutable {
      if (alive.expired() || cec || closed_) return done(ec, 0);
      current_->async_write(std::span<const std::uint8_t>(replay_),
                            [this, alive, buf, ec, done = std::move(done)](
                                const boost::system::error_code& wec, std::size_t) mutable {
                              if (alive.expired() || wec || closed_) return done(ec, 0);
                              replay_ = {};
                              current_->async_read_some(buf, std::move(done));
                            });
    });
  });
}

void UtpDialStream::close() {
  closed_ = true;
  timer_.cancel();
  if (current_) current_->close();
}

}  // namespace p2p
