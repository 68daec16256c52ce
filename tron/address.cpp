#include "tron/address.hpp"

#include <algorithm>
#include <stdexcept>

#include "tron/base58.hpp"
#include "tron/hashes.hpp"

namespace tron {

std::optional<Address> Address::from_bytes(std::span<const std::uint8_t> bytes) {
  Raw raw{kPrefix};
  if (bytes.size() == 21 && bytes[0] == kPrefix) {
    std::copy(bytes.begin(), bytes.end(), raw.begin());
  } else if (bytes.size() == 20) {
    std::copy(bytes.begin(), bytes.end(), raw.begin() + 1);
  } else {
    return std::nullopt;
  }
  return Address(raw);
}

std::optional<Address> Address::parse(std::string_view text) {
  if (text.size() == 34 && text[0] == 'T') {
    auto payload = base58check_decode(text);
    if (!payload) return std::nullopt;
    if (payload->size() != 21 || (*payload)[0] != kPrefix) return std::nullopt;
    return from_bytes(*payload);
  }
  if (text.starts_with("0x") || text.starts_with("0X")) text.remove_prefix(2);
  if (text.size() == 42) {
    try {
      Bytes raw = tron::from_hex(text);
      if (raw[0] != kPrefix) return std::nullopt;
      return from_bytes(raw);
    } catch (const std::invalid_argument&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

Address Address::from_string(std::string_view text) {
  auto parsed = parse(text);
  if (!parsed) throw std::invalid_argument("not a TRON address: '" + std::string(text) + "'");
  return *parsed;
}

Address Address::from_public_key(std::span<const std::uint8_t> pubkey) {
  if (pubkey.size() == 65 && pubkey[0] == 0x04) pubkey = pubkey.subspan(1);
  if (pubkey.size() != 64) throw std::invalid_argument("public key must be 64 or 65 bytes");
  Hash32 digest = keccak256(pubkey);
  Raw raw{kPrefix};
  std::copy(digest.end() - 20, digest.end(), raw.begin() + 1);
  return Address(raw);
}

std::string Address::to_base58() const { return base58check_encode(raw_); }

std::string Address::to_hex() const { return tron::to_hex(raw_); }

}  // namespace tron
