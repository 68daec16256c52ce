#pragma once
// The one UDP port of a session, shared by UDP trackers, the DHT and uTP: an IPv4 socket and,
// when asked, an IPv6 one, bound on the listen port. Each datagram that arrives is offered to
// the handlers in the order they were added until one takes it. Sends go out at once when the
// socket can take them; otherwise they wait in a bounded queue and, past it, are dropped as the
// network may drop them. Single-threaded, on the io_context it was made on.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

namespace p2p {

class UdpSocket {
 public:
  using Endpoint = boost::asio::ip::udp::endpoint;
  // Returns true when it took the datagram (the later handlers do not see it).
  using Handler = std::function<bool(const Endpoint& from, std::span<const std::uint8_t> data)>;

  // Binds port (0: any free one) on IPv4 and, with ipv6, on IPv6 when the host has it.
  // Throws std::system_error when the port is taken.
  UdpSocket(boost::asio::io_context& io, std::uint16_t port, bool ipv6);
  ~UdpSocket();
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;

  std::uint16_t port() const { return port_; }
  bool has_ipv6() const { return v6_ != nullptr; }

  int add_handler(Handler h);
  void remove_handler(int id);

  // Copies the bytes. Returns false when the datagram was dropped: the queue was full, the
  // address family has no socket, or the socket is closed.
  bool send_to(const Endpoint& to, std::span<const std::uint8_t> data);

  void close();

  // Bounds of the send queue of each socket.
  static constexpr std::size_t kMaxQueuedDatagrams = 4096;
  static constexpr std::size_t kMaxQueuedBytes = std::size_t(8) << 20;
  std::uint64_t dropped_sends() const { return dropped_sends_; }
  std::uint64_t unclaimed() const { return unclaimed_; }

 private:
  struct Side;
  void wait_readable(Side& s);
  void drain(Side& s);
  void wait_writable(Side& s);
  void flush(Side& s);
  void dispatch(const Endpoint& from, std::span<const std::uint8_t> data);

  boost::asio::io_context& io_;
  std::unique_ptr<Side> v4_, v6_;
  std::uint16_t port_ = 0;
  std::vector<std::pair<int, std::shared_ptr<Handler>>> handlers_;
  int next_id_ = 1;
  std::vector<std::uint8_t> buf_;
  std::uint64_t dropped_sends_ = 0, unclaimed_ = 0;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace p2p
