#pragma once
// An outgoing stream that dials uTP first, as the common clients do, and races TCP against
// it: when the uTP SYN is unanswered after a head start, a TCP dial starts beside it and the
// first to connect wins; the other is closed at once, so one dial never leaves two live
// connections. Without a race (a head start no shorter than the timeout), TCP follows when the
// SYN gets no answer in time. TCP also follows at once when uTP is reset or no uTP socket is
// free. When the TCP connection is made but the peer ends it before sending a byte (as a peer
// that takes uTP only does), and uTP was not refused, it dials uTP and writes again what was
// written. Writes follow the connect, so the loser never carries a byte.
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/transport/replay_buffer.hpp"
#include "p2p/transport/stream.hpp"

namespace p2p {

class UtpDialStream final : public Stream {
 public:
  using Dial = std::function<std::unique_ptr<Stream>()>;  // nullptr: not available now
  UtpDialStream(boost::asio::any_io_executor ex, Dial utp, Dial tcp,
                std::chrono::milliseconds utp_timeout, std::chrono::milliseconds head_start);
  ~UtpDialStream() override;

  void async_connect(ConnectHandler done) override;
  void async_read_some(std::span<std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) override;
  void close() override;
  bool is_open() const override { return current_ && current_->is_open(); }
  const PeerAddress& remote() const override { return current_->remote(); }
  bool is_utp() const override { return on_utp_; }

 private:
  void try_tcp(ConnectHandler done);
  void retire(std::unique_ptr<Stream> s);
  void start_race();
  void utp_failed();  // no answer in time, or refused
  void finish(const boost::system::error_code& ec);
  std::shared_ptr<bool> abandon_guard();

  boost::asio::any_io_executor ex_;
  Dial utp_, tcp_;
  std::chrono::milliseconds utp_timeout_, head_start_;
  std::unique_ptr<Stream> current_;
  std::unique_ptr<Stream> racer_;  // the TCP dial racing a uTP one still unanswered
  std::vector<std::unique_ptr<Stream>> retired_;
  boost::asio::steady_timer timer_;
  ConnectHandler done_;  // the connect, while it is pending
  bool on_utp_ = false;
  bool utp_tried_ = false;
  bool utp_down_ = false;  // during a race: the uTP dial failed, the racer decides
  bool racer_down_ = false;
  boost::system::error_code racer_ec_;
  bool closed_ = false;
  bool heard_ = false;
  ReplayBuffer replay_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace p2p
