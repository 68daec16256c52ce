#pragma once
// The two digests TRON uses: SHA-256 (txID, block id, base58check) and Keccak-256 (addresses,
// ABI selectors, TIP-191).
#include <array>
#include <cstdint>
#include <span>

namespace tron {

using Hash32 = std::array<std::uint8_t, 32>;

Hash32 sha256(std::span<const std::uint8_t> data);
Hash32 keccak256(std::span<const std::uint8_t> data);

}  // namespace tron
