// State a long-running torrent keeps about peers stays bounded: accounts of closed
// connections, redial times, strikes and bans are dropped when old or over their caps.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "hostile_helpers.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/ban_list.hpp"
#include "p2p/torrent/peer_history.hpp"
#include "p2p/torrent/redial_table.hpp"
#include "p2p/torrent/torrent.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

TEST(PeerHistory, KeepsLivePeersAndTheNewestPastOnes) {
  p2p::PeerHistory h(3);
  for (int i = 0; i < 10; ++i) {
    auto key = "10.0.0." + std::to_string(i) + ":6881";
    h.open(key).payload_down = i;
    h.close(key);
  }
  ASSERT_EQ(h.accounts().size(), 3u);
  EXPECT_EQ(h.accounts().count("10.0.0.9:6881"), 1u);
  EXPECT_EQ(h.accounts().count("10.0.0.7:6881"), 1u);
  EXPECT_EQ(h.accounts().count("10.0.0.6:6881"), 0u);  // oldest dropped
  EXPECT_EQ(h.accounts().at("10.0.0.8:6881").payload_down, 8);
}

TEST(PeerHistory, ALiveConnectionIsNeverDroppedAndKeepsItsAddress) {
  p2p::PeerHistory h(1);
  auto& live = h.open("live:1");
  live.payload_up = 42;
  h.close("live:1");
  auto& again = h.open("live:1");  // back before being dropped
  EXPECT_EQ(&again, &live);
  for (int i = 0; i < 5; ++i) {
    h.open("gone:" + std::to_string(i));
    h.close("gone:" + std::to_string(i));
  }
  ASSERT_NE(h.find("live:1"), nullptr);
  EXPECT_EQ(h.find("live:1"), &live);
  EXPECT_EQ(live.payload_up, 42);
  EXPECT_EQ(h.accounts().size(), 2u);  // the live one and the newest gone
  h.close("unknown:1");                // never opened: no effect
  EXPECT_EQ(h.num_live(), 1u);
}

TEST(BanList, BansExpireAfterTheirDuration) {
  p2p::BanList bans(std::chrono::seconds(10));
  auto t0 = Clock::now();
  EXPECT_TRUE(bans.ban("1.2.3.4", t0));
  EXPECT_FALSE(bans.ban("1.2.3.4", t0 + std::chrono::seconds(5)));  // renewed
  EXPECT_TRUE(bans.banned("1.2.3.4", t0 + std::chrono::seconds(14)));
  EXPECT_FALSE(bans.banned("1.2.3.4", t0 + std::chrono::seconds(15)));
  bans.ban("5.6.7.8", t0);
  bans.expire(t0 + std::chrono::seconds(11));
  EXPECT_EQ(bans.size(), 1u);
  bans.expire(t0 + std::chrono::seconds(16));
  EXPECT_EQ(bans.size(), 0u);
}

TEST(Strikes, AreForgottenAWhileAfterTheLast) {
  p2p::Strikes strikes(std::chrono::seconds(60));
  auto t0 = Clock::now();
  EXPECT_EQ(strikes.add("a", 2, t0), 2);
  EXPECT_EQ(strikes.add("a", 2, t0 + std::chrono::seconds(30)), 4);
  // A minute of good behaviour after the last strike starts afresh.
  EXPECT_EQ(strikes.add("a", 2, t0 + std::chrono::seconds(95)), 2);
  strikes.add("b", 1, t0);
  strikes.expire(t0 + std::chrono::seconds(61));
  EXPECT_EQ(strikes.get("b"), 0);
  EXPECT_EQ(strikes.get("a"), 2);
  strikes.expire(t0 + std::chrono::seconds(200));
  EXPECT_EQ(strikes.size(), 0u);
}

TEST(RedialTable, PrunesPassedEntriesAndHoldsItsCap) {
  p2p::RedialTable table(5);
  auto t0 = Clock::now();
  std::vector<tcp::endpoint> eps;
  for (int i = 0; i < 20; ++i) {
    eps.emplace_back(make_address("10.1.0.1"), std::uint16_t(1000 + i));
    ASSERT_TRUE(table.try_take(eps.back(), t0, std::chrono::seconds(10 + i)));
  }
  EXPECT_FALSE(table.try_take(eps[0], t0 + std::chrono::seconds(5), std::chrono::seconds(10)));
  auto keep_none = [](const tcp::endpoint&) { return false; };
  table.prune(t0 + std::chrono::seconds(1), keep_none);
  ASSERT_EQ(table.size(), 5u);  // over the cap: the soonest to expire went
  EXPECT_FALSE(table.try_take(eps[19], t0 + std::chrono::seconds(2), std::chrono::seconds(1)));
  EXPECT_TRUE(table.try_take(eps[0], t0 + std::chrono::seconds(2), std::chrono::seconds(1)));
  table.prune(t0 + std::chrono::seconds(100),
              [&](const tcp::endpoint& ep) { return ep == eps[19]; });
  EXPECT_EQ(table.size(), 1u);  // only the kept one
}

// A torrent that dialed many endpoints forgets each once its retry time has passed, and
// never holds more than max_redial_entries.
TEST(BoundedState, TorrentRedialTimesArePruned) {
  hostile::TempDir dir;
  setenv("BTTNODE_STATE_DIR", (dir.path / "state").c_str(), 1);
  boost::asio::io_context io;
  p2p::SessionSettings s;
  s.listen_ipv6 = false;
  s.max_outgoing_per_torrent = 500;
  s.max_connections_per_torrent = 500;
  s.max_redial_entries = 40;
  p2p::Session session(io, s);
  p2p::AddTorrentParams params;
  params.info_hash.fill(7);
  params.save_path = dir.path / "out";
  auto t = session.add_torrent(params);
  io.run_for(std::chrono::milliseconds(50));
  ASSERT_EQ(t->state(), p2p::TorrentState::FetchingMetadata);
  for (int i = 0; i < 30; ++i) {
    t->connect_to(tcp::endpoint(make_address("127.0.0.1"), std::uint16_t(2 + i)));
  }
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(t->num_redial_entries(), 30u);
  auto now = Clock::now();
  t->prune_state(now + std::chrono::seconds(30));  // not yet time to redial: kept
  EXPECT_EQ(t->num_redial_entries(), 30u);
  t->prune_state(now + std::chrono::seconds(61));
  EXPECT_EQ(t->num_redial_entries(), 0u);

  for (int i = 0; i < 100; ++i) {
    t->connect_to(tcp::endpoint(make_address("127.0.0.1"), std::uint16_t(200 + i)));
  }
  io.run_for(std::chrono::milliseconds(200));
  t->prune_state(Clock::now());
  EXPECT_LE(t->num_redial_entries(), 40u);
  EXPECT_GT(t->num_redial_entries(), 0u);
}

}  // namespace
