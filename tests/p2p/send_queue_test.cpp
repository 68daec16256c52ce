// A peer that asks and never reads: the send queue stays under its bound, and a peer that
// keeps asking for what it may not have is disconnected.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hostile_helpers.hpp"

using namespace hostile;
using p2p::wire::MsgId;

namespace {

p2p::wire::Bytes extended(std::uint8_t id, const std::string& body) {
  p2p::wire::Bytes out;
  p2p::wire::put_extended(out, id,
                          std::span<const std::uint8_t>(
                              reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  return out;
}

std::size_t max_send_queue(const p2p::Torrent& t) {
  std::size_t m = 0;
  for (const auto& p : t.peers()) m = std::max(m, p.send_queue);
  return m;
}

}  // namespace

TEST(SendQueue, MetadataRequestFloodIsBounded) {
  // A torrent whose info dictionary has several metadata pieces (64 KiB of hashes).
  p2p::SessionSettings ss;
  ss.max_send_queue = 128 * 1024;
  ss.socket_buffer_size = 16 * 1024;  // the kernel holds little of the queue for us
  ss.max_refused_requests = 1000000;  // keep the connection: it is the queue we watch
  hostile::Pair pr(3276 * 4096, 4096, {}, ss);
  pr.add_seed();
  const auto ih = pr.meta.info_hash;
  const std::uint16_t port = pr.seeder->listen_port();
  RawPeer rp;
  // A small receive buffer so the kernel cannot soak up the replies for us.
  std::atomic<bool> sent{false};
  std::thread flood([&] {
    if (!rp.connect(port)) return;
    int small = 16384;
    setsockopt(rp.fd(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    if (!rp.handshake(ih, true, true)) return;
    std::string hs = "d1:md11:ut_metadatai3eee";
    p2p::wire::Bytes out = extended(0, hs);
    // The seeder numbers ut_metadata 1 for itself: requests go to that id.
    for (int i = 0; i < 10000; ++i) {
      auto r = extended(1, "d8:msg_typei0e5:piecei" + std::to_string(i % 4) + "ee");
      out.insert(out.end(), r.begin(), r.end());
    }
    EXPECT_GT(out.size(), 300000u);
    sent = rp.send(out);
  });
  std::size_t peak = 0;
  pr.run_until(
      [&] {
        peak = std::max(peak, max_send_queue(*pr.seed_t));
        return false;
      },
      std::chrono::seconds(4));
  EXPECT_TRUE(sent.load());
  EXPECT_EQ(pr.seed_t->peers().size(), 1u);  // still connected, its requests waiting
  const std::size_t limit = ss.max_send_queue;
  // Before the bound every request was answered at once: about 157 MiB queued.
  EXPECT_GT(peak, 0u);
  EXPECT_LE(peak, limit + 32 * 1024) << "peak " << peak;
  rp.close();
  flood.join();
}

TEST(SendQueue, RequestFloodWhileChokedDisconnects) {
  hostile::Pair pr(1024 * 1024, 16384);
  pr.add_seed();
  const auto ih = pr.meta.info_hash;
  const std::uint16_t port = pr.seeder->listen_port();
  std::atomic<int> rejects{0};
  std::atomic<bool> closed{false};
  RawPeer rp;
  std::thread flood([&] {
    if (!rp.connect(port) || !rp.handshake(ih, true, false)) return;
    p2p::wire::Bytes out;
    // Not interested, so never unchoked: every request is refused.
    for (int i = 0; i < 100000; ++i) {
      p2p::wire::put_request(out, MsgId::request, std::uint32_t(i % 64), 0, 16384);
    }
    rp.send(out);  // may fail part way once we are cut off
    while (auto m = rp.read(std::chrono::seconds(5))) {
      if (!m->keep_alive && m->id == std::uint8_t(MsgId::reject)) ++rejects;
    }
    closed = true;
  });
  pr.run_until([&] { return closed.load(); }, std::chrono::seconds(20));
  flood.join();
  EXPECT_TRUE(closed.load());
  // Before: 100,000 rejects (1.7 MB) were queued; now the peer goes after the limit.
  EXPECT_LE(rejects.load(), p2p::SessionSettings{}.max_refused_requests + 1);
  EXPECT_GT(rejects.load(), 0);
}
