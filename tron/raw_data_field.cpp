#include "tron/raw_data_field.hpp"

namespace tron {

namespace {

bool read_varint(std::span<const std::uint8_t> b, std::size_t& pos, std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= b.size()) return false;
    std::uint8_t byte = b[pos++];
    out |= std::uint64_t(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

std::optional<std::span<const std::uint8_t>> raw_data_field(std::span<const std::uint8_t> tx) {
  std::optional<std::span<const std::uint8_t>> found;
  std::size_t pos = 0;
  while (pos < tx.size()) {
    std::uint64_t key = 0;
    if (!read_varint(tx, pos, key)) return std::nullopt;
    const std::uint64_t field = key >> 3;
    switch (key & 7) {
      case 0: {  // varint
        std::uint64_t ignored = 0;
        if (!read_varint(tx, pos, ignored)) return std::nullopt;
        break;
      }
      case 1:  // 64-bit
        if (tx.size() - pos < 8) return std::nullopt;
        pos += 8;
        break;
      case 2: {  // length-delimited
        std::uint64_t len = 0;
        if (!read_varint(tx, pos, len) || len > tx.size() - pos) return std::nullopt;
        if (field == 1) found = tx.subspan(pos, std::size_t(len));
        pos += std::size_t(len);
        break;
      }
      case 5:  // 32-bit
        if (tx.size() - pos < 4) return std::nullopt;
        pos += 4;
        break;
      default:
        return std::nullopt;
    }
  }
  return found;
}

}  // namespace tron
