#pragma once
// Base58 (Bitcoin alphabet) and base58check (4-byte double-SHA-256 checksum).
#include <optional>
#include <string>
#include <string_view>

#include "tron/hex.hpp"

namespace tron {

std::string base58_encode(std::span<const std::uint8_t> data);
std::optional<Bytes> base58_decode(std::string_view text);

std::string base58check_encode(std::span<const std::uint8_t> payload);
// nullopt on a bad character or a checksum mismatch.
std::optional<Bytes> base58check_decode(std::string_view text);

}  // namespace tron
