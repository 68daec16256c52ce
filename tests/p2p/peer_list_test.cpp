// Big peer lists from trackers and PEX floods: bounded queue, constant-time lookups, and
// few dials from what one peer tells us.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hostile_helpers.hpp"

using namespace hostile;
using boost::asio::ip::make_address_v4;
using boost::asio::ip::tcp;

namespace {

tcp::endpoint nth_loopback(std::uint32_t i, std::uint16_t port = 9) {
  // 127.1.0.0/16 and up: refused at once, never a real peer.
  return tcp::endpoint(make_address_v4((127u << 24) | (1u << 16) | i), port);
}

std::string pex_added(std::uint32_t first, std::uint32_t n) {
  std::string compact;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t ip = (127u << 24) | (2u << 16) | (first + i);
    for (int s = 24; s >= 0; s -= 8) compact += char((ip >> s) & 0xff);
    compact += char(0);
    compact += char(9);
  }
  return "d5:added" + std::to_string(compact.size()) + ":" + compact + "e";
}

}  // namespace

TEST(PeerList, SixtyThousandTrackerPeersAreQuickAndCapped) {
  Pair pr(256 * 1024, 16384);
  pr.add_leech(false);
  auto t0 = std::chrono::steady_clock::now();
  for (std::uint32_t i = 0; i < 60000; ++i) pr.leech_t->connect_to(nth_loopback(i));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Before: every peer was looked for in the whole queue, 3.2 s for 60,000.
  EXPECT_LT(ms, 100.0);
  EXPECT_LE(pr.leech_t->num_candidates(), p2p::Torrent::kMaxCandidates);
  EXPECT_GE(pr.leech_t->num_candidates() + pr.leech_t->dials(), p2p::Torrent::kMaxCandidates);
  // Another announce with the same peers finds them queued or too recently dialed.
  auto dials = pr.leech_t->dials();
  for (std::uint32_t i = 0; i < 60000; ++i) pr.leech_t->connect_to(nth_loopback(i));
  EXPECT_LE(pr.leech_t->num_candidates(), p2p::Torrent::kMaxCandidates);
  EXPECT_EQ(pr.leech_t->dials(), dials);
  EXPECT_LE(pr.leech_t->num_redial_entries(), 2 * p2p::Torrent::kMaxCandidates);
  pr.io.run_for(std::chrono::milliseconds(200));
}

TEST(PeerList, PexFloodToASeedDialsFewPeers) {
  Pair pr(256 * 1024, 16384);
  pr.add_seed();
  ASSERT_TRUE(pr.seed_t->is_seed());
  const auto ih = pr.meta.info_hash;
  const std::uint16_t port = pr.seeder->listen_port();
  std::atomic<bool> finished{false};
  std::atomic<int> sent{0};
  RawPeer rp;
  std::thread flood([&] {
    if (!rp.connect(port) || !rp.handshake(ih, true, true)) return;
    p2p::wire::Bytes out;
    std::string hs = "d1:md6:ut_pexi7eee";
    p2p::wire::put_extended(
        out, 0,
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(hs.data()), hs.size()));
    rp.send(out);
    for (std::uint32_t m = 0; m < 40; ++m) {
      std::string body = pex_added(m * 500, 500);
      out.clear();
      // The seeder numbers ut_pex 2 for itself.
      p2p::wire::put_extended(out, 2,
                              std::span<const std::uint8_t>(
                                  reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
      if (!rp.send(out)) break;
      ++sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    finished = true;
  });
  pr.run_until([&] { return finished.load(); }, std::chrono::seconds(20));
  pr.io.run_for(std::chrono::milliseconds(300));
  rp.close();
  flood.join();
  EXPECT_EQ(sent.load(), 40);  // 20,000 addresses offered
  // Before: the seed dialed every one of them.
  EXPECT_LE(pr.seed_t->dials(), std::uint64_t(p2p::Torrent::kMaxPexPeersPerMinute));
  EXPECT_GT(pr.seed_t->dials(), 0u);
  // A seed does not dial peers flagged as seeds at all.
  auto before = pr.seed_t->dials();
  EXPECT_TRUE(pr.seed_t->connect_to_pex(nth_loopback(7, 10), true));
  EXPECT_EQ(pr.seed_t->dials(), before);
}
