#pragma once
// The uTP (BEP 29) packet header: 20 bytes, then a chain of extensions, then the payload.
// Only the selective-ack extension is read; others are skipped. Every length is checked
// against the datagram.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace p2p::utp {

enum class Type : std::uint8_t { data = 0, fin = 1, state = 2, reset = 3, syn = 4 };

constexpr std::size_t kHeaderSize = 20;
constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kMaxSackBytes = 32;  // acks for up to 256 packets past ack_nr + 1

struct Header {
  Type type = Type::data;
  std::uint16_t conn_id = 0;
  std::uint32_t timestamp = 0;       // microseconds, the sender's clock
  std::uint32_t timestamp_diff = 0;  // the sender's clock minus our last timestamp it saw
  std::uint32_t wnd = 0;             // receive window, bytes
  std::uint16_t seq = 0;
  std::uint16_t ack = 0;
};

struct Packet {
  Header h;
  // Bit i (byte i / 8, bit i % 8, lowest first) acknowledges ack + 2 + i.
  std::array<std::uint8_t, kMaxSackBytes> sack{};
  std::size_t sack_len = 0;
  std::span<const std::uint8_t> payload;
  bool sacked(std::size_t i) const { return i / 8 < sack_len && (sack[i / 8] >> (i % 8)) & 1; }
};

// Whether a datagram claims to be uTP: version 1 in the low nibble, a known type above it.
inline bool looks_like_utp(std::span<const std::uint8_t> d) {
  return d.size() >= kHeaderSize && (d[0] & 0x0f) == kVersion && (d[0] >> 4) <= 4;
}

// nullopt for anything malformed: short, wrong version, unknown type, a bad extension chain.
// A selective ack longer than kMaxSackBytes keeps its first kMaxSackBytes.
std::optional<Packet> parse(std::span<const std::uint8_t> datagram);

// Writes the header and, when sack is not empty, the selective-ack extension (its length
// rounded up to a multiple of 4, at most kMaxSackBytes). `out` must hold
// kHeaderSize + 2 + kMaxSackBytes. Returns the bytes written.
std::size_t write_header(const Header& h, std::span<const std::uint8_t> sack, std::uint8_t* out);

// Sequence numbers wrap at 16 bits: a is before b when b - a is below half the space.
inline bool seq_less(std::uint16_t a, std::uint16_t b) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(a - b)) < 0;
}

}  // namespace p2p::utp
