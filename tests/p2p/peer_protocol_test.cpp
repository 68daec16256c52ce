// The peer protocol core with no sockets: bytes in, bytes and host calls out.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "p2p/peer/peer_protocol.hpp"
#include "p2p/wire/bencode.hpp"
#include "p2p/wire/metadata_exchange.hpp"
#include "p2p/wire/pex.hpp"
#include "protocol_host.hpp"

using namespace p2p;
using protocol_test::TestHost;
using wire::MsgId;

namespace {

PeerId their_id() {
  PeerId id{};
  id.fill(0xaa);
  return id;
}

struct Out {
  bool handshake = false;
  wire::Handshake hs;
  std::vector<wire::Message> msgs;
  std::vector<std::vector<std::uint8_t>> payloads;  // per message
  int count(MsgId id) const {
    return int(std::count_if(msgs.begin(), msgs.end(),
                             [&](const wire::Message& m) { return !m.keep_alive && m.id == id; }));
  }
  const wire::Message* find(MsgId id) const {
    for (const auto& m : msgs) {
      if (!m.keep_alive && m.id == id) return &m;
    }
    return nullptr;
  }
  std::size_t index_of(MsgId id) const {
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      if (!msgs[i].keep_alive && msgs[i].id == id) return i;
    }
    return msgs.size();
  }
};

class Fixture {
 public:
  explicit Fixture(bool incoming = true, std::unique_ptr<TestHost> h = nullptr)
      : host(h ? std::move(h) : std::make_unique<TestHost>()), proto(*host, settings(), incoming) {}

  static ProtocolSettings settings() {
    ProtocolSettings s;
    s.our_peer_id.fill(0x55);
    s.client_version = "test 1";
    s.max_refused_requests = 5;
    s.blocks_per_read = 4;
    return s;
  }

  // The peer's handshake.
  void peer_handshake(bool fast = true, bool ext = true, std::optional<InfoHash> ih = {}) {
    wire::Handshake hs;
    hs.set_fast(fast);
    hs.set_extensions(ext);
    hs.info_hash = ih ? *ih : host->ih;
    hs.peer_id = their_id();
    std::uint8_t b[wire::kHandshakeSize];
    wire::write_handshake(hs, b);
    proto.on_bytes(b);
  }
  void send(const wire::Bytes& b) { proto.on_bytes(b); }
  void simple(MsgId id) {
    wire::Bytes b;
    wire::put_simple(b, id);
    send(b);
  }
  void request(MsgId id, std::uint32_t piece, std::uint32_t begin, std::uint32_t len) {
    wire::Bytes b;
    wire::put_request(b, id, piece, begin, len);
    send(b);
  }
  void extended(std::uint8_t id, const std::string& body) {
    wire::Bytes b;
    wire::put_extended(b, id,
                       std::span<const std::uint8_t>(
                           reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
    send(b);
  }
  void ext_handshake(bencode::Dict m, std::int64_t metadata_size = -1) {
    bencode::Dict d;
    d["m"] = bencode::Value(std::move(m));
    d["v"] = std::string("peer 2");
    d["p"] = bencode::Integer(7001);
    d["reqq"] = bencode::Integer(77);
    if (metadata_size >= 0) d["metadata_size"] = bencode::Integer(metadata_size);
    extended(0, bencode::encode(bencode::Value(std::move(d))));
  }

  // Everything the protocol wrote since the last drain, decoded.
  Out drain() {
    Out o;
    while (true) {
      auto runs = proto.begin_write();
      if (runs.empty()) break;
      for (auto b : runs) written.insert(written.end(), b.begin(), b.end());
      proto.on_write_done();
    }
    std::span<const std::uint8_t> rest(written.data() + pos, written.size() - pos);
    if (!handshake_seen && rest.size() >= wire::kHandshakeSize) {
      o.handshake = true;
      o.hs = *wire::parse_handshake(rest.first(wire::kHandshakeSize));
      rest = rest.subspan(wire::kHandshakeSize);
      pos += wire::kHandshakeSize;
      handshake_seen = true;
    }
    while (!rest.empty()) {
      auto r = wire::parse_message(rest, host->geo);
      if (r.status != wire::ParseStatus::ok) break;
      o.msgs.push_back(r.msg);
      o.payloads.emplace_back(r.msg.payload.begin(), r.msg.payload.end());
      rest = rest.subspan(r.consumed);
      pos += r.consumed;
    }
    return o;
  }
  bool closed_with(CloseReason r) const {
    return proto.closed() && !host->closes.empty() && host->closes.front().first == r;
  }

  std::unique_ptr<TestHost> host;
  PeerProtocol proto;
  std::vector<std::uint8_t> written;
  std::size_t pos = 0;
  bool handshake_seen = false;
};

std::unique_ptr<TestHost> seed_host() {
  auto h = std::make_unique<TestHost>();
  h->make_seed();
  return h;
}

class NamedExtension : public TorrentExtension {
 public:
  struct Peer : PeerExtension {
    explicit Peer(NamedExtension& o) : owner(o) {}
    void on_message(std::string_view name, std::string_view body) override {
      owner.got.emplace_back(name, body);
    }
    void on_handshake(const bencode::Dict& d) override { owner.saw_handshake = d.count("v") > 0; }
    void add_handshake(bencode::Dict& d) override { d["x_test"] = bencode::Integer(5); }
    void on_disconnect() override { ++owner.disconnects; }
    void on_payload_sent(ByteCount n) override { owner.sent += n; }
    NamedExtension& owner;
  };
  std::vector<std::string> message_names() const override { return {"x_one", "x_two"}; }
  std::unique_ptr<PeerExtension> new_peer(PeerHandle&) override {
    return std::make_unique<Peer>(*this);
  }
  std::vector<std::pair<std::string, std::string>> got;
  bool saw_handshake = false;
  int disconnects = 0;
  ByteCount sent = 0;
};

class NullHandle : public PeerHandle {
 public:
  PeerStats stats() const override { return {}; }
  const PeerId& peer_id() const override { return id_; }
  std::string endpoint() const override { return "test"; }
  bool peer_supports(std::string_view) const override { return false; }
  bool send_extension_message(std::string_view, std::string_view) override { return false; }
  void set_choked_by_extension(bool) override {}
  void set_upload_priority(std::int64_t) override {}
  void disconnect(const std::string&) override {}
  void ban(const std::string&, int) override {}

 private:
  PeerId id_{};
};

}  // namespace

TEST(PeerProtocol, OutgoingSendsHandshakeFirst) {
  Fixture f(false);
  f.proto.start();
  auto o = f.drain();
  ASSERT_TRUE(o.handshake);
  EXPECT_TRUE(o.hs.supports_fast());
  EXPECT_TRUE(o.hs.supports_extensions());
  EXPECT_EQ(o.hs.info_hash, f.host->ih);
  EXPECT_EQ(o.hs.peer_id, Fixture::settings().our_peer_id);
  EXPECT_TRUE(o.msgs.empty());
  f.peer_handshake();
  EXPECT_TRUE(f.proto.handshake_done());
  o = f.drain();
  EXPECT_FALSE(o.handshake);  // not twice
  EXPECT_EQ(o.count(MsgId::extended), 1);
  EXPECT_EQ(o.count(MsgId::have_none), 1);  // a fast peer, and we have nothing
}

TEST(PeerProtocol, IncomingAnswersHandshakeWithBitfield) {
  auto h = std::make_unique<TestHost>();
  h->pieces->set_have(PieceIndex(1));
  Fixture f(true, std::move(h));
  f.proto.start();
  EXPECT_FALSE(f.proto.has_output());  // an incoming connection waits for the peer
  f.peer_handshake();
  auto o = f.drain();
  ASSERT_TRUE(o.handshake);
  ASSERT_EQ(o.count(MsgId::bitfield), 1);
  EXPECT_EQ(o.payloads[o.index_of(MsgId::bitfield)], std::vector<std::uint8_t>{0x40});
  // The extended handshake names our messages and limits.
  auto hs = o.payloads[o.index_of(MsgId::extended)];
  std::string body(hs.begin(), hs.end());
  EXPECT_NE(body.find("ut_metadata"), std::string::npos);
  EXPECT_NE(body.find("ut_pex"), std::string::npos);
  EXPECT_NE(body.find("test 1"), std::string::npos);
  EXPECT_NE(body.find("13:metadata_sizei20000e"), std::string::npos);
}

TEST(PeerProtocol, SeedSendsHaveAllToFastPeerAndBitfieldToOthers) {
  Fixture fast(true, seed_host());
  fast.peer_handshake(true, true);
  EXPECT_EQ(fast.drain().count(MsgId::have_all), 1);
  Fixture slow(true, seed_host());
  slow.peer_handshake(false, false);
  auto o = slow.drain();
  EXPECT_EQ(o.count(MsgId::have_all), 0);
  EXPECT_EQ(o.count(MsgId::bitfield), 1);
  EXPECT_EQ(o.count(MsgId::extended), 0);  // no extension bit: no extended handshake
}

TEST(PeerProtocol, GarbageBeforeHandshakeCloses) {
  Fixture f;
  std::vector<std::uint8_t> junk(100, 0x13);
  f.send(junk);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
  EXPECT_EQ(f.host->handshakes, 0);
}

TEST(PeerProtocol, MessageBeforeHandshakeCloses) {
  Fixture f;
  wire::Bytes b;
  for (int i = 0; i < 20; ++i) wire::put_have(b, 1);  // 180 bytes of valid messages
  f.send(b);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
  EXPECT_FALSE(f.proto.handshake_done());
}

TEST(PeerProtocol, PartialHandshakeWaits) {
  Fixture f;
  wire::Handshake hs;
  hs.info_hash = f.host->ih;
  std::uint8_t b[wire::kHandshakeSize];
  wire::write_handshake(hs, b);
  f.proto.on_bytes(std::span<const std::uint8_t>(b, 40));
  EXPECT_FALSE(f.proto.closed());
  EXPECT_FALSE(f.proto.handshake_done());
  f.proto.on_bytes(std::span<const std::uint8_t>(b + 40, wire::kHandshakeSize - 40));
  EXPECT_TRUE(f.proto.handshake_done());
}

TEST(PeerProtocol, SelfConnectionAndRefusedHandshakeClose) {
  Fixture self;
  wire::Handshake hs;
  hs.info_hash = self.host->ih;
  hs.peer_id = Fixture::settings().our_peer_id;
  std::uint8_t b[wire::kHandshakeSize];
  wire::write_handshake(hs, b);
  self.proto.on_bytes(b);
  EXPECT_TRUE(self.closed_with(CloseReason::SelfConnection));

  Fixture wrong;
  InfoHash other{};
  wrong.peer_handshake(true, true, other);
  EXPECT_TRUE(wrong.proto.closed());
  EXPECT_FALSE(wrong.proto.handshake_done());
  EXPECT_FALSE(wrong.drain().handshake);  // nothing is said to a peer we refuse
}

TEST(PeerProtocol, BadLengthClosesWithProtocolError) {
  Fixture f;
  f.peer_handshake();
  // A have of 3 bytes.
  wire::Bytes b{0, 0, 0, 4, std::uint8_t(MsgId::have), 0, 0, 1};
  f.send(b);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, BadIndexCloses) {
  Fixture f;
  f.peer_handshake();
  wire::Bytes b;
  wire::put_have(b, 4);  // 4 pieces: 0..3
  f.send(b);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));

  Fixture g(true, seed_host());
  g.peer_handshake();
  g.request(MsgId::request, 3, 16 * 1024, 16 * 1024);  // past the end of the short last piece
  EXPECT_TRUE(g.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, OversizeMessageCloses) {
  Fixture f;
  f.peer_handshake();
  wire::Bytes b{0x10, 0, 0, 0, std::uint8_t(MsgId::extended)};  // 256 MiB announced
  f.send(b);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, UnknownIdsKeepAliveAndPortAreAccepted) {
  Fixture f;
  f.peer_handshake();
  wire::Bytes b{0, 0, 0, 3, 99, 1, 2};  // unknown id 99
  wire::put_keep_alive(b);
  wire::put_port(b, 6881);
  f.send(b);
  EXPECT_FALSE(f.proto.closed());
  // An unknown extended id is ignored too.
  f.extended(200, "whatever");
  EXPECT_FALSE(f.proto.closed());
}

TEST(PeerProtocol, HaveAndBitfieldDriveInterest) {
  Fixture f;
  f.peer_handshake();
  f.drain();
  wire::Bytes b;
  wire::put_have(b, 2);
  f.send(b);
  auto o = f.drain();
  EXPECT_EQ(o.count(MsgId::interested), 1);
  EXPECT_TRUE(f.proto.am_interested());
  EXPECT_EQ(f.host->pieces->availability(PieceIndex(2)), 1);
  // A later bitfield replaces what we knew.
  b.clear();
  std::uint8_t bits = 0x80;
  wire::put_bitfield(b, std::span<const std::uint8_t>(&bits, 1));
  f.send(b);
  EXPECT_EQ(f.host->pieces->availability(PieceIndex(2)), 0);
  EXPECT_EQ(f.host->pieces->availability(PieceIndex(0)), 1);
  // Once we have piece 0 ourselves there is nothing left to want.
  f.host->pieces->set_have(PieceIndex(0));
  f.proto.send_have(PieceIndex(0));
  o = f.drain();
  EXPECT_EQ(o.count(MsgId::have), 1);
  EXPECT_EQ(o.count(MsgId::not_interested), 1);
  f.proto.on_closed();
  EXPECT_EQ(f.host->pieces->availability(PieceIndex(0)), 0);  // given back at close
}

// A peer's progress is the share of pieces its bitfield and HAVEs name.
TEST(PeerProtocol, ProgressIsTheShareOfPiecesThePeerHas) {
  Fixture f;
  f.peer_handshake();
  f.drain();
  const double n = f.host->num_pieces();
  ASSERT_GT(n, 2);
  EXPECT_EQ(f.proto.progress(), 0.0);
  wire::Bytes b;
  std::uint8_t bits = 0xC0;
  wire::put_bitfield(b, std::span<const std::uint8_t>(&bits, 1));
  f.send(b);
  EXPECT_DOUBLE_EQ(f.proto.progress(), 2 / n);
  b.clear();
  wire::put_have(b, 2);
  wire::put_have(b, 2);  // twice counts once
  f.send(b);
  EXPECT_DOUBLE_EQ(f.proto.progress(), 3 / n);
}

TEST(PeerProtocol, BitfieldWithSpareBitsCloses) {
  Fixture f;
  f.peer_handshake();
  wire::Bytes b;
  std::uint8_t bits = 0xff;  // 4 pieces: the low 4 bits must be clear
  wire::put_bitfield(b, std::span<const std::uint8_t>(&bits, 1));
  f.send(b);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, FastMessagesFromPeerWithoutFastBitClose) {
  for (MsgId id : {MsgId::have_all, MsgId::have_none}) {
    Fixture f;
    f.peer_handshake(false, true);
    f.simple(id);
    EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError)) << int(id);
  }
  {
    Fixture f;
    f.peer_handshake(false, true);
    f.request(MsgId::reject, 0, 0, 16 * 1024);
    EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
  }
  for (MsgId id : {MsgId::allowed_fast, MsgId::suggest}) {
    Fixture f;
    f.peer_handshake(false, true);
    wire::Bytes b;
    wire::put_index(b, id, 1);
    f.send(b);
    EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError)) << int(id);
  }
  // The same from a fast peer are fine.
  Fixture ok;
  ok.peer_handshake(true, true);
  wire::Bytes b;
  wire::put_index(b, MsgId::allowed_fast, 1);
  wire::put_index(b, MsgId::suggest, 2);
  ok.send(b);
  ok.simple(MsgId::have_none);
  ok.simple(MsgId::have_all);
  EXPECT_FALSE(ok.proto.closed());
  EXPECT_TRUE(ok.proto.is_seed());
}

TEST(PeerProtocol, NeverSendsFastMessagesToPeerWithoutFastBit) {
  Fixture f(true, seed_host());
  f.peer_handshake(false, false);
  f.simple(MsgId::interested);
  // Requests while choked, over the limit and cancelled: a fast peer would get rejects.
  f.request(MsgId::request, 0, 0, 16 * 1024);
  f.proto.choke(false);
  f.request(MsgId::request, 0, 0, 16 * 1024);
  f.request(MsgId::cancel, 0, 0, 16 * 1024);
  f.request(MsgId::request, 1, 0, 16 * 1024);
  f.proto.choke(true);
  auto o = f.drain();
  for (MsgId id :
       {MsgId::have_all, MsgId::have_none, MsgId::reject, MsgId::allowed_fast, MsgId::suggest}) {
    EXPECT_EQ(o.count(id), 0) << int(id);
  }
  EXPECT_EQ(o.count(MsgId::extended), 0);
  EXPECT_FALSE(f.proto.closed());
}

TEST(PeerProtocol, ExtensionMessageWithoutExtensionBitCloses) {
  Fixture f;
  f.peer_handshake(true, false);
  f.extended(0, "d1:md11:ut_metadatai1eee");
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, ChokeUnchokeRequestFlowServesBlocks) {
  Fixture f(true, seed_host());
  NamedExtension* ext = new NamedExtension;
  f.host->exts.emplace_back(ext);
  NullHandle handle;
  f.proto.set_peer_handle(&handle);
  f.peer_handshake();
  f.drain();
  f.simple(MsgId::interested);
  EXPECT_EQ(f.host->wants_unchoke, 1);
  EXPECT_TRUE(f.proto.peer_interested());

  // Choked: its request is rejected.
  f.request(MsgId::request, 0, 0, 16 * 1024);
  auto o = f.drain();
  EXPECT_EQ(o.count(MsgId::reject), 1);
  EXPECT_TRUE(f.host->reads.empty());

  f.proto.choke(false);
  EXPECT_EQ(f.drain().count(MsgId::unchoke), 1);
  // Requests that arrive together are read from disk in one job.
  wire::Bytes reqs;
  wire::put_request(reqs, MsgId::request, 1, 0, 16 * 1024);
  wire::put_request(reqs, MsgId::request, 1, 16 * 1024, 16 * 1024);
  wire::put_request(reqs, MsgId::request, 3, 0, 16 * 1024);
  wire::put_request(reqs, MsgId::request, 3, 16 * 1024, 16 * 1024 - 1000);  // the short last one
  f.send(reqs);
  ASSERT_EQ(f.host->reads.size(), 1u);  // one disk job for the batch
  EXPECT_EQ(f.host->reads[0].first.size(), 4u);
  f.host->complete_reads();
  o = f.drain();
  ASSERT_EQ(o.count(MsgId::piece), 4);
  for (std::size_t i = 0; i < o.msgs.size(); ++i) {
    if (o.msgs[i].id != MsgId::piece) continue;
    BlockRef b{PieceIndex(std::int32_t(o.msgs[i].index)), std::int32_t(o.msgs[i].begin),
               std::int32_t(o.msgs[i].length)};
    ASSERT_EQ(o.payloads[i].size(), std::size_t(b.length));
    for (std::size_t k = 0; k < o.payloads[i].size(); k += 1000) {
      ASSERT_EQ(o.payloads[i][k], protocol_test::block_byte(b, k));
    }
  }
  const ByteCount total = 3 * 16 * 1024 + 16 * 1024 - 1000;
  EXPECT_EQ(f.host->payload_up, total);
  EXPECT_EQ(f.proto.counters().payload_up, total);
  EXPECT_EQ(ext->sent, total);
  f.proto.on_closed();
  EXPECT_EQ(ext->disconnects, 1);
}

TEST(PeerProtocol, CancelAndChokeDropRequestsWithRejects) {
  Fixture f(true, seed_host());
  f.peer_handshake();
  f.simple(MsgId::interested);
  f.proto.choke(false);
  f.drain();
  f.host->upload_allowed = false;  // the requests stay queued
  f.request(MsgId::request, 0, 0, 16 * 1024);
  f.request(MsgId::request, 0, 16 * 1024, 16 * 1024);
  f.request(MsgId::cancel, 0, 0, 16 * 1024);
  auto o = f.drain();
  ASSERT_EQ(o.count(MsgId::reject), 1);
  EXPECT_EQ(o.find(MsgId::reject)->begin, 0u);
  EXPECT_EQ(f.proto.num_incoming_requests(), 1u);
  // A request being read when we choke is not sent, and the peer hears a reject.
  f.host->upload_allowed = true;
  f.proto.serve_requests();
  ASSERT_EQ(f.host->reads.size(), 1u);
  f.proto.choke(true);
  o = f.drain();
  EXPECT_EQ(o.count(MsgId::choke), 1);
  EXPECT_EQ(o.count(MsgId::reject), 1);
  f.host->complete_reads();
  o = f.drain();
  EXPECT_EQ(o.count(MsgId::piece), 0);
  EXPECT_EQ(f.host->payload_up, 0);
}

TEST(PeerProtocol, CancelWhileReadingDropsTheBlock) {
  Fixture f(true, seed_host());
  f.peer_handshake();
  f.proto.choke(false);
  f.request(MsgId::request, 2, 0, 16 * 1024);
  f.request(MsgId::request, 2, 16 * 1024, 16 * 1024);
  ASSERT_EQ(f.host->reads.size(), 2u);  // a second read starts while the first is out
  f.request(MsgId::cancel, 2, 0, 16 * 1024);
  f.host->complete_reads();
  auto o = f.drain();
  EXPECT_EQ(o.count(MsgId::piece), 1);
  EXPECT_EQ(o.find(MsgId::piece)->begin, 16u * 1024);
  EXPECT_EQ(o.count(MsgId::reject), 1);
}

TEST(PeerProtocol, FailedReadSendsNothing) {
  Fixture f(true, seed_host());
  f.peer_handshake();
  f.proto.choke(false);
  f.request(MsgId::request, 2, 0, 16 * 1024);
  f.host->complete_reads(true);
  EXPECT_EQ(f.drain().count(MsgId::piece), 0);
  EXPECT_EQ(f.proto.num_serving(), 0u);
}

TEST(PeerProtocol, RequestForPieceWeLackAndTooManyRefusalsClose) {
  auto h = std::make_unique<TestHost>();
  h->pieces->set_have(PieceIndex(0));
  Fixture f(true, std::move(h));
  f.peer_handshake();
  f.proto.choke(false);
  f.drain();
  for (int i = 0; i < 5; ++i) f.request(MsgId::request, 1, 0, 16 * 1024);
  EXPECT_FALSE(f.proto.closed());
  EXPECT_EQ(f.drain().count(MsgId::reject), 5);
  f.request(MsgId::request, 1, 0, 16 * 1024);
  EXPECT_TRUE(f.closed_with(CloseReason::TooManyRequests));
}

TEST(PeerProtocol, DownloadRequestsBlocksAndTakesOnlyRequestedOnes) {
  Fixture f;
  f.peer_handshake();
  f.simple(MsgId::have_all);
  auto o = f.drain();
  EXPECT_EQ(o.count(MsgId::interested), 1);
  EXPECT_EQ(o.count(MsgId::request), 0);  // choked by the peer
  f.simple(MsgId::unchoke);
  o = f.drain();
  ASSERT_GT(o.count(MsgId::request), 0);
  EXPECT_EQ(std::size_t(o.count(MsgId::request)), f.proto.num_outstanding());
  const auto* r = o.find(MsgId::request);
  BlockRef first{PieceIndex(std::int32_t(r->index)), std::int32_t(r->begin),
                 std::int32_t(r->length)};
  EXPECT_TRUE(f.proto.has_requested(first));
  // The block arrives.
  std::vector<std::uint8_t> data(std::size_t(first.length), 7);
  wire::Bytes b;
  wire::put_piece(b, r->index, r->begin, data);
  f.send(b);
  ASSERT_EQ(f.host->blocks.size(), 1u);
  EXPECT_EQ(f.host->blocks[0], first);
  EXPECT_EQ(f.host->payload_down, first.length);
  EXPECT_FALSE(f.proto.has_requested(first));
  // The same block again was not asked for: counted against the peer, then closed.
  for (int i = 0; i < PeerProtocol::kMaxUnrequestedBlocks; ++i) f.send(b);
  EXPECT_FALSE(f.proto.closed());
  f.send(b);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
  EXPECT_EQ(f.host->blocks.size(), 1u);
}

TEST(PeerProtocol, ChokeByPeerAbortsRequestsAndLateBlocksAreDroppedQuietly) {
  Fixture f;
  f.peer_handshake();
  f.simple(MsgId::have_all);
  f.simple(MsgId::unchoke);
  auto o = f.drain();
  ASSERT_GT(f.proto.num_outstanding(), 0u);
  const auto* r = o.find(MsgId::request);
  f.simple(MsgId::choke);
  EXPECT_EQ(f.proto.num_outstanding(), 0u);
  std::vector<std::uint8_t> data(r->length, 1);
  wire::Bytes b;
  wire::put_piece(b, r->index, r->begin, data);
  f.send(b);
  EXPECT_TRUE(f.host->blocks.empty());
  EXPECT_FALSE(f.proto.closed());
}

TEST(PeerProtocol, RejectOfOurRequestGoesBackToThePicker) {
  Fixture f;
  f.peer_handshake();
  f.simple(MsgId::have_all);
  f.simple(MsgId::unchoke);
  auto o = f.drain();
  const auto* r = o.find(MsgId::request);
  ASSERT_NE(r, nullptr);
  std::size_t before = f.proto.num_outstanding();
  f.request(MsgId::reject, r->index, r->begin, r->length);
  EXPECT_EQ(f.host->rejected.size(), 1u);
  EXPECT_LE(f.proto.num_outstanding(), before);
  EXPECT_FALSE(f.proto.closed());
}

namespace {
BlockRef block_from(const wire::Message& m) {
  return {PieceIndex(std::int32_t(m.index)), std::int32_t(m.begin), std::int32_t(m.length)};
}
std::vector<BlockRef> requests_in(const Out& o) {
  std::vector<BlockRef> out;
  for (const auto& m : o.msgs) {
    if (!m.keep_alive && m.id == MsgId::request) out.push_back(block_from(m));
  }
  return out;
}
// Every block asked of an unchoking peer is cancelled and then asked for again (its piece
// failed its check); returns the first of them.
BlockRef cancel_and_ask_again(Fixture& f) {
  f.peer_handshake();
  f.simple(MsgId::have_all);
  f.simple(MsgId::unchoke);
  auto first = requests_in(f.drain());
  EXPECT_FALSE(first.empty());
  for (const auto& b : first) {
    f.proto.cancel_block(b);
    f.host->picker()->abort_request(b);
  }
  f.proto.request_blocks();
  auto again = requests_in(f.drain());
  EXPECT_NE(std::find(again.begin(), again.end(), first.front()), again.end());
  return first.front();
}
wire::Bytes piece_message(const BlockRef& b) {
  std::vector<std::uint8_t> data(std::size_t(b.length), 7);
  wire::Bytes piece;
  wire::put_piece(piece, std::uint32_t(b.piece.get()), std::uint32_t(b.offset), data);
  return piece;
}
}  // namespace

// A block cancelled (another peer sent it first) and asked for again (the piece failed its
// check) must not be lost to the reject that answers the cancel: with a single peer left
// that has the piece, the download would stall.
TEST(PeerProtocol, TheRejectAnsweringACancelLeavesTheNewRequestOpen) {
  Fixture f;
  const BlockRef b = cancel_and_ask_again(f);
  ASSERT_TRUE(f.proto.has_requested(b));

  f.request(MsgId::reject, std::uint32_t(b.piece.get()), std::uint32_t(b.offset),
            std::uint32_t(b.length));
  EXPECT_TRUE(f.proto.has_requested(b));
  EXPECT_TRUE(f.host->rejected.empty());

  f.send(piece_message(b));
  EXPECT_EQ(f.host->blocks.size(), 1u);
  EXPECT_FALSE(f.proto.has_requested(b));
  EXPECT_FALSE(f.proto.closed());
}

TEST(PeerProtocol, AnsweringACancelWithTheBlockThenTheNewRequestsBlockIsQuiet) {
  Fixture f;
  const BlockRef b = cancel_and_ask_again(f);
  ASSERT_TRUE(f.proto.has_requested(b));
  const wire::Bytes piece = piece_message(b);
  // The first copy answers the cancel and is taken; the second answers the new request and
  // is dropped without counting against the peer. Copies beyond those count, as ever.
  for (int i = 0; i < 2 + PeerProtocol::kMaxUnrequestedBlocks; ++i) f.send(piece);
  EXPECT_EQ(f.host->blocks.size(), 1u);
  EXPECT_FALSE(f.proto.closed());
  f.send(piece);
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, ARefusedBlockIsAskedForAgainLaterOrAfterAnUnchoke) {
  for (bool by_unchoke : {false, true}) {
    SCOPED_TRACE(by_unchoke ? "unchoke" : "time");
    Fixture f;
    f.peer_handshake();
    f.simple(MsgId::have_all);
    f.simple(MsgId::unchoke);
    auto start = std::chrono::steady_clock::now();
    auto first = requests_in(f.drain());
    ASSERT_FALSE(first.empty());
    for (const auto& b : first) {
      f.request(MsgId::reject, std::uint32_t(b.piece.get()), std::uint32_t(b.offset),
                std::uint32_t(b.length));
    }
    const BlockRef b = first.front();
    f.proto.tick(start + std::chrono::seconds(1));
    EXPECT_FALSE(f.proto.has_requested(b));
    if (by_unchoke) {
      f.simple(MsgId::choke);
      f.simple(MsgId::unchoke);
      f.proto.request_blocks();
    } else {
      f.proto.tick(start + PeerProtocol::kRejectMemory + std::chrono::seconds(1));
    }
    EXPECT_TRUE(f.proto.has_requested(b));
    EXPECT_FALSE(f.proto.closed());
  }
}

TEST(PeerProtocol, CancelBlockSendsCancel) {
  Fixture f;
  f.peer_handshake();
  f.simple(MsgId::have_all);
  f.simple(MsgId::unchoke);
  auto o = f.drain();
  const auto* r = o.find(MsgId::request);
  BlockRef b{PieceIndex(std::int32_t(r->index)), std::int32_t(r->begin), std::int32_t(r->length)};
  f.proto.cancel_block(b);
  o = f.drain();
  EXPECT_EQ(o.count(MsgId::cancel), 1);
  EXPECT_FALSE(f.proto.has_requested(b));
}

TEST(PeerProtocol, ExtensionHandshakeAndDispatch) {
  Fixture f;
  auto* ext = new NamedExtension;
  f.host->exts.emplace_back(ext);
  NullHandle handle;
  f.proto.set_peer_handle(&handle);
  f.peer_handshake();
  auto o = f.drain();
  auto ours = o.payloads[o.index_of(MsgId::extended)];
  std::string body(ours.begin(), ours.end());
  EXPECT_NE(body.find("5:x_onei3e"), std::string::npos) << body;
  EXPECT_NE(body.find("5:x_twoi4e"), std::string::npos) << body;
  EXPECT_NE(body.find("6:x_testi5e"), std::string::npos) << body;  // the extension's key

  bencode::Dict m;
  m["x_two"] = bencode::Integer(9);
  m["ut_metadata"] = bencode::Integer(11);
  f.ext_handshake(m, 20000);
  EXPECT_TRUE(ext->saw_handshake);
  EXPECT_TRUE(f.proto.peer_supports("x_two"));
  EXPECT_FALSE(f.proto.peer_supports("x_one"));
  EXPECT_EQ(f.proto.client(), "peer 2");
  EXPECT_EQ(f.proto.peer_listen_port(), 7001);
  EXPECT_EQ(f.host->metadata_size, -1);  // we have the metadata: not asked for

  // Our id 4 is x_two.
  f.extended(4, "hello");
  ASSERT_EQ(ext->got.size(), 1u);
  EXPECT_EQ(ext->got[0].first, "x_two");
  EXPECT_EQ(ext->got[0].second, "hello");
  // Sent under the peer's id.
  EXPECT_TRUE(f.proto.send_extension_message("x_two", "back"));
  EXPECT_FALSE(f.proto.send_extension_message("x_one", "nope"));
  o = f.drain();
  ASSERT_EQ(o.count(MsgId::extended), 1);
  EXPECT_EQ(o.find(MsgId::extended)->ext_id, 9);

  // 0 disables.
  bencode::Dict off;
  off["x_two"] = bencode::Integer(0);
  f.ext_handshake(off);
  EXPECT_FALSE(f.proto.peer_supports("x_two"));
}

TEST(PeerProtocol, BadExtendedHandshakeCloses) {
  Fixture f;
  f.peer_handshake();
  f.extended(0, "not bencode");
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, ServesMetadataAndBoundsIt) {
  Fixture f;
  f.peer_handshake();
  bencode::Dict m;
  m["ut_metadata"] = bencode::Integer(3);
  f.ext_handshake(m);
  f.drain();
  f.extended(PeerProtocol::kUtMetadataId, metadata::encode_request(1));
  auto o = f.drain();
  ASSERT_EQ(o.count(MsgId::extended), 1);
  EXPECT_EQ(o.find(MsgId::extended)->ext_id, 3);
  auto p = o.payloads[o.index_of(MsgId::extended)];
  auto msg = metadata::parse(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()));
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->type, metadata::MsgType::data);
  EXPECT_EQ(msg->data.size(), 20000u - metadata::kPieceSize);
  // A piece past the end is rejected.
  f.extended(PeerProtocol::kUtMetadataId, metadata::encode_request(5));
  o = f.drain();
  p = o.payloads[o.index_of(MsgId::extended)];
  msg = metadata::parse(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()));
  ASSERT_TRUE(msg);
  EXPECT_EQ(msg->type, metadata::MsgType::reject);
  // A malformed one closes.
  f.extended(PeerProtocol::kUtMetadataId, "d8:msg_typei9e");
  EXPECT_TRUE(f.closed_with(CloseReason::ProtocolError));
}

TEST(PeerProtocol, MagnetLearnsMetadataSizeAndPieces) {
  Fixture f(true, std::make_unique<TestHost>(4, 32 * 1024, 1000, false));
  f.peer_handshake();
  auto o = f.drain();
  EXPECT_EQ(std::string(o.payloads[o.index_of(MsgId::extended)].begin(),
                        o.payloads[o.index_of(MsgId::extended)].end())
                .find("metadata_size"),
            std::string::npos);  // we have none to offer
  bencode::Dict m;
  m["ut_metadata"] = bencode::Integer(3);
  f.ext_handshake(m, 12345);
  EXPECT_EQ(f.host->metadata_size, 12345);
  f.proto.send_metadata_request(0);
  o = f.drain();
  EXPECT_EQ(o.find(MsgId::extended)->ext_id, 3);
  f.extended(PeerProtocol::kUtMetadataId, metadata::encode_data(0, 12345, std::string(12345, 'x')));
  ASSERT_EQ(f.host->metadata_pieces.size(), 1u);
  EXPECT_EQ(f.host->metadata_pieces[0].second, 12345u);
  f.extended(PeerProtocol::kUtMetadataId, metadata::encode_reject(0));
  EXPECT_EQ(f.host->metadata_rejects, std::vector<std::int64_t>{0});
  // Haves before the metadata are kept until it is known.
  wire::Bytes b;
  wire::put_have(b, 3);
  f.send(b);
  EXPECT_FALSE(f.proto.closed());
}

TEST(PeerProtocol, PexPeersGoToTheHostButNotOnPrivateTorrents) {
  pex::Message m;
  m.added.push_back({boost::asio::ip::make_address("10.0.0.1"), 6881});
  m.added.push_back({boost::asio::ip::make_address("10.0.0.2"), 6882});
  m.added_flags = {pex::kFlagSeed, 0};
  std::string body = pex::encode(m);
  {
    Fixture f;
    f.peer_handshake();
    f.extended(PeerProtocol::kUtPexId, body);
    ASSERT_EQ(f.host->pex_peers.size(), 2u);
    EXPECT_EQ(f.host->pex_peers[1].to_string(), "10.0.0.2:6882");
    // A second message within the minute is not heard.
    f.extended(PeerProtocol::kUtPexId, body);
    EXPECT_EQ(f.host->pex_peers.size(), 2u);
  }
  {
    auto h = std::make_unique<TestHost>();
    h->priv = true;
    Fixture f(true, std::move(h));
    f.peer_handshake();
    auto o = f.drain();
    auto ours = o.payloads[o.index_of(MsgId::extended)];
    EXPECT_EQ(std::string(ours.begin(), ours.end()).find("ut_pex"), std::string::npos);
    f.extended(PeerProtocol::kUtPexId, body);
    EXPECT_TRUE(f.host->pex_peers.empty());
  }
}

TEST(PeerProtocol, TwoSeedsClose) {
  Fixture f(true, seed_host());
  f.peer_handshake();
  f.simple(MsgId::have_all);
  EXPECT_TRUE(f.closed_with(CloseReason::UselessPeer));
}

TEST(PeerProtocol, TickClosesInactivePeerAndSendsKeepAlive) {
  Fixture f;
  f.peer_handshake();
  f.drain();
  auto now = PeerProtocol::Clock::now();
  f.proto.tick(now + std::chrono::seconds(61));
  auto o = f.drain();
  ASSERT_EQ(o.msgs.size(), 1u);
  EXPECT_TRUE(o.msgs[0].keep_alive);
  f.proto.tick(now + std::chrono::seconds(181));
  EXPECT_TRUE(f.closed_with(CloseReason::Inactive));
}

TEST(PeerProtocol, ExtensionChokeOverridesUnchoke) {
  Fixture f(true, seed_host());
  f.peer_handshake();
  f.simple(MsgId::interested);
  f.proto.choke(false);
  f.drain();
  f.proto.set_choked_by_extension(true);
  EXPECT_TRUE(f.proto.am_choking());
  EXPECT_EQ(f.drain().count(MsgId::choke), 1);
  f.proto.choke(false);
  EXPECT_TRUE(f.proto.am_choking());
  int before = f.host->wants_unchoke;
  f.proto.set_choked_by_extension(false);
  EXPECT_EQ(f.host->wants_unchoke, before + 1);
}
