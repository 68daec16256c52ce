#include "p2p/dht/rate_limit.hpp"

#include <algorithm>

namespace p2p::dht {

double RateLimiter::level(const Bucket& b, Clock::time_point now) const {
  double secs = std::chrono::duration<double>(now - b.last).count();
  return std::min(burst_, b.tokens + std::max(0.0, secs) * rate_);
}

bool RateLimiter::allow(const boost::asio::ip::address& ip, Clock::time_point now) {
  auto it = buckets_.find(ip);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_hosts_) {
      for (auto b = buckets_.begin(); b != buckets_.end();)
        b = level(b->second, now) >= burst_ ? buckets_.erase(b) : std::next(b);
      if (buckets_.size() >= max_hosts_) return false;
    }
    it = buckets_.emplace(ip, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = level(b, now);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

}  // namespace p2p::dht
