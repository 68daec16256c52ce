#pragma once
// The peer wire protocol as pure data: the handshake and the length-prefixed messages of
// BEP 3, the fast extension (BEP 6) and the extension protocol envelope (BEP 10). Parsing
// works on a byte buffer with no socket, so it can be unit-tested and fuzzed; every length
// and index is checked against the torrent's geometry when it is known.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace p2p::wire {

using Bytes = std::vector<std::uint8_t>;
using Hash20 = std::array<std::uint8_t, 20>;

inline constexpr std::uint32_t kBlockSize = 16 * 1024;
// Largest request we accept or send (BEP 3 suggests 16 KiB; some clients ask for 32 KiB).
inline constexpr std::uint32_t kMaxRequestLength = 128 * 1024;
// Largest extension message (metadata pieces are 16 KiB plus a small dictionary).
inline constexpr std::uint32_t kMaxExtendedLength = 1024 * 1024;
inline constexpr std::size_t kHandshakeSize = 68;
// Most pieces any torrent can have whose metadata we would fetch (32 MiB of info dictionary
// at 20 bytes a hash): the bound of a HAVE index before the metadata is known.
inline constexpr std::uint32_t kMaxPiecesBeforeMetadata = (32u << 20) / 20;

enum class MsgId : std::uint8_t {
  choke = 0,
  unchoke = 1,
  interested = 2,
  not_interested = 3,
  have = 4,
  bitfield = 5,
  request = 6,
  piece = 7,
  cancel = 8,
  port = 9,
  suggest = 13,
  have_all = 14,
  have_none = 15,
  reject = 16,
  allowed_fast = 17,
  extended = 20,
};

const char* msg_name(MsgId id);

// The 68-byte handshake. Reserved bits: extension protocol is 0x10 in byte 5, fast
// extension 0x04 in byte 7.
struct Handshake {
  std::array<std::uint8_t, 8> reserved{};
  Hash20 info_hash{};
  Hash20 peer_id{};

  bool supports_extensions() const { return (reserved[5] & 0x10) != 0; }
  bool supports_fast() const { return (reserved[7] & 0x04) != 0; }
  void set_extensions(bool on) { reserved[5] = on ? (reserved[5] | 0x10) : (reserved[5] & ~0x10); }
  void set_fast(bool on) { reserved[7] = on ? (reserved[7] | 0x04) : (reserved[7] & ~0x04); }
};

void write_handshake(const Handshake& hs, std::uint8_t* out /* kHandshakeSize bytes */);
// Returns nullopt if the buffer does not start with the BitTorrent protocol string.
std::optional<Handshake> parse_handshake(std::span<const std::uint8_t> in /* 68 bytes */);

// What we know of the torrent, to bound what a peer may say. num_pieces == 0 means the
// metadata is not known yet (magnet): piece-related messages are then refused except
// bitfield/have_all/have_none, which are kept raw for later.
struct Geometry {
  std::uint32_t num_pieces = 0;
  std::uint32_t piece_length = 0;
  std::uint64_t total_size = 0;

  std::uint32_t piece_size(std::uint32_t index) const;
  std::uint32_t bitfield_bytes() const { return (num_pieces + 7) / 8; }
};

// One decoded message. `payload` points into the caller's buffer and is valid only until
// that buffer changes: piece data, the raw bitfield, or the extended message body.
struct Message {
  bool keep_alive = false;
  MsgId id = MsgId::choke;
  std::uint32_t index = 0;
  std::uint32_t begin = 0;
  std::uint32_t length = 0;
  std::uint16_t port = 0;
  std::uint8_t ext_id = 0;
  std::span<const std::uint8_t> payload;
};

enum class ParseStatus { ok, need_more, error };

struct ParseResult {
  ParseStatus status = ParseStatus::need_more;
  std::size_t consumed = 0;  // bytes of the buffer this message used (when ok)
  std::size_t needed = 0;    // total bytes the next message needs (when need_more and known)
  std::string error;         // why the peer's data was refused (when error)
  Message msg;
};

// Decodes the first message in `in`. On need_more nothing is consumed. A message that
// breaks a limit is an error: the connection should be closed.
ParseResult parse_message(std::span<const std::uint8_t> in, const Geometry& geo);

// Largest message length we accept given the geometry (bitfield or a piece block).
std::uint32_t max_message_length(const Geometry& geo);

// Encoders append a complete message to `out`.
void put_keep_alive(Bytes& out);
void put_simple(Bytes& out, MsgId id);  // choke..not_interested, have_all, have_none
void put_have(Bytes& out, std::uint32_t index);
void put_bitfield(Bytes& out, std::span<const std::uint8_t> bits);
void put_request(Bytes& out, MsgId id, std::uint32_t index, std::uint32_t begin,
                 std::uint32_t length);  // request, cancel, reject
void put_piece(Bytes& out, std::uint32_t index, std::uint32_t begin,
               std::span<const std::uint8_t> data);
void put_port(Bytes& out, std::uint16_t port);
void put_index(Bytes& out, MsgId id, std::uint32_t index);  // suggest, allowed_fast, have
void put_extended(Bytes& out, std::uint8_t ext_id, std::span<const std::uint8_t> body);

// The 13-byte header of a piece message carrying `length` bytes, so the block itself can be
// sent from its own buffer in a gather write.
inline constexpr std::size_t kPieceHeaderSize = 13;
void write_piece_header(std::uint8_t* out, std::uint32_t index, std::uint32_t begin,
                        std::uint32_t length);

// BEP 6 allowed-fast set for a peer address (IPv4 as 4 bytes; IPv6 is not covered by the
// BEP and gets none), k pieces out of num_pieces.
std::vector<std::uint32_t> allowed_fast_set(std::span<const std::uint8_t> ipv4,
                                            const Hash20& info_hash, std::uint32_t num_pieces,
                                            std::size_t k);

}  // namespace p2p::wire
