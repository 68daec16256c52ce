#pragma once
// announce_peer tokens (BEP 5): SHA-1 of a secret and the querier's IP, cut to 8 bytes. The
// secret changes every kRotation; a token made with the one before is still accepted, so a
// token lives 5 to 10 minutes.
#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/ip/address.hpp>

namespace p2p::dht {

class TokenManager {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::minutes kRotation{5};
  static constexpr std::size_t kTokenSize = 8;

  explicit TokenManager(Clock::time_point now = Clock::now());
  std::string make(const boost::asio::ip::address& ip) const;
  bool valid(const std::string& token, const boost::asio::ip::address& ip) const;
  // Rotates the secret when kRotation has passed since the last rotation.
  void tick(Clock::time_point now);

 private:
  using Secret = std::array<std::uint8_t, 16>;
  static std::string token_for(const Secret& s, const boost::asio::ip::address& ip);
  Secret current_{}, previous_{};
  Clock::time_point rotated_;
};

}  // namespace p2p::dht
