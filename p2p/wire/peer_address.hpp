#pragma once
// A peer's address: IP and port. IPv4-mapped IPv6 addresses are kept as IPv4, so the same
// peer reached either way compares equal. Printed as "1.2.3.4:6881" or "[::1]:6881".
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace p2p {

class PeerAddress {
 public:
  PeerAddress() = default;
  PeerAddress(boost::asio::ip::address ip, std::uint16_t port);
  explicit PeerAddress(const boost::asio::ip::tcp::endpoint& ep)
      : PeerAddress(ep.address(), ep.port()) {}

  const boost::asio::ip::address& ip() const { return ip_; }
  std::uint16_t port() const { return port_; }
  bool is_v4() const { return ip_.is_v4(); }
  bool is_loopback() const { return ip_.is_loopback(); }
  boost::asio::ip::tcp::endpoint tcp() const { return {ip_, port_}; }
  PeerAddress with_port(std::uint16_t port) const { return {ip_, port}; }
  std::string to_string() const;

  friend bool operator==(const PeerAddress& a, const PeerAddress& b) {
    return a.port_ == b.port_ && a.ip_ == b.ip_;
  }
  friend std::strong_ordering operator<=>(const PeerAddress& a, const PeerAddress& b) {
    if (a.ip_ < b.ip_) return std::strong_ordering::less;
    if (b.ip_ < a.ip_) return std::strong_ordering::greater;
    return a.port_ <=> b.port_;
  }

 private:
  boost::asio::ip::address ip_;
  std::uint16_t port_ = 0;
};

}  // namespace p2p

template <>
struct std::hash<p2p::PeerAddress> {
  std::size_t operator()(const p2p::PeerAddress& a) const noexcept;
};
