// Local service discovery (BEP 14): the message codec, and two LocalDiscovery objects that
// find each other through the multicast group on this host.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "base/hex.hpp"
#include "p2p/lsd/local_discovery.hpp"
#include "p2p/lsd/lsd_message.hpp"

using namespace std::chrono_literals;

namespace {

p2p::InfoHash hash_of(std::uint8_t b) {
  p2p::InfoHash h;
  h.fill(b);
  return h;
}

}  // namespace

TEST(LsdMessage, BuildsTheBep14Announce) {
  p2p::lsd::Announce a;
  a.port = 6881;
  a.info_hashes = {hash_of(0xab)};
  a.cookie = "c00k";
  std::string m = p2p::lsd::build_announce("239.192.152.143:6771", a);
  EXPECT_EQ(m, "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: " +
                   base::to_hex(hash_of(0xab)) + "\r\ncookie: c00k\r\n\r\n\r\n");
  auto back = p2p::lsd::parse_announce(m);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->port, 6881);
  ASSERT_EQ(back->info_hashes.size(), 1u);
  EXPECT_EQ(back->info_hashes[0], hash_of(0xab));
  EXPECT_EQ(back->cookie, "c00k");
}

TEST(LsdMessage, ParsesWhatOtherClientsSend) {
  // Upper-case hex, bare \n line ends, headers in another case and order, two hashes.
  std::string hex1 = base::to_hex(hash_of(0x01)), hex2 = base::to_hex(hash_of(0xfe));
  for (auto& c : hex2) c = char(std::toupper(static_cast<unsigned char>(c)));
  std::string m = "BT-SEARCH * HTTP/1.1\nhost: 239.192.152.143:6771\nINFOHASH: " + hex1 +
                  "\ninfohash: " + hex2 + "\nport:  51413 \n\n";
  auto a = p2p::lsd::parse_announce(m);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 51413);
  ASSERT_EQ(a->info_hashes.size(), 2u);
  EXPECT_EQ(a->info_hashes[1], hash_of(0xfe));
  EXPECT_TRUE(a->cookie.empty());
}

TEST(LsdMessage, RefusesWhatIsNotAnAnnounce) {
  std::string ih = "Infohash: " + base::to_hex(hash_of(0x01)) + "\r\n";
  auto parse = [](const std::string& m) { return p2p::lsd::parse_announce(m); };
  EXPECT_FALSE(parse(""));
  EXPECT_FALSE(parse("M-SEARCH * HTTP/1.1\r\nPort: 1\r\n" + ih));  // SSDP, not BEP 14
  EXPECT_FALSE(parse("BT-SEARCH * HTTP/1.1\r\n" + ih));            // no port
  EXPECT_FALSE(parse("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\n" + ih));
  EXPECT_FALSE(parse("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\n" + ih));
  EXPECT_FALSE(parse("BT-SEARCH * HTTP/1.1\r\nPort: 12a\r\n" + ih));
  EXPECT_FALSE(parse("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n"));  // no hash
  EXPECT_FALSE(parse("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 1234\r\n"));
  EXPECT_FALSE(parse("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: " + std::string(40, 'g')));
  // Over the size limit.
  std::string big = "BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n" + ih;
  big += std::string(p2p::lsd::kMaxMessage, ' ');
  EXPECT_FALSE(parse(big));
}

TEST(LsdMessage, BoundsTheHashesAndTheCookie) {
  std::string m = "BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n";
  for (int i = 0; i < 25; ++i) m += "Infohash: " + base::to_hex(hash_of(std::uint8_t(i))) + "\n";
  m += "Infohash: " + base::to_hex(hash_of(0)) + "\n";  // a repeat is not counted twice
  auto a = p2p::lsd::parse_announce(m);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->info_hashes.size(), p2p::lsd::kMaxHashes);
  auto c = p2p::lsd::parse_announce(
      "BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: " + base::to_hex(hash_of(3)) +
      "\r\ncookie: " + std::string(500, 'x') + "\r\n");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cookie.size(), 64u);
  // build_announce writes no more than kMaxHashes either.
  p2p::lsd::Announce many;
  many.port = 1;
  for (int i = 0; i < 30; ++i) many.info_hashes.push_back(hash_of(std::uint8_t(i)));
  auto built = p2p::lsd::build_announce("h", many);
  EXPECT_LE(built.size(), p2p::lsd::kMaxMessage);
  EXPECT_EQ(p2p::lsd::parse_announce(built)->info_hashes.size(), p2p::lsd::kMaxHashes);
}

// Two discoverers on one group port: each hears the other's torrents, never its own.
TEST(LocalDiscovery, TwoNodesOnTheHostFindEachOther) {
  boost::asio::io_context io;
  p2p::LocalDiscoverySettings s;
  s.port = static_cast<std::uint16_t>(20000 + (::getpid() % 20000));
  s.scan_interval = 50ms;
  s.interval = 300ms;  // the one started first announces again once the other listens
  std::vector<std::pair<p2p::InfoHash, boost::asio::ip::tcp::endpoint>> heard_a, heard_b;
  p2p::InfoHash shared = hash_of(0x51), only_b = hash_of(0x52);
  p2p::LocalDiscovery a(
      io, s, 40001, [&] { return std::vector<p2p::InfoHash>{shared}; },
      [&](const p2p::InfoHash& ih, const auto& ep) { heard_a.emplace_back(ih, ep); });
  p2p::LocalDiscovery b(
      io, s, 40002,
      [&] {
        return std::vector<p2p::InfoHash>{shared, only_b};
      },
      [&](const p2p::InfoHash& ih, const auto& ep) { heard_b.emplace_back(ih, ep); });
  if (!a.start() || !b.start()) GTEST_SKIP() << "no multicast here: " << a.why() << b.why();
  auto until = std::chrono::steady_clock::now() + 5s;
  while ((heard_a.size() < 2 || heard_b.empty()) && std::chrono::steady_clock::now() < until) {
    io.run_one_for(50ms);
  }
  ASSERT_GE(heard_a.size(), 2u) << "a heard nothing of b";
  ASSERT_GE(heard_b.size(), 1u);
  for (const auto& [ih, ep] : heard_a) EXPECT_EQ(ep.port(), 40002);
  for (const auto& [ih, ep] : heard_b) {
    EXPECT_EQ(ep.port(), 40001);  // never its own announces
    EXPECT_EQ(ih, shared);
  }
  EXPECT_GT(a.ignored(), 0u);  // a heard itself, and the cookie told
  // Each torrent is announced once per interval, not per scan: over 1 s, b's two torrents
  // go out at most 4 times each per group (per scan it would be 20).
  auto sent = b.sent();
  auto later = std::chrono::steady_clock::now() + 1000ms;
  while (std::chrono::steady_clock::now() < later) io.run_one_for(50ms);
  EXPECT_GT(b.sent(), sent);
  EXPECT_LE(b.sent() - sent, 2u * 4u * 2u);
}
