#include "p2p/transport/utp_dial_stream.hpp"

#include <utility>

#include <boost/asio/error.hpp>

#include "p2p/transport/abandon_guard.hpp"

namespace p2p {

UtpDialStream::UtpDialStream(boost::asio::any_io_executor ex, Dial utp, Dial tcp,
                             std::chrono::milliseconds utp_timeout,
                             std::chrono::milliseconds head_start)
    : ex_(ex),
      utp_(std::move(utp)),
      tcp_(std::move(tcp)),
      utp_timeout_(utp_timeout),
      head_start_(head_start),
      timer_(ex) {
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

void UtpDialStream::retire(std::unique_ptr<Stream> s) {
  if (!s) return;
  // Its handler may be the one running now: keep it until this stream goes.
  retired_.push_back(std::move(s));
  retired_.back()->close();
}

// The pending connect holds its peer connection, which holds this stream: when the io_context
// goes with a dial or its timer that never ran, the connect is let go, or the two would keep
// each other alive.
std::shared_ptr<bool> UtpDialStream::abandon_guard() {
  return make_abandon_guard(alive_, [this] {
    auto done = std::move(done_);
    done_ = nullptr;
    // `done` may hold the last reference to this stream.
  });
}

void UtpDialStream::finish(const boost::system::error_code& ec) {
  timer_.cancel();
  auto d = std::move(done_);
  done_ = nullptr;
  d(ec);
}

void UtpDialStream::async_connect(ConnectHandler done) {
  if (!on_utp_) return try_tcp(std::move(done));
  done_ = std::move(done);
  std::weak_ptr<int> alive = alive_;
  bool race = head_start_ < utp_timeout_;
  timer_.expires_after(race ? head_start_ : utp_timeout_);
  timer_.async_wait([this, alive, race, g = abandon_guard()](const boost::system::error_code& ec) {
    *g = true;
    if (ec || alive.expired() || !done_) return;
    if (race) return start_race();
    utp_failed();
  });
  current_->async_connect([this, alive, g = abandon_guard()](const boost::system::error_code& ec) {
    *g = true;
    if (alive.expired() || !done_ || utp_down_) return;
    if (ec && !closed_) return utp_failed();
    retire(std::move(racer_));
    finish(ec);
  });
}

void UtpDialStream::start_race() {
  std::weak_ptr<int> alive = alive_;
  racer_ = tcp_();
  racer_->async_connect([this, alive, g = abandon_guard()](const boost::system::error_code& ec) {
    *g = true;
    if (alive.expired() || !done_) return;
    if (ec && !closed_) {
      racer_down_ = true;
      racer_ec_ = ec;
      if (utp_down_) return finish(ec);
      return;  // uTP may still answer before its timeout
    }
    if (racer_) {  // uTP is still dialling: it loses
      auto loser = std::exchange(current_, std::move(racer_));
      retire(std::move(loser));
    }
    on_utp_ = false;
    // uTP was only slow, not refused: a peer that ends TCP in silence may still take it.
    utp_tried_ = utp_down_;
    finish(ec);
  });
  timer_.expires_after(utp_timeout_ - head_start_);
  timer_.async_wait([this, alive, g = abandon_guard()](const boost::system::error_code& ec) {
    *g = true;
    if (ec || alive.expired() || !done_ || utp_down_) return;
    utp_failed();
  });
}

void UtpDialStream::utp_failed() {
  if (closed_) return finish(boost::asio::error::operation_aborted);
  timer_.cancel();
  retire(std::move(current_));
  on_utp_ = false;
  utp_down_ = true;
  if (racer_) {  // the TCP dial under way decides, or has failed already
    current_ = std::move(racer_);
    if (racer_down_) finish(racer_ec_);
    return;
  }
  auto d = std::move(done_);
  done_ = nullptr;
  try_tcp(std::move(d));
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
  replay_.write(*current_, bufs, std::move(done));
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
      replay_.clear();
      return done(ec, n);
    }
    utp_tried_ = true;
    if (closed_ || replay_.overflowed() || ec == boost::asio::error::operation_aborted)
      return done(ec, n);
    auto s = utp_();
    if (!s) return done(ec, n);
    retire(std::move(current_));
    current_ = std::move(s);
    on_utp_ = true;
    current_->async_connect([this, alive, buf, ec,
                             done = std::move(done)](const boost::system::error_code& cec) mutable {
      if (alive.expired() || cec || closed_) return done(ec, 0);
      current_->async_write(replay_.bytes(),
                            [this, alive, buf, ec, done = std::move(done)](
                                const boost::system::error_code& wec, std::size_t) mutable {
                              if (alive.expired() || wec || closed_) return done(ec, 0);
                              replay_.clear();
                              current_->async_read_some(buf, std::move(done));
                            });
    });
  });
}

void UtpDialStream::close() {
  closed_ = true;
  timer_.cancel();
  if (current_) current_->close();
  if (racer_) racer_->close();
}

}  // namespace p2p
