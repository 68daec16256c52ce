#include "p2p/wire/peer_address.hpp"

namespace p2p {

PeerAddress::PeerAddress(boost::asio::ip::address ip, std::uint16_t port) : port_(port) {
  if (ip.is_v6() && ip.to_v6().is_v4_mapped()) {
    ip = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ip.to_v6());
  }
  ip_ = ip;
}

std::string PeerAddress::to_string() const {
  if (ip_.is_v6()) return "[" + ip_.to_string() + "]:" + std::to_string(port_);
  return ip_.to_string() + ":" + std::to_string(port_);
}

}  // namespace p2p

std::size_t std::hash<p2p::PeerAddress>::operator()(const p2p::PeerAddress& a) const noexcept {
  std::size_t h = std::hash<std::uint16_t>()(a.port());
  if (a.ip().is_v4()) {
    h ^= std::hash<std::uint32_t>()(a.ip().to_v4().to_uint()) + 0x9e3779b97f4a7c15ULL + (h << 6);
  } else {
    for (auto b : a.ip().to_v6().to_bytes()) h = h * 131 + b;
  }
  return h;
}
