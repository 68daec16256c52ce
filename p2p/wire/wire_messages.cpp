#include "p2p/wire/wire_messages.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

namespace p2p::wire {

namespace {

constexpr char kProtocol[] = "\x13" "BitTorrent protocol";

std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

void write_u32(std::uint8_t* p, std::uint32_t v) {
  p[0] = std::uint8_t(v >> 24);
  p[1] = std::uint8_t(v >> 16);
  p[2] = std::uint8_t(v >> 8);
  p[3] = std::uint8_t(v);
}

void append_u32(Bytes& out, std::uint32_t v) {
  std::uint8_t b[4];
  write_u32(b, v);
  out.insert(out.end(), b, b + 4);
}

ParseResult fail(std::string why) {
  ParseResult r;
  r.status = ParseStatus::error;
  r.error = std::move(why);
  return r;
}

}  // namespace

const char* msg_name(MsgId id) {
  switch (id) {
    case MsgId::choke: return "choke";
    case MsgId::unchoke: return "unchoke";
    case MsgId::interested: return "interested";
    case MsgId::not_interested: return "not_interested";
    case MsgId::have: return "have";
    case MsgId::bitfield: return "bitfield";
    case MsgId::request: return "request";
    case MsgId::piece: return "piece";
    case MsgId::cancel: return "cancel";
    case MsgId::port: return "port";
    case MsgId::suggest: return "suggest";
    case MsgId::have_all: return "have_all";
    case MsgId::have_none: return "have_none";
    case MsgId::reject: return "reject";
    case MsgId::allowed_fast: return "allowed_fast";
    case MsgId::extended: return "extended";
  }
  return "unknown";
}

void write_handshake(const Handshake& hs, std::uint8_t* out) {
  std::memcpy(out, kProtocol, 20);
  std::memcpy(out + 20, hs.reserved.data(), 8);
  std::memcpy(out + 28, hs.info_hash.data(), 20);
  std::memcpy(out + 48, hs.peer_id.data(), 20);
}

std::optional<Handshake> parse_handshake(std::span<const std::uint8_t> in) {
  if (in.size() < kHandshakeSize) return std::nullopt;
  if (std::memcmp(in.data(), kProtocol, 20) != 0) return std::nullopt;
  Handshake hs;
  std::memcpy(hs.reserved.data(), in.data() + 20, 8);
  std::memcpy(hs.info_hash.data(), in.data() + 28, 20);
  std::memcpy(hs.peer_id.data(), in.data() + 48, 20);
  return hs;
}

std::uint32_t Geometry::piece_size(std::uint32_t index) const {
  if (index >= num_pieces) return 0;
  if (index + 1 < num_pieces) return piece_length;
  std::uint64_t rest = total_size - std::uint64_t(piece_length) * (num_pieces - 1);
  return std::uint32_t(rest);
}

std::uint32_t max_message_length(const Geometry& geo) {
  std::uint32_t m = std::max<std::uint32_t>(kMaxRequestLength + 9, kMaxExtendedLength + 2);
  if (geo.num_pieces) m = std::max(m, geo.bitfield_bytes() + 1);
  return m;
}

ParseResult parse_message(std::span<const std::uint8_t> in, const Geometry& geo) {
  ParseResult r;
  if (in.size() < 4) {
    r.needed = 4;
    return r;
  }
  std::uint32_t len = read_u32(in.data());
  if (len == 0) {
    r.status = ParseStatus::ok;
    r.consumed = 4;
    r.msg.keep_alive = true;
    return r;
  }
  if (len > max_message_length(geo)) {
    return fail("message length " + std::to_string(len) + " exceeds the limit");
  }
  if (in.size() < 5) {
    r.needed = std::size_t(len) + 4;
    return r;
  }
  // Check sizes of fixed-size messages before waiting for their body, so a peer cannot
  // make us wait for a bogus length.
  auto id = static_cast<MsgId>(in[4]);
  std::uint32_t body = len - 1;
  auto expect = [&](std::uint32_t n) { return body == n; };
  bool has_geo = geo.num_pieces > 0;
  switch (id) {
    case MsgId::choke:
    case MsgId::unchoke:
    case MsgId::interested:
    case MsgId::not_interested:
    case MsgId::have_all:
    case MsgId::have_none:
      if (!expect(0)) return fail(std::string(msg_name(id)) + " with a body");
      break;
    case MsgId::have:
    case MsgId::suggest:
    case MsgId::allowed_fast:
      if (!expect(4)) return fail(std::string(msg_name(id)) + " of wrong size");
      break;
    case MsgId::request:
    case MsgId::cancel:
    case MsgId::reject:
      if (!expect(12)) return fail(std::string(msg_name(id)) + " of wrong size");
      break;
    case MsgId::port:
      if (!expect(2)) return fail("port of wrong size");
      break;
    case MsgId::bitfield:
      if (has_geo && body != geo.bitfield_bytes()) {
        return fail("bitfield of " + std::to_string(body) + " bytes, expected " +
                    std::to_string(geo.bitfield_bytes()));
      }
      break;
    case MsgId::piece:
      if (body < 8) return fail("piece message too short");
      if (body - 8 > kMaxRequestLength) return fail("piece block too large");
      break;
    case MsgId::extended:
      if (body < 1) return fail("extended message without id");
      if (body > kMaxExtendedLength + 1) return fail("extended message too large");
      break;
    default:
      // Unknown ids are skipped by the caller (consumed), as BEP 3 peers should be lenient
      // to future messages, but only within the length bound checked above.
      break;
  }
  if (in.size() < std::size_t(len) + 4) {
    r.needed = std::size_t(len) + 4;
    return r;
  }
  const std::uint8_t* p = in.data() + 5;
  Message& m = r.msg;
  m.id = id;
  switch (id) {
    case MsgId::have:
    case MsgId::suggest:
    case MsgId::allowed_fast:
      m.index = read_u32(p);
      if (has_geo && m.index >= geo.num_pieces) {
        return fail(std::string(msg_name(id)) + " index out of range");
      }
      if (!has_geo && id != MsgId::have) return fail("piece message before metadata");
      if (!has_geo && m.index >= kMaxPiecesBeforeMetadata) {
        return fail("have index " + std::to_string(m.index) + " beyond any torrent's size");
      }
      break;
    case MsgId::request:
    case MsgId::cancel:
    case MsgId::reject: {
      m.index = read_u32(p);
      m.begin = read_u32(p + 4);
      m.length = read_u32(p + 8);
      if (!has_geo) return fail("request before metadata");
      if (m.index >= geo.num_pieces) return fail("request index out of range");
      if (m.length == 0 || m.length > kMaxRequestLength) return fail("request length invalid");
      std::uint64_t end = std::uint64_t(m.begin) + m.length;
      if (end > geo.piece_size(m.index)) return fail("request beyond the end of the piece");
      break;
    }
    case MsgId::piece: {
      m.index = read_u32(p);
      m.begin = read_u32(p + 4);
      m.length = body - 8;
      m.payload = std::span<const std::uint8_t>(p + 8, m.length);
      if (!has_geo) return fail("piece before metadata");
      if (m.index >= geo.num_pieces) return fail("piece index out of range");
      std::uint64_t end = std::uint64_t(m.begin) + m.length;
      if (m.length == 0 || end > geo.piece_size(m.index)) return fail("piece block out of range");
      break;
    }
    case MsgId::bitfield:
      m.payload = std::span<const std::uint8_t>(p, body);
      if (has_geo && geo.num_pieces % 8 != 0 && body > 0) {
        std::uint8_t spare = std::uint8_t(0xff >> (geo.num_pieces % 8));
        if (p[body - 1] & spare) return fail("bitfield has spare bits set");
      }
      break;
    case MsgId::port:
      m.port = std::uint16_t((p[0] << 8) | p[1]);
      break;
    case MsgId::extended:
      m.ext_id = p[0];
      m.payload = std::span<const std::uint8_t>(p + 1, body - 1);
      break;
    default:
      m.payload = std::span<const std::uint8_t>(p, body);
      break;
  }
  r.status = ParseStatus::ok;
  r.consumed = std::size_t(len) + 4;
  return r;
}

void put_keep_alive(Bytes& out) { append_u32(out, 0); }

void put_simple(Bytes& out, MsgId id) {
  append_u32(out, 1);
  out.push_back(std::uint8_t(id));
}

void put_have(Bytes& out, std::uint32_t index) { put_index(out, MsgId::have, index); }

void put_index(Bytes& out, MsgId id, std::uint32_t index) {
  append_u32(out, 5);
  out.push_back(std::uint8_t(id));
  append_u32(out, index);
}

void put_bitfield(Bytes& out, std::span<const std::uint8_t> bits) {
  append_u32(out, std::uint32_t(bits.size() + 1));
  out.push_back(std::uint8_t(MsgId::bitfield));
  out.insert(out.end(), bits.begin(), bits.end());
}

void put_request(Bytes& out, MsgId id, std::uint32_t index, std::uint32_t begin,
                 std::uint32_t length) {
  append_u32(out, 13);
  out.push_back(std::uint8_t(id));
  append_u32(out, index);
  append_u32(out, begin);
  append_u32(out, length);
}

void write_piece_header(std::uint8_t* out, std::uint32_t index, std::uint32_t begin,
                        std::uint32_t length) {
  write_u32(out, length + 9);
  out[4] = std::uint8_t(MsgId::piece);
  write_u32(out + 5, index);
  write_u32(out + 9, begin);
}

void put_piece(Bytes& out, std::uint32_t index, std::uint32_t begin,
               std::span<const std::uint8_t> data) {
  std::uint8_t h[kPieceHeaderSize];
  write_piece_header(h, index, begin, std::uint32_t(data.size()));
  out.insert(out.end(), h, h + kPieceHeaderSize);
  out.insert(out.end(), data.begin(), data.end());
}

void put_port(Bytes& out, std::uint16_t port) {
  append_u32(out, 3);
  out.push_back(std::uint8_t(MsgId::port));
  out.push_back(std::uint8_t(port >> 8));
  out.push_back(std::uint8_t(port));
}

void put_extended(Bytes& out, std::uint8_t ext_id, std::span<const std::uint8_t> body) {
  append_u32(out, std::uint32_t(body.size() + 2));
  out.push_back(std::uint8_t(MsgId::extended));
  out.push_back(ext_id);
  out.insert(out.end(), body.begin(), body.end());
}

std::vector<std::uint32_t> allowed_fast_set(std::span<const std::uint8_t> ipv4,
                                            const Hash20& info_hash, std::uint32_t num_pieces,
                                            std::size_t k) {
  std::vector<std::uint32_t> out;
  if (ipv4.size() != 4 || num_pieces == 0) return out;
  k = std::min<std::size_t>(k, num_pieces);
  // BEP 6: x = (ip & 0xffffff00) || info_hash, then repeatedly hash and take 4-byte words.
  std::uint8_t x[24];
  x[0] = ipv4[0];
  x[1] = ipv4[1];
  x[2] = ipv4[2];
  x[3] = 0;
  std::memcpy(x + 4, info_hash.data(), 20);
  std::uint8_t digest[20];
  SHA1(x, 24, digest);
  while (out.size() < k) {
    for (int i = 0; i < 5 && out.size() < k; ++i) {
      std::uint32_t y = read_u32(digest + 4 * i) % num_pieces;
      if (std::find(out.begin(), out.end(), y) == out.end()) out.push_back(y);
    }
    if (out.size() < k) {
      std::uint8_t next[20];
      SHA1(digest, 20, next);
      std::memcpy(digest, next, 20);
    }
  }
  return out;
}

}  // namespace p2p::wire
