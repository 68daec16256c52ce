#include "tron/base58.hpp"

#include <algorithm>
#include <cstring>

#include "tron/hashes.hpp"

namespace tron {

namespace {
constexpr char kAlphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

int digit_value(char c) {
  const char* p = std::strchr(kAlphabet, c);
  return (p && c != '\0') ? static_cast<int>(p - kAlphabet) : -1;
}

std::array<std::uint8_t, 4> checksum(std::span<const std::uint8_t> payload) {
  Hash32 once = sha256(payload);
  Hash32 twice = sha256(once);
  return {twice[0], twice[1], twice[2], twice[3]};
}
}  // namespace

std::string base58_encode(std::span<const std::uint8_t> data) {
  std::size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // Base-58 digits, least significant first; log(256)/log(58) < 1.37.
  std::vector<std::uint8_t> digits;
  digits.reserve(data.size() * 137 / 100 + 1);
  for (std::size_t i = zeros; i < data.size(); ++i) {
    int carry = data[i];
    for (auto& d : digits) {
      carry += d << 8;
      d = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kAlphabet[*it]);
  return out;
}

std::optional<Bytes> base58_decode(std::string_view text) {
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  std::vector<std::uint8_t> bytes;  // least significant first
  bytes.reserve(text.size());
  for (std::size_t i = ones; i < text.size(); ++i) {
    int carry = digit_value(text[i]);
    if (carry < 0) return std::nullopt;
    for (auto& b : bytes) {
      carry += b * 58;
      b = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(ones, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

std::string base58check_encode(std::span<const std::uint8_t> payload) {
  Bytes buf(payload.begin(), payload.end());
  auto sum = checksum(payload);
  buf.insert(buf.end(), sum.begin(), sum.end());
  return base58_encode(buf);
}

std::optional<Bytes> base58check_decode(std::string_view text) {
  auto raw = base58_decode(text);
  if (!raw || raw->size() < 4) return std::nullopt;
  std::span<const std::uint8_t> payload(raw->data(), raw->size() - 4);
  auto sum = checksum(payload);
  if (!std::equal(sum.begin(), sum.end(), raw->end() - 4)) return std::nullopt;
  raw->resize(raw->size() - 4);
  return raw;
}

}  // namespace tron
