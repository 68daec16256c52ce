#pragma once
// uTP connections over a shared UDP socket: the manager takes the datagrams that look like
// uTP, routes them by endpoint and connection id, answers SYNs (or resets them when no one
// accepts or the socket limit is reached), and ticks every connection's timers. A UtpStream
// is the Stream face of one connection, so the peer protocol and stream encryption run over
// it as over TCP. Single-threaded, on the io_context given.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/transport/stream.hpp"
#include "p2p/transport/utp_connection.hpp"

namespace p2p {

class UtpStream;
struct UtpSocket;

struct UtpSettings {
  std::size_t max_sockets = 1000;
  utp::Config config;
  // A closed stream's connection stays this long at most to deliver what was written.
  std::chrono::seconds linger{10};
};

class UtpManager {
 public:
  using Endpoint = boost::asio::ip::udp::endpoint;
  using Send = std::function<bool(const Endpoint&, std::span<const std::uint8_t>)>;
  using Accept = std::function<void(std::unique_ptr<UtpStream>)>;

  UtpManager(boost::asio::io_context& io, Send send, UtpSettings settings = {});
  ~UtpManager();
  UtpManager(const UtpManager&) = delete;
  UtpManager& operator=(const UtpManager&) = delete;

  // The UDP handler: true when the datagram was uTP (taken), false to leave it to others.
  bool on_datagram(const Endpoint& from, std::span<const std::uint8_t> data);
  // An outgoing stream, opened by async_connect; nullptr at the socket limit.
  std::unique_ptr<UtpStream> dial(const PeerAddress& to);
  // Incoming connections go here; with none, a SYN is answered with RESET.
  void set_accept(Accept a) { accept_ = std::move(a); }
  std::size_t sockets() const { return sockets_.size(); }
  // uTP socket objects alive in the process, across every manager (for leak checks).
  static std::size_t live_sockets();
  std::uint64_t now_us() const;

 private:
  friend class UtpStream;
  friend struct UtpSocket;
  using Key = std::pair<Endpoint, std::uint16_t>;  // remote, our recv_id
  std::shared_ptr<UtpSocket> make_socket(const Endpoint& remote);
  void send_reset(const Endpoint& to, const utp::Packet& p);
  void schedule_flush(const std::shared_ptr<UtpSocket>& s);
  void flush();
  void arm_timer();
  void on_timer();
  void reap();

  boost::asio::io_context& io_;
  Send send_;
  UtpSettings settings_;
  Accept accept_;
  std::map<Key, std::shared_ptr<UtpSocket>> sockets_;
  std::vector<std::weak_ptr<UtpSocket>> to_flush_;
  bool flush_posted_ = false;
  boost::asio::steady_timer timer_;
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point epoch_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  std::mt19937 rng_;
};

class UtpStream final : public Stream {
 public:
  explicit UtpStream(const std::shared_ptr<UtpSocket>& s);
  ~UtpStream() override;

  void async_connect(ConnectHandler done) override;
  void async_read_some(std::span<std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::uint8_t> buf, IoHandler done) override;
  void async_write(std::span<const std::span<const std::uint8_t>> bufs, IoHandler done) override;
  void close() override;
  bool is_open() const override;
  const PeerAddress& remote() const override { return remote_; }
  bool is_utp() const override { return true; }
  // Streams alive in the process (for leak checks).
  static std::size_t live();
  // nullptr once the manager let go of the connection.
  const utp::Connection* connection() const;

 private:
  void fail_soon(IoHandler done);

  std::weak_ptr<UtpSocket> s_;
  boost::asio::io_context* io_;
  PeerAddress remote_;
};

}  // namespace p2p
