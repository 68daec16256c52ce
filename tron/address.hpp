#pragma once
// A TRON account address: 0x41 followed by 20 bytes.
#include <array>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

#include "tron/hex.hpp"

namespace tron {

class Address {
 public:
  static constexpr std::uint8_t kPrefix = 0x41;
  using Raw = std::array<std::uint8_t, 21>;

  Address() = default;  // the zero address 410000…
  explicit Address(const Raw& raw) : raw_(raw) {}

  // Accepts base58check ("T…") or hex ("41…", 42 digits, optional 0x). nullopt if neither.
  static std::optional<Address> parse(std::string_view text);
  // As parse, but throws std::invalid_argument naming the bad text.
  static Address from_string(std::string_view text);
  // 21 bytes starting with 0x41, or the 20-byte EVM form (prefix added).
  static std::optional<Address> from_bytes(std::span<const std::uint8_t> bytes);
  // From a 65-byte uncompressed (0x04 …) or 64-byte public key.
  static Address from_public_key(std::span<const std::uint8_t> pubkey);

  std::string to_base58() const;
  std::string to_hex() const;  // "41" + 40 hex digits
  const Raw& raw() const { return raw_; }
  Bytes bytes() const { return Bytes(raw_.begin(), raw_.end()); }
  // The 20 bytes after the prefix, as the EVM and ABI see the address.
  std::span<const std::uint8_t, 20> evm() const {
    return std::span<const std::uint8_t, 20>(raw_.data() + 1, 20);
  }

  auto operator<=>(const Address&) const = default;

 private:
  Raw raw_{kPrefix};
};

}  // namespace tron
