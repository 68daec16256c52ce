// Port mapping: the NAT-PMP codec (RFC 6886), and PortMapper's NAT-PMP path against a gateway
// answerer on loopback that speaks the RFC: mapping, renewal, removal, refusal, silence.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "p2p/portmap/natpmp_codec.hpp"
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

namespace {

// A NAT-PMP gateway on 127.0.0.1 (RFC 6886 answers from a table of mappings).
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
  std::map<int, std::uint32_t> lifetimes;  // opcode -> lifetime last asked
  int requests = 0;

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(buf_), from_, [this](auto ec, std::size_t n) {
      if (ec) return;
      ++requests;
      if (!silent && n >= 2 && buf_[0] == 0) answer(n);
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
  udp::socket socket_;
  udp::endpoint from_;
  std::array<char, 64> buf_{};
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
  EXPECT_EQ(gw.requests, 3);  // natpmp_attempts, 20 + 40 + 80 ms apart
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
  EXPECT_EQ(gw.requests, 3);  // address, UDP, TCP
  run_until(
      io, [] { return false; }, 500ms);
  EXPECT_EQ(gw.requests, 3);  // not before half the 2 s granted
  EXPECT_TRUE(run_until(
      io, [&] { return gw.requests >= 5; }, 1500ms));  // UDP and TCP again
  EXPECT_EQ(pm.status().state, p2p::PortMapState::mapped);
  pm.stop();
}
