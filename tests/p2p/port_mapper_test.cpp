// Port mapping: the NAT-PMP (RFC 6886) and PCP (RFC 6887) codecs, and PortMapper against a
// gateway answerer on loopback that speaks the RFCs: mapping, renewal, removal, refusal,
// silence, and the step down from PCP to NAT-PMP.
#include <gtest/gtest.h>

#include <cstring>
#include <set>

#include <boost/asio.hpp>

#include "p2p/portmap/natpmp_codec.hpp"
#include "p2p/portmap/pcp_codec.hpp"
#include "p2p/portmap/port_mapper.hpp"

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

TEST(NatPmpCodec, BuildsRequests) {
  EXPECT_EQ(p2p::natpmp::build_external_address_request(), std::string("\0\0", 2));
  auto m = p2p::natpmp::build_mapping_request(p2p::natpmp::Protocol::tcp, 6881, 6882, 7200);
  EXPECT_EQ(m, std::string("\0\x02\0\0\x1a\xe1\x1a\xe2\0\0\x1c\x20", 12));
  auto rm = p2p::natpmp::build_mapping_request(p2p::natpmp::Protocol::udp, 6881, 0, 0);
  EXPECT_EQ(rm, std::string("\0\x01\0\0\x1a\xe1\0\0\0\0\0\0", 12));
}

TEST(NatPmpCodec, ParsesAnswers) {
  using p2p::natpmp::parse_response;
  auto a = parse_response(std::string("\0\x80\0\0\0\0\0\x10\xcb\0\x71\x07", 12));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->opcode, 128);
  EXPECT_EQ(a->result, 0);
  EXPECT_EQ(a->epoch, 16u);
  EXPECT_EQ(a->external_address, (std::array<std::uint8_t, 4>{203, 0, 113, 7}));
  auto m = parse_response(std::string("\0\x82\0\0\0\0\0\x01\x1a\xe1\x1a\xe2\0\0\x0e\x10", 16));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->opcode, 130);
  EXPECT_EQ(m->internal_port, 6881);
  EXPECT_EQ(m->external_port, 6882);
  EXPECT_EQ(m->lifetime, 3600u);
  // A refusal may come short; anything else short, of another version or a request is not
  // an answer.
  auto refused = parse_response(std::string("\0\x81\0\x02\0\0\0\x01", 8));
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result, 2);
  EXPECT_FALSE(parse_response(std::string("\0\x81\0\0\0\0\0\x01", 8)));
  EXPECT_FALSE(parse_response(std::string("\x01\x80\0\0\0\0\0\0\1\2\3\4", 12)));
  EXPECT_FALSE(parse_response(std::string("\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16)));
  EXPECT_FALSE(parse_response(std::string("\0\x83\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16)));
  EXPECT_FALSE(parse_response("\0"));
  EXPECT_EQ(p2p::natpmp::result_text(3), "network failure");
}

TEST(PcpCodec, BuildsAMapRequestAndParsesItsAnswer) {
  using namespace p2p::pcp;
  Nonce nonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  auto client = v4_mapped({192, 168, 1, 20});
  auto req = build_map_request(nonce, Protocol::tcp, 6881, 6881, 7200, client);
  ASSERT_EQ(req.size(), kMapSize);
  EXPECT_EQ(req.substr(0, 8), std::string("\x02\x01\0\0\0\0\x1c\x20", 8));
  EXPECT_EQ(req.substr(8, 16), std::string("\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\xa8\x01\x14", 16));
  EXPECT_EQ(req.substr(24, 12), std::string("\1\2\3\4\5\6\7\x08\x09\x0a\x0b\x0c", 12));
  EXPECT_EQ(req.substr(36, 8), std::string("\x06\0\0\0\x1a\xe1\x1a\xe1", 8));
  EXPECT_EQ(req.substr(44), std::string(16, '\0'));

  // The answer: R bit, result, lifetime, epoch, then the MAP fields with the external address.
  std::string ans = req;
  ans[1] = char(0x81);
  ans[3] = 0;
  ans.replace(4, 4, std::string("\0\0\x0e\x10", 4));
  ans.replace(8, 4, std::string("\0\0\0\x2a", 4));
  ans.replace(12, 12, std::string(12, '\0'));
  ans.replace(42, 2, std::string("\x1a\xe2", 2));
  ans.replace(44, 16, std::string("\0\0\0\0\0\0\0\0\0\0\xff\xff\xcb\x00\x71\x07", 16));
  auto r = parse_map_response(ans);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->result, 0);
  EXPECT_EQ(r->lifetime, 3600u);
  EXPECT_EQ(r->epoch, 42u);
  EXPECT_EQ(r->nonce, nonce);
  EXPECT_EQ(r->protocol, 6);
  EXPECT_EQ(r->external_port, 6882);
  EXPECT_EQ(r->external_ip(), "203.0.113.7");
  // A request is not an answer; a short success is not one either; a short refusal is.
  EXPECT_FALSE(parse_map_response(req));
  EXPECT_FALSE(parse_map_response(ans.substr(0, 24)));
  std::string refusal = ans.substr(0, 24);
  refusal[3] = 2;
  ASSERT_TRUE(parse_map_response(refusal));
  EXPECT_FALSE(parse_map_response(refusal)->has_map);
  EXPECT_EQ(result_text(2), "not authorized");
  EXPECT_EQ(result_text(200), "result code 200");
  ans[0] = 0;  // NAT-PMP's version
  EXPECT_FALSE(parse_map_response(ans));
}

namespace {

// A NAT-PMP gateway on 127.0.0.1 (RFC 6886 answers from a table of mappings); with `pcp`, a
// PCP one (RFC 6887 MAP). As the RFCs ask, NAT-PMP alone answers another version with result
// 1, and PCP checks the request's client address against the packet's source.
class Gateway {
 public:
  explicit Gateway(asio::io_context& io)
      : socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    receive();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  std::uint16_t result = 0;  // answer every mapping with this code
  bool silent = false;
  std::uint16_t shift = 1000;              // external port = internal + shift
  std::map<int, std::uint32_t> lifetimes;  // opcode (NAT-PMP) or protocol (PCP) -> lifetime
  int requests = 0;
  bool pcp = false;
  std::set<std::string> nonces;  // PCP nonces seen

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buf_), from_, [this](auto ec, std::size_t n) {
      if (ec) return;
      ++requests;
      if (!silent && n >= 2 && buf_[0] == 0) answer(n);
      if (!silent && n >= 2 && buf_[0] != 0) pcp ? answer_pcp(n) : unsupported();
      receive();
    });
  }
  void answer(std::size_t n) {
    std::string out;
    auto put16 = [&](unsigned v) {
      out += char(v >> 8);
      out += char(v & 0xff);
    };
    auto put32 = [&](std::uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) out += char((v >> s) & 0xff);
    };
    auto op = static_cast<std::uint8_t>(buf_[1]);
    out += '\0';
    out += char(op + 128);
    if (op == 0) {
      put16(0);
      put32(77);
      out += std::string("\xcb\x00\x71\x07", 4);
    } else if ((op == 1 || op == 2) && n >= 12) {
      auto u = [&](int i) { return static_cast<unsigned char>(buf_[i]); };
      unsigned internal = u(4) << 8 | u(5);
      std::uint32_t life = std::uint32_t(u(8)) << 24 | u(9) << 16 | u(10) << 8 | u(11);
      lifetimes[op] = life;
      put16(result);
      put32(77);
      put16(internal);
      put16(life ? internal + shift : 0);
      put32(life);
    } else {
      return;
    }
    socket_.send_to(asio::buffer(out), from_);
  }
  void unsupported() {
    std::string out("\0", 1);
    out += char((buf_[1] & 0x7f) + 128);
    out += std::string("\0\x01\0\0\0\x4d", 6);  // result 1, epoch 77
    socket_.send_to(asio::buffer(out), from_);
  }
  void answer_pcp(std::size_t n) {
    if (n < p2p::pcp::kMapSize || buf_[0] != 2 || buf_[1] != 1) return;
    std::string out(buf_.data(), p2p::pcp::kMapSize);
    auto u = [&](int i) { return static_cast<unsigned char>(buf_[i]); };
    std::uint32_t life = std::uint32_t(u(4)) << 24 | u(5) << 16 | u(6) << 8 | u(7);
    lifetimes[u(36)] = life;
    nonces.insert(out.substr(24, 12));
    auto client = p2p::pcp::v4_mapped(from_.address().to_v4().to_bytes());
    bool mismatch = std::memcmp(buf_.data() + 8, client.data(), 16) != 0;
    out[1] = char(0x81);
    out[2] = 0;
    out[3] = char(mismatch ? 12 : result);
    out.replace(8, 4, std::string("\0\0\0\x4d", 4));
    out.replace(12, 12, std::string(12, '\0'));
    unsigned internal = u(40) << 8 | u(41);
    unsigned external = life ? internal + shift : 0;
    out[42] = char(external >> 8);
    out[43] = char(external & 0xff);
    out.replace(44, 16, std::string("\0\0\0\0\0\0\0\0\0\0\xff\xff\xcb\x00\x71\x08", 16));
    socket_.send_to(asio::buffer(out), from_);
  }
  udp::socket socket_;
  udp::endpoint from_;
  std::array<char, 1100> buf_{};
};

p2p::PortMapSettings loopback(const Gateway& g) {
  p2p::PortMapSettings s;
  s.upnp = false;
  s.natpmp_gateway = "127.0.0.1";
  s.natpmp_port = g.port();
  s.natpmp_timeout = 20ms;
  s.natpmp_attempts = 3;
  s.lifetime = 60s;
  return s;
}

template <class F>
bool run_until(asio::io_context& io, F done, std::chrono::milliseconds limit = 3000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < until) io.run_one_for(20ms);
  return done();
}

}  // namespace

TEST(PortMapper, MapsTcpAndUdpThenRemovesThem) {
  asio::io_context io;
  Gateway gw(io);
  p2p::PortMapper pm(io, loopback(gw), 6881);
  std::vector<p2p::PortMapState> seen;
  pm.on_change([&](const p2p::PortMapStatus& s) { seen.push_back(s.state); });
  pm.start();
  ASSERT_TRUE(run_until(io, [&] { return pm.status().state == p2p::PortMapState::mapped; }))
      << pm.status().text();
  EXPECT_EQ(pm.status().text(), "mapped 203.0.113.7:7881 (NAT-PMP)");
  EXPECT_EQ(gw.lifetimes[1], 60u);
  EXPECT_EQ(gw.lifetimes[2], 60u);
  pm.stop();
  EXPECT_EQ(pm.status().state, p2p::PortMapState::none);
  // The removals (lifetime 0) reach the gateway.
  EXPECT_TRUE(run_until(io, [&] { return gw.lifetimes[1] == 0 && gw.lifetimes[2] == 0; }));
  EXPECT_EQ(seen,
            (std::vector<p2p::PortMapState>{p2p::PortMapState::mapping, p2p::PortMapState::mapped,
                                            p2p::PortMapState::none}));
}

TEST(PortMapper, ReportsARefusalAndSilence) {
  asio::io_context io;
  Gateway gw(io);
  gw.result = 2;
  {
    p2p::PortMapper pm(io, loopback(gw), 6881);
    pm.start();
    ASSERT_TRUE(run_until(io, [&] { return pm.status().state == p2p::PortMapState::failed; }));
    EXPECT_EQ(pm.status().error, "NAT-PMP: not authorized or refused");
    pm.stop();
  }
  gw.silent = true;
  gw.requests = 0;
  p2p::PortMapper pm(io, loopback(gw), 6881);
  pm.start();
  ASSERT_TRUE(run_until(io, [&] { return pm.status().state == p2p::PortMapState::failed; }));
  EXPECT_EQ(pm.status().error, "no NAT-PMP answer from 127.0.0.1");
  EXPECT_EQ(gw.requests, 5);  // pcp_attempts, then natpmp_attempts, each 20, 40 (, 80) ms apart
  pm.stop();
}

TEST(PortMapper, RenewsAtHalfTheLifetime) {
  asio::io_context io;
  Gateway gw(io);
  auto s = loopback(gw);
  s.lifetime = 2s;
  p2p::PortMapper pm(io, s, 6881);
  pm.start();
  ASSERT_TRUE(run_until(io, [&] { return pm.status().state == p2p::PortMapState::mapped; }));
  EXPECT_EQ(gw.requests, 4);  // PCP (unsupported version), then address, UDP, TCP
  run_until(
      io, [] { return false; }, 500ms);
  EXPECT_EQ(gw.requests, 4);  // not before half the 2 s granted
  EXPECT_TRUE(run_until(
      io, [&] { return gw.requests >= 6; }, 1500ms));  // UDP and TCP again, in NAT-PMP
  EXPECT_EQ(pm.status().state, p2p::PortMapState::mapped);
  pm.stop();
}

TEST(PortMapper, MapsWithPcpRenewsWithTheSameNonceAndRemoves) {
  asio::io_context io;
  Gateway gw(io);
  gw.pcp = true;
  auto s = loopback(gw);
  s.lifetime = 2s;
  p2p::PortMapper pm(io, s, 6881);
  pm.start();
  ASSERT_TRUE(run_until(io, [&] { return pm.status().state == p2p::PortMapState::mapped; }))
      << pm.status().text();
  EXPECT_EQ(pm.status().text(), "mapped 203.0.113.8:7881 (PCP)");
  EXPECT_EQ(gw.requests, 2);  // UDP and TCP: the address comes in the answer
  EXPECT_EQ(gw.lifetimes[17], 2u);
  EXPECT_EQ(gw.lifetimes[6], 2u);
  EXPECT_TRUE(run_until(
      io, [&] { return gw.requests >= 4; }, 2000ms));  // renewed at half the lifetime
  EXPECT_EQ(gw.nonces.size(), 1u);
  pm.stop();
  EXPECT_TRUE(run_until(io, [&] { return gw.lifetimes[17] == 0 && gw.lifetimes[6] == 0; }));
  EXPECT_EQ(gw.nonces.size(), 1u);  // the removal names the same mapping
}

TEST(PortMapper, ReportsAPcpRefusal) {
  asio::io_context io;
  Gateway gw(io);
  gw.pcp = true;
  gw.result = 8;
  p2p::PortMapper pm(io, loopback(gw), 6881);
  pm.start();
  ASSERT_TRUE(run_until(io, [&] { return pm.status().state == p2p::PortMapState::failed; }));
  EXPECT_EQ(pm.status().error, "PCP: out of resources");
  pm.stop();
}

TEST(PortMapper, NatPmpAloneWhenPcpIsOff) {
  asio::io_context io;
  Gateway gw(io);
  gw.pcp = true;  // it would answer PCP, but is not asked
  auto s = loopback(gw);
  s.pcp = false;
  p2p::PortMapper pm(io, s, 6881);
  pm.start();
  ASSERT_TRUE(run_until(io, [&] { return pm.status().state == p2p::PortMapState::mapped; }));
  EXPECT_EQ(pm.status().text(), "mapped 203.0.113.7:7881 (NAT-PMP)");
  EXPECT_TRUE(gw.nonces.empty());
  pm.stop();
}
