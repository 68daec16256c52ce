#include "tron/abi.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace tron::abi {

namespace {

bool all_zero(std::span<const std::uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
}

U256 read_word(std::span<const std::uint8_t> word) {
  U256 value = 0;
  for (std::size_t i = 0; i < 32; ++i) value = (value << 8) | word[i];
  return value;
}

std::invalid_argument bad_amount(std::string_view text, std::string_view why) {
  return std::invalid_argument("bad amount '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

Selector selector(std::string_view signature) {
  Hash32 digest = keccak256(as_bytes(signature));
  return {digest[0], digest[1], digest[2], digest[3]};
}

Hash32 event_topic(std::string_view signature) { return keccak256(as_bytes(signature)); }

void write_uint256(std::span<std::uint8_t, 32> out, const U256& value) {
  // Limbs are little-endian 64-bit words; write them most significant first.
  std::fill(out.begin(), out.end(), 0);
  const auto& backend = value.backend();
  const std::size_t limbs = backend.size();
  const auto* limb = backend.limbs();
  constexpr std::size_t kLimbBytes = sizeof(*limb);
  for (std::size_t i = 0; i < limbs && i * kLimbBytes < 32; ++i) {
    auto v = limb[i];
    for (std::size_t b = 0; b < kLimbBytes; ++b) {
      out[31 - i * kLimbBytes - b] = static_cast<std::uint8_t>(v & 0xff);
      v >>= 8;
    }
  }
}

void write_address(std::span<std::uint8_t, 32> out, const Address& address) {
  std::fill(out.begin(), out.begin() + 12, 0);
  auto evm = address.evm();
  std::copy(evm.begin(), evm.end(), out.begin() + 12);
}

std::array<std::uint8_t, 32> encode_uint256(const U256& value) {
  std::array<std::uint8_t, 32> out;
  write_uint256(out, value);
  return out;
}

std::array<std::uint8_t, 32> encode_address(const Address& address) {
  std::array<std::uint8_t, 32> out;
  write_address(out, address);
  return out;
}

void write_transfer_call(std::span<std::uint8_t, kTransferCallSize> out, const Address& to,
                         const U256& amount) {
  std::copy(kTransferSelector.begin(), kTransferSelector.end(), out.begin());
  write_address(out.subspan<4, 32>(), to);
  write_uint256(out.subspan<36, 32>(), amount);
}

Bytes encode_transfer(const Address& to, const U256& amount) {
  Bytes out(kTransferCallSize);
  write_transfer_call(std::span<std::uint8_t, kTransferCallSize>(out.data(), kTransferCallSize),
                      to, amount);
  return out;
}

Bytes encode_balance_of(const Address& owner) {
  Bytes out(36);
  std::copy(kBalanceOfSelector.begin(), kBalanceOfSelector.end(), out.begin());
  write_address(std::span<std::uint8_t, 32>(out.data() + 4, 32), owner);
  return out;
}

Bytes encode_decimals() { return Bytes(kDecimalsSelector.begin(), kDecimalsSelector.end()); }

std::optional<TransferCall> try_decode_transfer(std::span<const std::uint8_t> data) {
  if (data.size() != kTransferCallSize) return std::nullopt;
  if (!std::equal(kTransferSelector.begin(), kTransferSelector.end(), data.begin())) {
    return std::nullopt;
  }
  if (!all_zero(data.subspan(4, 12))) return std::nullopt;
  auto to = Address::from_bytes(data.subspan(16, 20));
  if (!to) return std::nullopt;
  return TransferCall{*to, read_word(data.subspan(36, 32))};
}

TransferCall decode_transfer(std::span<const std::uint8_t> data) {
  if (data.size() != kTransferCallSize) {
    throw std::invalid_argument("transfer calldata must be 68 bytes, got " +
                                std::to_string(data.size()));
  }
  if (!std::equal(kTransferSelector.begin(), kTransferSelector.end(), data.begin())) {
    throw std::invalid_argument("calldata does not call transfer(address,uint256)");
  }
  auto call = try_decode_transfer(data);
  if (!call) throw std::invalid_argument("transfer calldata has a malformed address word");
  return *call;
}

U256 decode_uint256(std::span<const std::uint8_t> result) {
  if (result.size() < 32) {
    throw std::invalid_argument("a uint256 result needs 32 bytes, got " +
                                std::to_string(result.size()));
  }
  return read_word(result.first(32));
}

Address decode_address(std::span<const std::uint8_t> word) {
  if (word.size() < 32) throw std::invalid_argument("an address word needs 32 bytes");
  if (!all_zero(word.first(12))) {
    throw std::invalid_argument("an address word must have 12 leading zero bytes");
  }
  return *Address::from_bytes(word.subspan(12, 20));
}

Bytes encode_revert_reason(std::string_view reason) {
  const std::size_t padded = (reason.size() + 31) / 32 * 32;
  Bytes out(4 + 32 + 32 + padded, 0);
  std::copy(kErrorSelector.begin(), kErrorSelector.end(), out.begin());
  write_uint256(std::span<std::uint8_t, 32>(out.data() + 4, 32), 32);
  write_uint256(std::span<std::uint8_t, 32>(out.data() + 36, 32), reason.size());
  std::copy(reason.begin(), reason.end(), out.begin() + 68);
  return out;
}

std::optional<std::string> decode_revert_reason(std::span<const std::uint8_t> data) {
  if (data.size() < 68) return std::nullopt;
  if (!std::equal(kErrorSelector.begin(), kErrorSelector.end(), data.begin())) {
    return std::nullopt;
  }
  auto body = data.subspan(4);
  const U256 offset = read_word(body.first(32));
  if (offset > body.size() - 32) return std::nullopt;
  const std::size_t at = static_cast<std::size_t>(offset);
  const U256 length = read_word(body.subspan(at, 32));
  if (length > body.size() - at - 32) return std::nullopt;
  auto text = body.subspan(at + 32, static_cast<std::size_t>(length));
  return std::string(text.begin(), text.end());
}

U256 parse_amount(std::string_view text) { return parse_units(text, 0); }

U256 parse_units(std::string_view text, unsigned decimals) {
  if (text.empty()) throw bad_amount(text, "empty");
  std::string_view whole = text;
  std::string_view fraction;
  if (auto dot = text.find('.'); dot != std::string_view::npos) {
    whole = text.substr(0, dot);
    fraction = text.substr(dot + 1);
    if (fraction.empty()) throw bad_amount(text, "nothing after the decimal point");
  }
  if (whole.empty()) throw bad_amount(text, "no digits before the decimal point");
  auto digits_only = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits_only(whole) || !digits_only(fraction)) {
    throw bad_amount(text, "only decimal digits are allowed");
  }
  if (fraction.size() > decimals) {
    throw bad_amount(text, decimals == 0 ? "must be a whole number of base units"
                                         : "more than " + std::to_string(decimals) +
                                               " digits after the decimal point");
  }
  // Accumulate in a 512-bit integer so that overflow is detected exactly.
  using boost::multiprecision::uint512_t;
  static const uint512_t kMax = uint512_t(std::numeric_limits<U256>::max());
  uint512_t value = 0;
  auto push = [&](char c) {
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > kMax) throw bad_amount(text, "too large (more than 2^256-1 base units)");
  };
  for (char c : whole) push(c);
  for (char c : fraction) push(c);
  for (std::size_t i = fraction.size(); i < decimals; ++i) push('0');
  return static_cast<U256>(value);
}

std::string to_decimal(const U256& value) { return value.str(); }

std::string format_units(const U256& amount, unsigned decimals) {
  std::string digits = amount.str();
  if (decimals == 0) return digits;
  if (digits.size() <= decimals) digits.insert(0, decimals + 1 - digits.size(), '0');
  std::string whole = digits.substr(0, digits.size() - decimals);
  std::string fraction = digits.substr(digits.size() - decimals);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  return fraction.empty() ? whole : whole + "." + fraction;
}

}  // namespace tron::abi
