#include "p2p/transport/tcp_stream.hpp"

#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace p2p {

TcpStream::TcpStream(tcp::socket socket, int buffer_size)
    : socket_(std::move(socket)), buffer_size_(buffer_size), connected_(true) {
  boost::system::error_code ec;
  remote_ = PeerAddress(socket_.remote_endpoint(ec));
  tune();
}

TcpStream::TcpStream(boost::asio::io_context& io, const PeerAddress& remote, int buffer_size)
    : socket_(io), remote_(remote), buffer_size_(buffer_size), connected_(false) {}

void TcpStream::tune() {
  boost::system::error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  if (buffer_size_ > 0) {
    socket_.set_option(boost::asio::socket_base::send_buffer_size(buffer_size_), ec);
    socket_.set_option(boost::asio::socket_base::receive_buffer_size(buffer_size_), ec);
  }
}

void TcpStream::async_connect(ConnectHandler done) {
  if (connected_) {
    boost::asio::post(socket_.get_executor(), [done = std::move(done)] { done({}); });
    return;
  }
  socket_.async_connect(remote_.tcp(),
                        [this, done = std::move(done)](const boost::system::error_code& ec) {
                          if (!ec) {
                            connected_ = true;
                            tune();
                          }
                          done(ec);
                        });
}

void TcpStream::async_read_some(std::span<std::uint8_t> buf, IoHandler done) {
  socket_.async_read_some(boost::asio::buffer(buf.data(), buf.size()), std::move(done));
}

void TcpStream::async_write(std::span<const std::uint8_t> buf, IoHandler done) {
  boost::asio::async_write(socket_, boost::asio::buffer(buf.data(), buf.size()), std::move(done));
}

void TcpStream::async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) {
  std::vector<boost::asio::const_buffer> seq;
  seq.reserve(bufs.size());
  for (const auto& b : bufs) seq.emplace_back(b.data(), b.size());
  boost::asio::async_write(socket_, std::move(seq), std::move(done));
}

void TcpStream::close() {
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace p2p
