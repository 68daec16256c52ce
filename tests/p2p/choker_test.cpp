#include <gtest/gtest.h>

#include <algorithm>

#include "p2p/torrent/choker.hpp"

using namespace p2p;
using Clock = std::chrono::steady_clock;

namespace {

ChokerPeer peer(std::uint64_t id, double down, double up, bool interested = true) {
  ChokerPeer p;
  p.id = id;
  p.interested = interested;
  p.download_rate = down;
  p.upload_rate = up;
  p.connected_at = Clock::now() - std::chrono::hours(1);
  return p;
}

bool has(const std::vector<std::uint64_t>& v, std::uint64_t id) {
  return std::find(v.begin(), v.end(), id) != v.end();
}

}  // namespace

TEST(Choker, LeechingRanksByDownloadRate) {
  ChokerSettings s;
  s.unchoke_slots = 2;
  Choker c(s, 1);
  std::vector<ChokerPeer> peers = {peer(1, 100, 0), peer(2, 500, 0), peer(3, 300, 0),
                                   peer(4, 50, 0)};
  auto d = c.rechoke(peers, false, Clock::now(), true);
  EXPECT_TRUE(has(d.unchoke, 2));
  EXPECT_TRUE(has(d.unchoke, 3));
  ASSERT_TRUE(d.optimistic);
  EXPECT_TRUE(*d.optimistic == 1 || *d.optimistic == 4);
  EXPECT_EQ(d.unchoke.size(), 3u);
}

TEST(Choker, SeedingRanksByUploadRate) {
  ChokerSettings s;
  s.unchoke_slots = 1;
  Choker c(s, 2);
  std::vector<ChokerPeer> peers = {peer(1, 900, 10), peer(2, 0, 800)};
  auto d = c.rechoke(peers, true, Clock::now(), false);
  EXPECT_TRUE(has(d.unchoke, 2));
}

TEST(Choker, UninterestedPeersGetNoSlot) {
  Choker c({}, 3);
  std::vector<ChokerPeer> peers = {peer(1, 900, 0, false), peer(2, 1, 0)};
  auto d = c.rechoke(peers, false, Clock::now(), true);
  EXPECT_FALSE(has(d.unchoke, 1));
  EXPECT_TRUE(has(d.unchoke, 2));
}

TEST(Choker, RankHookBeatsRate) {
  ChokerSettings s;
  s.unchoke_slots = 1;
  Choker c(s, 4);
  auto paying = peer(1, 1, 1);
  paying.rank = 10;
  std::vector<ChokerPeer> peers = {paying, peer(2, 1e9, 1e9)};
  auto d = c.rechoke(peers, false, Clock::now(), false);
  EXPECT_TRUE(has(d.unchoke, 1));
  // The fast peer still gets the optimistic slot: at least one stays open to others.
  ASSERT_TRUE(d.optimistic);
  EXPECT_EQ(*d.optimistic, 2u);
}

TEST(Choker, SnubbedPeerLosesRegularSlotWhileLeeching) {
  ChokerSettings s;
  s.unchoke_slots = 1;
  Choker c(s, 5);
  auto snub = peer(1, 1e6, 0);
  snub.snubbed = true;
  std::vector<ChokerPeer> peers = {snub, peer(2, 10, 0)};
  auto d = c.rechoke(peers, false, Clock::now(), false);
  EXPECT_TRUE(has(d.unchoke, 2));
}

TEST(Choker, OptimisticFavoursNewPeers) {
  ChokerSettings s;
  s.unchoke_slots = 0;
  int new_wins = 0;
  auto now = Clock::now();
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    Choker c(s, seed);
    auto fresh = peer(1, 0, 0);
    fresh.connected_at = now;
    std::vector<ChokerPeer> peers = {fresh, peer(2, 0, 0)};
    auto d = c.rechoke(peers, false, now, true);
    ASSERT_TRUE(d.optimistic);
    if (*d.optimistic == 1) ++new_wins;
  }
  // Weight 3 against 1: about 300 of 400.
  EXPECT_GT(new_wins, 250);
  EXPECT_LT(new_wins, 350);
}

TEST(Choker, OptimisticRotates) {
  ChokerSettings s;
  s.unchoke_slots = 0;
  Choker c(s, 9);
  auto a = peer(1, 0, 0);
  a.optimistic = true;
  std::vector<ChokerPeer> peers = {a, peer(2, 0, 0)};
  auto keep = c.rechoke(peers, false, Clock::now(), false);
  ASSERT_TRUE(keep.optimistic);
  EXPECT_EQ(*keep.optimistic, 1u);
  auto rotated = c.rechoke(peers, false, Clock::now(), true);
  ASSERT_TRUE(rotated.optimistic);
  EXPECT_EQ(*rotated.optimistic, 2u);
}

TEST(Choker, ShareOfSlotsStaysWithUnrankedPeers) {
  ChokerSettings s;
  s.unchoke_slots = 4;
  s.unranked_share = 0.5;  // two of four slots
  Choker c(s, 11);
  std::vector<ChokerPeer> peers;
  for (std::uint64_t id = 1; id <= 4; ++id) {
    auto p = peer(id, 1, 1);
    p.rank = std::int64_t(100 + id);  // four favoured peers
    peers.push_back(p);
  }
  peers.push_back(peer(5, 0, 0));  // two that are not, and slow
  peers.push_back(peer(6, 0, 0));
  auto d = c.rechoke(peers, true, Clock::now(), true);
  EXPECT_TRUE(has(d.unchoke, 4));  // the two best ranked
  EXPECT_TRUE(has(d.unchoke, 3));
  EXPECT_EQ(d.unchoke.size(), 5u);  // four regular slots and the optimistic one
  EXPECT_TRUE(has(d.unchoke, 5));
  EXPECT_TRUE(has(d.unchoke, 6));
  // Every unranked peer holds a regular slot, so the optimistic one goes to a favoured peer.
  ASSERT_TRUE(d.optimistic);
  EXPECT_TRUE(*d.optimistic == 1 || *d.optimistic == 2);
}

TEST(Choker, UnusedReservedSlotsGoBackToRankedPeers) {
  ChokerSettings s;
  s.unchoke_slots = 4;
  s.unranked_share = 0.5;
  Choker c(s, 12);
  std::vector<ChokerPeer> peers;
  for (std::uint64_t id = 1; id <= 5; ++id) {
    auto p = peer(id, 1, 1);
    p.rank = std::int64_t(id);
    peers.push_back(p);
  }
  peers.push_back(peer(6, 0, 0));
  auto d = c.rechoke(peers, true, Clock::now(), false);
  EXPECT_TRUE(has(d.unchoke, 6));
  EXPECT_TRUE(has(d.unchoke, 5));
  EXPECT_TRUE(has(d.unchoke, 4));
  EXPECT_TRUE(has(d.unchoke, 3));
}

TEST(Choker, OptimisticSlotPrefersUnrankedPeers) {
  ChokerSettings s;
  s.unchoke_slots = 1;
  s.unranked_share = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Choker c(s, seed);
    auto a = peer(1, 0, 0);
    a.rank = 5;
    auto b = peer(2, 0, 0);
    b.rank = 3;
    std::vector<ChokerPeer> peers = {a, b, peer(3, 0, 0)};
    auto d = c.rechoke(peers, true, Clock::now(), true);
    EXPECT_TRUE(has(d.unchoke, 1));
    ASSERT_TRUE(d.optimistic);
    EXPECT_EQ(*d.optimistic, 3u);
  }
}
