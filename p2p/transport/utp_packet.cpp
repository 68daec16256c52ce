#include "p2p/transport/utp_packet.hpp"

#include <algorithm>
#include <cstring>

namespace p2p::utp {

namespace {
std::uint16_t get16(const std::uint8_t* p) {
  return std::uint16_t(p[0] << 8 | p[1]);
}
std::uint32_t get32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = std::uint8_t(v >> 8);
  p[1] = std::uint8_t(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  p[0] = std::uint8_t(v >> 24);
  p[1] = std::uint8_t(v >> 16);
  p[2] = std::uint8_t(v >> 8);
  p[3] = std::uint8_t(v);
}
constexpr std::uint8_t kExtSack = 1;
}  // namespace

std::optional<Packet> parse(std::span<const std::uint8_t> d) {
  if (!looks_like_utp(d)) return std::nullopt;
  Packet p;
  p.h.type = Type(d[0] >> 4);
  p.h.conn_id = get16(&d[2]);
  p.h.timestamp = get32(&d[4]);
  p.h.timestamp_diff = get32(&d[8]);
  p.h.wnd = get32(&d[12]);
  p.h.seq = get16(&d[16]);
  p.h.ack = get16(&d[18]);
  std::size_t at = kHeaderSize;
  std::uint8_t ext = d[1];
  // Each extension is at least two bytes, so the chain ends within the datagram.
  while (ext != 0) {
    if (at + 2 > d.size()) return std::nullopt;
    std::uint8_t next = d[at];
    std::size_t len = d[at + 1];
    at += 2;
    if (at + len > d.size()) return std::nullopt;
    if (ext == kExtSack) {
      if (len == 0) return std::nullopt;
      p.sack_len = std::min(len, kMaxSackBytes);
      std::memcpy(p.sack.data(), &d[at], p.sack_len);
    }
    at += len;
    ext = next;
  }
  p.payload = d.subspan(at);
  return p;
}

std::size_t write_header(const Header& h, std::span<const std::uint8_t> sack, std::uint8_t* out) {
  std::size_t n = std::min(sack.size(), kMaxSackBytes);
  out[0] = std::uint8_t(std::uint8_t(h.type) << 4 | kVersion);
  out[1] = n ? kExtSack : 0;
  put16(&out[2], h.conn_id);
  put32(&out[4], h.timestamp);
  put32(&out[8], h.timestamp_diff);
  put32(&out[12], h.wnd);
  put16(&out[16], h.seq);
  put16(&out[18], h.ack);
  if (!n) return kHeaderSize;
  std::size_t len = (n + 3) / 4 * 4;
  out[20] = 0;
  out[21] = std::uint8_t(len);
  std::memcpy(&out[22], sack.data(), n);
  std::memset(&out[22 + n], 0, len - n);
  return kHeaderSize + 2 + len;
}

}  // namespace p2p::utp
