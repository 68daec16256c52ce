#pragma once
// Bandwidth arithmetic as java-tron's ResourceProcessor and BandwidthProcessor do it.
#include <cstdint>

#include "tron/proto/tron.pb.h"

namespace tron::devnet {

// java-tron measures time for resources in 3-second slots; usage recovers linearly over a
// window of 28,800 slots (24 hours).
inline constexpr std::int64_t kSlotMs = 3000;
inline constexpr std::int64_t kWindowSlots = 28'800;
// Bytes a transaction's result may add; java-tron charges them up front, per contract.
inline constexpr std::int64_t kMaxResultSizeInTx = 64;
inline constexpr std::int64_t kMaxTransactionBytes = 500 * 1024;
inline constexpr std::int64_t kMaxTimeUntilExpirationMs = 24LL * 3600 * 1000;

inline std::int64_t slot_of(std::int64_t ms) {
  return ms / kSlotMs;
}

// Usage after `usage` more bytes at slot `now`, the previous `last_usage` (recorded at slot
// `last_time`) decayed linearly over the window. java-tron's ResourceProcessor.increase().
std::int64_t increase_usage(std::int64_t last_usage, std::int64_t usage, std::int64_t last_time,
                            std::int64_t now, std::int64_t window = kWindowSlots);

// The daily bandwidth or energy that `staked_sun` earns: its share of the network's total
// limit by weight (whole TRX staked). java-tron's calculateGlobalNetLimit / EnergyLimit.
std::int64_t staked_limit(std::int64_t staked_sun, std::int64_t total_limit,
                          std::int64_t total_weight);

// Bandwidth bytes a transaction costs: its serialized size without `ret`, plus 64 per
// contract.
std::int64_t bandwidth_bytes(const protocol::Transaction& tx);

}  // namespace tron::devnet
