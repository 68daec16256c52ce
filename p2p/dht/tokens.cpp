#include "p2p/dht/tokens.hpp"

#include <random>

#include "p2p/metainfo/sha1.hpp"

namespace p2p::dht {

namespace {
void randomize(std::array<std::uint8_t, 16>& s) {
  std::random_device rd;
  for (auto& b : s) b = static_cast<std::uint8_t>(rd());
}
}  // namespace

TokenManager::TokenManager(Clock::time_point now) : rotated_(now) {
  randomize(current_);
  randomize(previous_);
}

std::string TokenManager::token_for(const Secret& s, const boost::asio::ip::address& ip) {
  std::string in(reinterpret_cast<const char*>(s.data()), s.size());
  if (ip.is_v4()) {
    auto b = ip.to_v4().to_bytes();
    in.append(reinterpret_cast<const char*>(b.data()), b.size());
  } else {
    auto b = ip.to_v6().to_bytes();
    in.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  Sha1Digest d = sha1(in);
  return std::string(reinterpret_cast<const char*>(d.data()), kTokenSize);
}

std::string TokenManager::make(const boost::asio::ip::address& ip) const {
  return token_for(current_, ip);
}

bool TokenManager::valid(const std::string& token, const boost::asio::ip::address& ip) const {
  return token.size() == kTokenSize &&
         (token == token_for(current_, ip) || token == token_for(previous_, ip));
}

void TokenManager::tick(Clock::time_point now) {
  if (now - rotated_ < kRotation) return;
  previous_ = current_;
  randomize(current_);
  rotated_ = now;
}

}  // namespace p2p::dht
