#pragma once
// Hexadecimal text for byte strings. The one hex codec of the project: p2p and tron use it.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace base {

using Bytes = std::vector<std::uint8_t>;

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Lowercase hex, two digits a byte.
std::string to_hex(std::span<const std::uint8_t> bytes);
inline std::string to_hex(std::string_view bytes) { return to_hex(as_bytes(bytes)); }

// Decodes upper- or lowercase hex (no prefix); nullopt on an odd length or a non-hex character.
std::optional<Bytes> parse_hex(std::string_view hex);

// Decodes exactly out.size() bytes of hex into out; false (out unspecified) otherwise.
bool from_hex_into(std::string_view hex, std::span<std::uint8_t> out);

}  // namespace base
