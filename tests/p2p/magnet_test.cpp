#include "p2p/metainfo/magnet.hpp"

#include <gtest/gtest.h>

#include "base/hex.hpp"

TEST(Magnet, ParsesHexHashAndFields) {
  auto m = p2p::parse_magnet(
      "magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A&dn=Some+File%20Name"
      "&tr=http%3A%2F%2Ftracker.example%2Fannounce&tr=udp://t2.example:6969&x.pe=10.0.0.1:6881"
      "&x.pe=%5B::1%5D:51413");
  EXPECT_EQ(base::to_hex(m.info_hash), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
  EXPECT_EQ(m.display_name, "Some File Name");
  ASSERT_EQ(m.trackers.size(), 2u);
  EXPECT_EQ(m.trackers[0], "http://tracker.example/announce");
  EXPECT_EQ(m.trackers[1], "udp://t2.example:6969");
  ASSERT_EQ(m.peers.size(), 2u);
  EXPECT_EQ(m.peers[1], "[::1]:51413");
}

TEST(Magnet, ParsesBase32Hash) {
  // Base32 of c12fe1c06bba254a9dc9f519b335aa7c1367a88a.
  auto m = p2p::parse_magnet("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK");
  EXPECT_EQ(base::to_hex(m.info_hash), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
  auto lower = p2p::parse_magnet("magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek");
  EXPECT_EQ(lower.info_hash, m.info_hash);
}

TEST(Magnet, RejectsBadLinks) {
  EXPECT_THROW(p2p::parse_magnet("http://example.com"), p2p::MagnetError);
  EXPECT_THROW(p2p::parse_magnet("magnet:?dn=x"), p2p::MagnetError);
  EXPECT_THROW(p2p::parse_magnet("magnet:?xt=urn:btih:1234"), p2p::MagnetError);
  EXPECT_THROW(p2p::parse_magnet("magnet:?xt=urn:btih:ZZ2FE1C06BBA254A9DC9F519B335AA7C1367A88A"),
               p2p::MagnetError);
  EXPECT_THROW(p2p::parse_magnet("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1"),
               p2p::MagnetError);
  EXPECT_THROW(
      p2p::parse_magnet("magnet:?xt=urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A&dn=%4"),
      p2p::MagnetError);
  try {
    p2p::parse_magnet("magnet:?xt=urn:btmh:1220abcd");
    FAIL();
  } catch (const p2p::MagnetError& e) {
    EXPECT_NE(std::string(e.what()).find("v2"), std::string::npos);
  }
}

TEST(Magnet, MakeThenParseRoundTrips) {
  p2p::MagnetLink link;
  link.info_hash.fill(0xab);
  link.display_name = "a b&c=d";
  link.trackers = {"http://t.example/announce?x=1&y=2", "udp://u.example:80"};
  link.peers = {"127.0.0.1:6881"};
  std::string uri = p2p::make_magnet(link);
  EXPECT_TRUE(uri.starts_with("magnet:?xt=urn:btih:abababab"));
  auto back = p2p::parse_magnet(uri);
  EXPECT_EQ(back.info_hash, link.info_hash);
  EXPECT_EQ(back.display_name, link.display_name);
  EXPECT_EQ(back.trackers, link.trackers);
  EXPECT_EQ(back.peers, link.peers);
}
