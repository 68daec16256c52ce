#pragma once
// Hex encoding for the p2p library (it does not use tron/'s helpers).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace p2p {

// Lowercase hex of the bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);
inline std::string to_hex(std::string_view bytes) {
  return to_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

// Decodes upper- or lowercase hex; nullopt on an odd length or a non-hex character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

// Decodes exactly out.size() bytes of hex into out; false (out unspecified) otherwise.
bool from_hex_into(std::string_view hex, std::span<std::uint8_t> out);

}  // namespace p2p
