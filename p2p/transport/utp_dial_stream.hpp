#pragma once
// An outgoing stream that dials uTP first, as the common clients do, and falls back to TCP
// when the uTP SYN gets no answer in time, is reset, or no uTP socket is free. When the TCP
// connection is made but the peer ends it before sending a byte (as a peer that takes uTP
// only does), and uTP was not tried, it dials uTP and writes again what was written.
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/transport/stream.hpp"

namespace p2p {

class UtpDialStream final : public Stream {
 public:
  using Dial = std::function<std::unique_ptr<Stream>()>;  // nullptr: not available now
  UtpDialStream(boost::asio::any_io_executor ex, Dial utp, Dial tcp,
                std::chrono::milliseconds utp_timeout);
  ~UtpDialStream() override;

  void async_connect(ConnectHandler done) override;
  void async_read_some(std::span<std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) override;
  void close() override;
  bool is_open() const override { return current_ && current_->is_open(); }
  const PeerAddress& remote() const override { return current_->remote(); }

  bool is_utp() const { return on_utp_; }

 private:
  void try_tcp(ConnectHandler done);
  void retire();

  boost::asio::any_io_executor ex_;
  Dial utp_, tcp_;
  std::chrono::milliseconds utp_timeout_;
  std::unique_ptr<Stream> current_;
  std::vector<std::unique_ptr<Stream>> retired_;
  boost::asio::steady_timer timer_;
  bool on_utp_ = false;
  bool utp_tried_ = false;
  bool closed_ = false;
  bool heard_ = false;
  std::vector<std::uint8_t> replay_;
  bool replay_overflow_ = false;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace p2p
