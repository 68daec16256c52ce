#include "tron/devnet/resource.hpp"

#include <cmath>

namespace tron::devnet {

namespace {
constexpr std::int64_t kPrecision = 1'000'000;
std::int64_t divide_ceil(std::int64_t a, std::int64_t b) {
  return a / b + (a % b > 0 ? 1 : 0);
}
}  // namespace

std::int64_t increase_usage(std::int64_t last_usage, std::int64_t usage, std::int64_t last_time,
                            std::int64_t now, std::int64_t window) {
  std::int64_t average_last = divide_ceil(last_usage * kPrecision, window);
  std::int64_t average_now = divide_ceil(usage * kPrecision, window);
  if (last_time != now && now > last_time) {
    if (last_time + window > now) {
      double decay = static_cast<double>(window - (now - last_time)) / static_cast<double>(window);
      average_last = std::llround(static_cast<double>(average_last) * decay);
    } else {
      average_last = 0;
    }
  }
  average_last += average_now;
  return average_last * window / kPrecision;
}

std::int64_t staked_limit(std::int64_t staked_sun, std::int64_t total_limit,
                          std::int64_t total_weight) {
  if (staked_sun < 1'000'000 || total_weight <= 0) return 0;
  const std::int64_t weight = staked_sun / 1'000'000;
  return static_cast<std::int64_t>(
      static_cast<double>(weight) *
      (static_cast<double>(total_limit) / static_cast<double>(total_weight)));
}

std::int64_t bandwidth_bytes(const protocol::Transaction& tx) {
  protocol::Transaction copy = tx;
  copy.clear_ret();
  return static_cast<std::int64_t>(copy.ByteSizeLong()) +
         kMaxResultSizeInTx * tx.raw_data().contract_size();
}

}  // namespace tron::devnet
