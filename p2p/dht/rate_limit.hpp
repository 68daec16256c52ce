#pragma once
// Per-IP token buckets for the queries we answer: a host (or a forger of its address) gets at
// most `rate` answers a second with bursts of `burst`, so nobody can make us flood. The map is
// bounded: when full, idle buckets (full again) are dropped, and if none is, the query is
// refused rather than the map grown.
#include <chrono>
#include <cstddef>
#include <map>

#include <boost/asio/ip/address.hpp>

namespace p2p::dht {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(double rate = 20, double burst = 50, std::size_t max_hosts = 4096)
      : rate_(rate), burst_(burst), max_hosts_(max_hosts) {}
  bool allow(const boost::asio::ip::address& ip, Clock::time_point now);
  std::size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  double level(const Bucket& b, Clock::time_point now) const;
  double rate_, burst_;
  std::size_t max_hosts_;
  std::map<boost::asio::ip::address, Bucket> buckets_;
};

}  // namespace p2p::dht
