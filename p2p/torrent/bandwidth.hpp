#pragma once
// A token bucket for the session's global upload and download rate limits. Bytes are taken
// as they are sent or received; the bucket may go into debt by one message, and a peer
// waits while the bucket is empty. Rate 0 means unlimited.
#include <algorithm>
#include <chrono>
#include <cstdint>

namespace p2p {

class TokenBucket {
 public:
  void set_rate(std::int64_t bytes_per_second) {
    rate_ = std::max<std::int64_t>(0, bytes_per_second);
    tokens_ = std::min(tokens_, burst());
  }
  std::int64_t rate() const { return rate_; }
  bool unlimited() const { return rate_ == 0; }
  bool available() const { return unlimited() || tokens_ > 0; }
  void consume(std::int64_t bytes) {
    if (!unlimited()) tokens_ -= bytes;
  }
  void refill(std::chrono::steady_clock::time_point now) {
    if (last_ == std::chrono::steady_clock::time_point{}) last_ = now;
    double dt = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    if (unlimited()) return;
    tokens_ = std::min(burst(), tokens_ + std::int64_t(double(rate_) * dt));
  }
  std::int64_t tokens() const { return tokens_; }

 private:
  // A tenth of a second of traffic, at least one block, so bursts stay small.
  std::int64_t burst() const { return std::max<std::int64_t>(rate_ / 10, 16 * 1024); }
  std::int64_t rate_ = 0;
  std::int64_t tokens_ = 0;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace p2p
