#include <gtest/gtest.h>

#include <cstring>

#include "p2p/wire/wire_messages.hpp"

using namespace p2p::wire;

namespace {

Geometry geo(std::uint32_t pieces = 10, std::uint32_t plen = 32768, std::uint64_t total = 0) {
  Geometry g;
  g.num_pieces = pieces;
  g.piece_length = plen;
  g.total_size = total ? total : std::uint64_t(pieces) * plen - 1000;  // short last piece
  return g;
}

ParseResult parse(const Bytes& b, const Geometry& g = geo()) {
  return parse_message(std::span<const std::uint8_t>(b.data(), b.size()), g);
}

}  // namespace

TEST(Wire, HandshakeRoundTripWithReservedBits) {
  Handshake hs;
  hs.set_extensions(true);
  hs.set_fast(true);
  hs.info_hash.fill(0xab);
  hs.peer_id.fill('x');
  std::uint8_t buf[kHandshakeSize];
  write_handshake(hs, buf);
  EXPECT_EQ(buf[0], 19);
  EXPECT_EQ(std::memcmp(buf + 1, "BitTorrent protocol", 19), 0);
  EXPECT_EQ(buf[20 + 5], 0x10);
  EXPECT_EQ(buf[20 + 7], 0x04);
  auto back = parse_handshake(std::span<const std::uint8_t>(buf, sizeof buf));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->supports_extensions());
  EXPECT_TRUE(back->supports_fast());
  EXPECT_EQ(back->info_hash, hs.info_hash);
  EXPECT_EQ(back->peer_id, hs.peer_id);
  buf[3] = 'X';
  EXPECT_FALSE(parse_handshake(std::span<const std::uint8_t>(buf, sizeof buf)));
}

TEST(Wire, HandshakeWithoutFastBit) {
  Handshake hs;
  hs.set_extensions(true);
  EXPECT_FALSE(hs.supports_fast());
  hs.set_fast(true);
  hs.set_fast(false);
  EXPECT_FALSE(hs.supports_fast());
  EXPECT_TRUE(hs.supports_extensions());
}

TEST(Wire, SimpleMessagesRoundTrip) {
  for (MsgId id : {MsgId::choke, MsgId::unchoke, MsgId::interested, MsgId::not_interested,
                   MsgId::have_all, MsgId::have_none}) {
    Bytes b;
    put_simple(b, id);
    auto r = parse(b);
    ASSERT_EQ(r.status, ParseStatus::ok) << r.error;
    EXPECT_EQ(r.msg.id, id);
    EXPECT_EQ(r.consumed, 5u);
  }
}

TEST(Wire, KeepAlive) {
  Bytes b;
  put_keep_alive(b);
  auto r = parse(b);
  ASSERT_EQ(r.status, ParseStatus::ok);
  EXPECT_TRUE(r.msg.keep_alive);
  EXPECT_EQ(r.consumed, 4u);
}

TEST(Wire, NeedMoreReportsTotal) {
  Bytes b;
  put_request(b, MsgId::request, 1, 0, kBlockSize);
  for (std::size_t n = 0; n < b.size(); ++n) {
    auto r = parse_message(std::span<const std::uint8_t>(b.data(), n), geo());
    EXPECT_EQ(r.status, ParseStatus::need_more) << n;
    EXPECT_EQ(r.consumed, 0u);
  }
  auto r = parse(b);
  ASSERT_EQ(r.status, ParseStatus::ok);
  EXPECT_EQ(r.msg.index, 1u);
  EXPECT_EQ(r.msg.begin, 0u);
  EXPECT_EQ(r.msg.length, kBlockSize);
}

TEST(Wire, RequestBounds) {
  auto g = geo();
  Bytes b;
  put_request(b, MsgId::request, 10, 0, kBlockSize);  // index out of range
  EXPECT_EQ(parse(b, g).status, ParseStatus::error);
  b.clear();
  put_request(b, MsgId::request, 9, 16384, 16384);  // past the short last piece
  EXPECT_EQ(parse(b, g).status, ParseStatus::error);
  b.clear();
  put_request(b, MsgId::request, 9, 16384, 16384 - 1000);  // exactly the end
  EXPECT_EQ(parse(b, g).status, ParseStatus::ok);
  b.clear();
  put_request(b, MsgId::request, 0, 0, 0);
  EXPECT_EQ(parse(b, g).status, ParseStatus::error);
  b.clear();
  put_request(b, MsgId::request, 0, 0xffffffffu, 16);  // overflowing begin+length
  EXPECT_EQ(parse(b, g).status, ParseStatus::error);
  b.clear();
  put_request(b, MsgId::cancel, 3, 0, 16384);
  auto r = parse(b, g);
  ASSERT_EQ(r.status, ParseStatus::ok);
  EXPECT_EQ(r.msg.id, MsgId::cancel);
}

TEST(Wire, RequestTooLarge) {
  Bytes b;
  put_request(b, MsgId::request, 0, 0, kMaxRequestLength + 1);
  EXPECT_EQ(parse(b, geo(10, 1 << 20)).status, ParseStatus::error);
}

TEST(Wire, RequestBeforeMetadataRefused) {
  Bytes b;
  put_request(b, MsgId::request, 0, 0, kBlockSize);
  EXPECT_EQ(parse(b, Geometry{}).status, ParseStatus::error);
}

TEST(Wire, BitfieldSizeAndSpareBits) {
  auto g = geo(10);  // two bytes, 6 spare bits
  Bytes b;
  std::uint8_t ok[2] = {0xff, 0xc0};
  put_bitfield(b, ok);
  auto r = parse(b, g);
  ASSERT_EQ(r.status, ParseStatus::ok) << r.error;
  ASSERT_EQ(r.msg.payload.size(), 2u);
  EXPECT_EQ(r.msg.payload[1], 0xc0);

  b.clear();
  std::uint8_t spare[2] = {0xff, 0xe0};
  put_bitfield(b, spare);
  EXPECT_EQ(parse(b, g).status, ParseStatus::error);

  b.clear();
  std::uint8_t longer[3] = {0xff, 0xc0, 0};
  put_bitfield(b, longer);
  EXPECT_EQ(parse(b, g).status, ParseStatus::error);
}

TEST(Wire, PieceMessagePayloadPointsIntoBuffer) {
  Bytes data(1000, 0x5a);
  Bytes b;
  put_piece(b, 2, 16384, data);
  auto r = parse(b);
  ASSERT_EQ(r.status, ParseStatus::ok) << r.error;
  EXPECT_EQ(r.msg.id, MsgId::piece);
  EXPECT_EQ(r.msg.index, 2u);
  EXPECT_EQ(r.msg.begin, 16384u);
  EXPECT_EQ(r.msg.length, 1000u);
  EXPECT_EQ(r.msg.payload.data(), b.data() + 13);
  std::uint8_t h[kPieceHeaderSize];
  write_piece_header(h, 2, 16384, 1000);
  EXPECT_EQ(std::memcmp(h, b.data(), kPieceHeaderSize), 0);
}

TEST(Wire, PieceOutOfRange) {
  Bytes data(100, 1);
  Bytes b;
  put_piece(b, 9, 32768 - 1000 - 50, data);  // runs past the short last piece
  EXPECT_EQ(parse(b).status, ParseStatus::error);
}

TEST(Wire, OversizedLengthRejectedBeforeBody) {
  Bytes b = {0x7f, 0xff, 0xff, 0xff, 7};
  auto r = parse(b);
  EXPECT_EQ(r.status, ParseStatus::error);
  // A fixed-size message with a wrong length is refused before its body arrives.
  Bytes c = {0, 0, 0x10, 0, 4};
  EXPECT_EQ(parse(c).status, ParseStatus::error);
}

TEST(Wire, HaveIndexChecked) {
  Bytes b;
  put_have(b, 9);
  EXPECT_EQ(parse(b).status, ParseStatus::ok);
  b.clear();
  put_have(b, 10);
  EXPECT_EQ(parse(b).status, ParseStatus::error);
}

TEST(Wire, ExtendedAndPort) {
  Bytes body = {'d', 'e'};
  Bytes b;
  put_extended(b, 3, body);
  put_port(b, 6881);
  auto r = parse(b);
  ASSERT_EQ(r.status, ParseStatus::ok);
  EXPECT_EQ(r.msg.id, MsgId::extended);
  EXPECT_EQ(r.msg.ext_id, 3);
  ASSERT_EQ(r.msg.payload.size(), 2u);
  auto rest = std::span<const std::uint8_t>(b).subspan(r.consumed);
  auto r2 = parse_message(rest, geo());
  ASSERT_EQ(r2.status, ParseStatus::ok);
  EXPECT_EQ(r2.msg.id, MsgId::port);
  EXPECT_EQ(r2.msg.port, 6881);
}

TEST(Wire, UnknownMessageSkipped) {
  Bytes b = {0, 0, 0, 3, 99, 1, 2};
  auto r = parse(b);
  ASSERT_EQ(r.status, ParseStatus::ok);
  EXPECT_EQ(r.consumed, 7u);
}

TEST(Wire, AllowedFastBep6Vector) {
  Hash20 ih;
  ih.fill(0xaa);
  std::uint8_t ip[4] = {80, 4, 4, 200};
  auto set7 = allowed_fast_set(ip, ih, 1313, 7);
  EXPECT_EQ(set7, (std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188}));
  auto set9 = allowed_fast_set(ip, ih, 1313, 9);
  EXPECT_EQ(set9, (std::vector<std::uint32_t>{1059, 431, 808, 1217, 287, 376, 1188, 353, 508}));
}

TEST(Wire, RandomBytesNeverCrash) {
  std::uint32_t seed = 12345;
  for (int round = 0; round < 20000; ++round) {
    Bytes b(1 + (round % 40));
    for (auto& c : b) {
      seed = seed * 1103515245 + 12345;
      c = std::uint8_t(seed >> 16);
    }
    if (b.size() >= 4) b[0] = b[1] = 0;  // keep lengths small enough to complete often
    auto r = parse(b);
    if (r.status == ParseStatus::ok) {
      EXPECT_LE(r.consumed, b.size());
    }
  }
}
