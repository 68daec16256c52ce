#pragma once
// The raw_data field of a serialized Transaction, byte for byte as it was signed: its SHA-256
// is the txid. Parsing and re-serializing the message could change the bytes (field order,
// unknown fields), so the field is cut out of the wire form instead.
#include <cstdint>
#include <optional>
#include <span>

namespace tron {

// Field 1 (length-delimited) of a protobuf Transaction; nullopt if the bytes are not a well-
// formed message or hold no such field (the last one wins, as in protobuf).
std::optional<std::span<const std::uint8_t>> raw_data_field(std::span<const std::uint8_t> tx);

}  // namespace tron
