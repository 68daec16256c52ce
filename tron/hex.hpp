#pragma once
// Byte buffers and hexadecimal text.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tron {

using Bytes = std::vector<std::uint8_t>;

// Lower-case hex, two digits a byte.
std::string to_hex(std::span<const std::uint8_t> bytes);

// Parses hex (either case, optional "0x" prefix). Throws std::invalid_argument on odd length
// or a non-hex digit.
Bytes from_hex(std::string_view text);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace tron
