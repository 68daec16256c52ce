#pragma once
// The slice of the Solidity ABI that TRC-20 payments need: function selectors, the calls
// transfer(address,uint256), balanceOf(address) and decimals(), uint256 results, Error(string)
// revert reasons, and decimal amounts as uint256.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <boost/multiprecision/cpp_int.hpp>

#include "tron/address.hpp"
#include "tron/hashes.hpp"
#include "tron/hex.hpp"

namespace tron {

using U256 = boost::multiprecision::uint256_t;

namespace abi {

using Selector = std::array<std::uint8_t, 4>;

inline constexpr Selector kTransferSelector{0xa9, 0x05, 0x9c, 0xbb};   // transfer(address,uint256)
inline constexpr Selector kBalanceOfSelector{0x70, 0xa0, 0x82, 0x31};  // balanceOf(address)
inline constexpr Selector kDecimalsSelector{0x31, 0x3c, 0xe5, 0x67};   // decimals()
inline constexpr Selector kErrorSelector{0x08, 0xc3, 0x79, 0xa0};      // Error(string)
inline constexpr std::size_t kTransferCallSize = 4 + 32 + 32;

// First 4 bytes of keccak256 of a canonical signature such as "transfer(address,uint256)".
Selector selector(std::string_view signature);
// keccak256 of an event signature, e.g. "Transfer(address,address,uint256)" (log topic 0).
Hash32 event_topic(std::string_view signature);

// Big-endian 32-byte words.
void write_uint256(std::span<std::uint8_t, 32> out, const U256& value);
void write_address(std::span<std::uint8_t, 32> out, const Address& address);
std::array<std::uint8_t, 32> encode_uint256(const U256& value);
std::array<std::uint8_t, 32> encode_address(const Address& address);

// Calldata.
void write_transfer_call(std::span<std::uint8_t, kTransferCallSize> out, const Address& to,
                         const U256& amount);
Bytes encode_transfer(const Address& to, const U256& amount);
Bytes encode_balance_of(const Address& owner);
Bytes encode_decimals();

struct TransferCall {
  Address to;
  U256 amount;
  bool operator==(const TransferCall&) const = default;
};
// Decodes transfer(address,uint256) calldata: exactly 68 bytes, the transfer selector, an
// address word whose upper 12 bytes are zero. Throws std::invalid_argument otherwise.
TransferCall decode_transfer(std::span<const std::uint8_t> data);
std::optional<TransferCall> try_decode_transfer(std::span<const std::uint8_t> data);

// The first 32-byte word of a result (a uint256 or smaller integer return value). Throws
// std::invalid_argument if the result is shorter than 32 bytes.
U256 decode_uint256(std::span<const std::uint8_t> result);
// An address return value (upper 12 bytes must be zero). Throws std::invalid_argument.
Address decode_address(std::span<const std::uint8_t> word);

// Revert data of `revert("reason")`: Error(string) selector, offset, length, padded UTF-8.
Bytes encode_revert_reason(std::string_view reason);
// nullopt unless the data is a well-formed Error(string).
std::optional<std::string> decode_revert_reason(std::span<const std::uint8_t> data);

// A non-negative decimal integer ("1000000"), at most 2^256-1. Throws std::invalid_argument
// on anything else, naming the text, and saying so when it is too large.
U256 parse_amount(std::string_view text);
// A decimal with up to `decimals` fractional digits ("1.5" with 6 -> 1500000). Throws
// std::invalid_argument on bad text, too many fractional digits or overflow.
U256 parse_units(std::string_view text, unsigned decimals);
// Base units as a decimal with `decimals` fractional digits, trailing zeros dropped.
std::string format_units(const U256& amount, unsigned decimals);
std::string to_decimal(const U256& value);

}  // namespace abi
}  // namespace tron
