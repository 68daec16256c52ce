// HAVE messages before the metadata of a magnet link is known cost a bounded amount.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "hostile_helpers.hpp"

using namespace hostile;
using p2p::wire::MsgId;

namespace {

// Resident memory of this process, in bytes.
long rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * long(sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST(EarlyHave, IndexIsBoundedBeforeMetadata) {
  p2p::wire::Geometry none;  // no metadata
  p2p::wire::Bytes b;
  p2p::wire::put_have(b, 0x7ffffff0u);
  auto r = p2p::wire::parse_message(b, none);
  EXPECT_EQ(r.status, p2p::wire::ParseStatus::error);
  EXPECT_NE(r.error.find("beyond"), std::string::npos) << r.error;
  b.clear();
  p2p::wire::put_have(b, p2p::wire::kMaxPiecesBeforeMetadata - 1);
  EXPECT_EQ(p2p::wire::parse_message(b, none).status, p2p::wire::ParseStatus::ok);
  b.clear();
  p2p::wire::put_have(b, p2p::wire::kMaxPiecesBeforeMetadata);
  EXPECT_EQ(p2p::wire::parse_message(b, none).status, p2p::wire::ParseStatus::error);
}

// A peer of a magnet torrent sends HAVEs with huge indices: the connection is dropped for
// the absurd one, and the largest allowed ones cost no more than a small set.
TEST(EarlyHave, HugeHaveBeforeMetadataCostsLittleMemory) {
  Pair pr(64 * 1024, 16 * 1024);
  p2p::AddTorrentParams lp;
  lp.info_hash = pr.meta.info_hash;
  lp.save_path = pr.dir.path / "out";
  lp.resume_file = pr.dir.path / "leech.resume";
  pr.leech_t = pr.leecher->add_torrent(lp);
  ASSERT_FALSE(pr.leech_t->has_metadata());
  const std::uint16_t port = pr.leecher->listen_port();
  const auto ih = pr.meta.info_hash;
  long before = rss_bytes();

  std::atomic<bool> first_kept{false}, second_closed{false};
  std::thread peers([&] {
    {
      // Allowed but large indices, many of them: kept in the bounded set.
      RawPeer rp;
      if (!rp.connect(port) || !rp.handshake(ih, true, true)) return;
      p2p::wire::Bytes out;
      for (std::uint32_t i = 0; i < 20000; ++i) {
        p2p::wire::put_have(out, p2p::wire::kMaxPiecesBeforeMetadata - 1 - i * 7);
      }
      rp.send(out);
      first_kept = !rp.wait_closed(std::chrono::milliseconds(1500));
    }
    {
      RawPeer rp;
      if (!rp.connect(port) || !rp.handshake(ih, true, true)) return;
      p2p::wire::Bytes out;
      p2p::wire::put_have(out, 0x7ffffff0u);
      rp.send(out);
      second_closed = rp.wait_closed(std::chrono::seconds(5));
    }
  });
  pr.run_until([&] { return second_closed.load(); }, std::chrono::seconds(10));
  peers.join();
  long grown = rss_bytes() - before;
  EXPECT_TRUE(first_kept.load());
  EXPECT_TRUE(second_closed.load());
  // Before the bound a single HAVE resized a bit vector to the index (256 MiB here).
  EXPECT_LT(grown, 16l << 20) << "grew by " << grown << " bytes";
}
