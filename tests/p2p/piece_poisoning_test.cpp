// Peers that send bad blocks next to an honest seeder: the download completes and only the
// liar is blamed.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "hostile_helpers.hpp"

using namespace hostile;
using p2p::wire::MsgId;

namespace {

bool banned_has(const p2p::Torrent& t, const std::string& what) {
  auto b = t.banned();
  return std::find(b.begin(), b.end(), what) != b.end();
}

boost::asio::ip::tcp::endpoint seed_endpoint(const Pair& pr) {
  return {boost::asio::ip::make_address("127.0.0.1"), pr.seeder->listen_port()};
}

}  // namespace

// Connects in, sends one unrequested random block for every piece and leaves.
TEST(PiecePoisoning, UnrequestedBlocksAreRefused) {
  Pair pr(2 * 1024 * 1024, 64 * 1024);
  pr.add_seed();
  pr.add_leech(false);  // the poisoner comes first, the seeder once it is done
  const auto ih = pr.meta.info_hash;
  const int pieces = pr.meta.num_pieces();
  std::atomic<bool> poisoned{false};
  const std::uint16_t port = pr.leecher->listen_port();
  std::atomic<bool> closed_on_us{false};
  RawPeer rp;
  std::thread poisoner([&] {
    if (!rp.connect(port) || !rp.handshake(ih, true, false)) return;
    p2p::wire::Bytes out;
    p2p::wire::put_simple(out, MsgId::have_none);
    rp.send(out);
    std::string junk = random_bytes(16384, 99);
    bool ok = true;
    for (int p = 0; p < pieces && ok; ++p) {
      out.clear();
      p2p::wire::put_piece(out, std::uint32_t(p), 0,
                           std::span<const std::uint8_t>(
                               reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
      ok = rp.send(out);
    }
    poisoned = true;
    closed_on_us = rp.wait_closed(std::chrono::seconds(10));
    rp.close();
  });
  pr.run_until([&] { return poisoned.load(); }, std::chrono::seconds(10));
  pr.io.run_for(std::chrono::milliseconds(200));
  pr.leech_t->connect_to(seed_endpoint(pr));
  bool done = pr.run_until([&] { return pr.done; }, std::chrono::seconds(60));
  poisoner.join();
  ASSERT_TRUE(done) << "hash failures " << pr.leech_t->hash_failures();
  EXPECT_EQ(slurp(pr.dir.path / "out" / "data.bin"), pr.content);
  EXPECT_EQ(pr.leech_t->hash_failures(), 0);  // no unasked block made it into a piece
  EXPECT_FALSE(banned_has(*pr.leech_t, pr.seed_key()));
  EXPECT_TRUE(closed_on_us.load());  // more than a few unasked blocks cost the connection
}

// Has every piece, answers the first request of each piece with random bytes and rejects
// the rest, so every piece it touches fails with two senders.
TEST(PiecePoisoning, SharedBadPieceIsBlamedOnTheLiarOnly) {
  Pair pr(2 * 1024 * 1024, 64 * 1024);
  pr.add_seed();
  pr.add_leech(false);
  const auto ih = pr.meta.info_hash;
  const std::uint16_t port = pr.leecher->listen_port();
  std::atomic<int> garbage_sent{0};
  RawPeer rp;
  std::thread poisoner([&] {
    if (!rp.connect(port) || !rp.handshake(ih, true, false)) return;
    p2p::wire::Bytes out;
    p2p::wire::put_simple(out, MsgId::have_all);
    p2p::wire::put_simple(out, MsgId::unchoke);
    rp.send(out);
    std::set<std::uint32_t> answered;
    std::string junk = random_bytes(16384, 5);
    while (auto m = rp.read(std::chrono::seconds(20))) {
      if (m->keep_alive || m->id != std::uint8_t(MsgId::request) || m->body.size() != 12) continue;
      std::uint32_t idx = be32(m->body.data()), begin = be32(m->body.data() + 4),
                    len = be32(m->body.data() + 8);
      out.clear();
      if (answered.insert(idx).second) {
        p2p::wire::put_piece(
            out, idx, begin,
            std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(junk.data()), len));
        ++garbage_sent;
      } else {
        p2p::wire::put_request(out, MsgId::reject, idx, begin, len);
      }
      if (!rp.send(out)) break;
    }
    rp.close();
  });
  std::string poisoner_id = "id:" + hex(rp.peer_id);
  // The liar gets the first requests; then the seeder joins and fetches what it refused.
  pr.run_until([&] { return garbage_sent.load() >= 4; }, std::chrono::seconds(10));
  pr.leech_t->connect_to(seed_endpoint(pr));
  bool done = pr.run_until([&] { return pr.done; }, std::chrono::seconds(90));
  rp.close();  // ends the poisoner's read if it was not banned
  poisoner.join();
  ASSERT_TRUE(done) << "hash failures " << pr.leech_t->hash_failures();
  EXPECT_EQ(slurp(pr.dir.path / "out" / "data.bin"), pr.content);
  ASSERT_GT(garbage_sent.load(), 0);
  // At least four pieces were poisoned, each then finished by the seeder: striking every
  // sender of a failed piece, as before, banned the seeder with the liar at the fourth.
  EXPECT_GE(garbage_sent.load(), 4);
  EXPECT_GE(pr.leech_t->hash_failures(), 2);
  EXPECT_TRUE(banned_has(*pr.leech_t, poisoner_id));
  EXPECT_FALSE(banned_has(*pr.leech_t, pr.seed_key()));
  for (const auto& b : pr.leech_t->banned()) {
    EXPECT_EQ(b.find(std::to_string(pr.seeder->listen_port())), std::string::npos) << b;
  }
  // The seeder's data all counted as verified in the end.
  auto acc = pr.leech_t->peer_accounts();
  EXPECT_GT(acc[pr.seed_key()].verified_down, 0);
}
