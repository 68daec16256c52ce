// The last piece fails its hash check when no peer has a request out: the download must ask
// for it again rather than stall one piece short.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hostile_helpers.hpp"

using namespace hostile;
using p2p::wire::MsgId;

// One piece of two blocks. A raw peer sends block 0 corrupted and goes; the good seeder,
// dialed after, sends block 1; the piece fails with a gone sender and a live one, is pinned to
// the live one, and nothing else is left in flight to wake it.
TEST(FailedLastPiece, IsFetchedAgainFromTheGoodPeer) {
  p2p::SessionSettings ls;
  ls.encryption = "allow";  // the raw peer speaks plaintext
  Pair pr(32 * 1024, 32 * 1024, ls);
  pr.add_seed();
  pr.add_leech(false);
  const std::uint16_t port = pr.leecher->listen_port();
  const auto ih = pr.meta.info_hash;
  const std::string content = pr.content;

  std::atomic<bool> served{false};
  std::thread bad([&] {
    RawPeer rp;
    if (!rp.connect(port) || !rp.handshake(ih, false, false)) return;
    p2p::wire::Bytes out;
    std::uint8_t all = 0x80;  // one piece
    p2p::wire::put_bitfield(out, std::span<const std::uint8_t>(&all, 1));
    p2p::wire::put_simple(out, MsgId::unchoke);
    rp.send(out);
    for (int i = 0; i < 50 && !served; ++i) {
      auto m = rp.read(std::chrono::seconds(5));
      if (!m) return;
      if (m->keep_alive || m->id != std::uint8_t(MsgId::request) || be32(m->body.data() + 4) != 0)
        continue;
      std::string block = content.substr(0, 16 * 1024);
      block[100] ^= 0x5a;
      p2p::wire::Bytes piece;
      p2p::wire::put_piece(piece, 0, 0,
                           std::span<const std::uint8_t>(
                               reinterpret_cast<const std::uint8_t*>(block.data()), block.size()));
      rp.send(piece);
      served = true;
    }
    // Gone with block 1 unanswered.
  });
  ASSERT_TRUE(pr.run_until([&] { return served.load(); }, std::chrono::seconds(10)));
  bad.join();
  pr.io.run_for(std::chrono::milliseconds(200));
  pr.leech_t->connect_to(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                        pr.seeder->listen_port()));
  EXPECT_TRUE(pr.run_until([&] { return pr.done; }, std::chrono::seconds(10)))
      << "the download stalled after the last piece failed";
  EXPECT_GE(pr.leecher->counters().hash_failures, 1u);
  EXPECT_EQ(slurp(pr.dir.path / "out" / "data.bin"), content);
}
