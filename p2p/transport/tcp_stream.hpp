#pragma once
// Stream over a TCP socket (no delay; optional fixed kernel buffer sizes).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "p2p/transport/stream.hpp"

namespace p2p {

class TcpStream final : public Stream {
 public:
  using tcp = boost::asio::ip::tcp;
  // An accepted socket. buffer_size: SO_SNDBUF/SO_RCVBUF, 0 for the kernel's autotuning.
  TcpStream(tcp::socket socket, int buffer_size);
  // An outgoing stream to `remote`, opened by async_connect.
  TcpStream(boost::asio::io_context& io, const PeerAddress& remote, int buffer_size);

  void async_connect(ConnectHandler done) override;
  void async_read_some(std::span<std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) override;
  void close() override;
  bool is_open() const override { return socket_.is_open(); }
  const PeerAddress& remote() const override { return remote_; }

 private:
  void tune();
  tcp::socket socket_;
  PeerAddress remote_;
  int buffer_size_;
  bool connected_;
};

}  // namespace p2p
