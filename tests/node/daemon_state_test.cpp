// The daemon's state folder: what add() writes before it returns, duplicates, ids that stay
// and are never reused, paused torrents that stay paused, options, queue order and run-time
// settings across a restart, and remove() taking the files away.
#include "node/daemon/daemon.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../test_files.hpp"
#include "base/hex.hpp"
#include "node/daemon/state_store.hpp"
#include "p2p/metainfo/create_torrent.hpp"
#include "p2p/metainfo/magnet.hpp"
#include "p2p/torrent/torrent.hpp"

namespace bttnode::daemon {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;

struct Fixture {
  TempDir dir{"bttnode-daemon-state"};
  std::vector<std::string> torrents;  // .torrent bytes
  std::vector<p2p::InfoHash> hashes;
  Fixture() {
    fs::create_directories(dir / "src");
    for (int i = 0; i < 3; ++i) {
      auto file = dir / "src" / ("f" + std::to_string(i) + ".bin");
      test_support::write_file(file, test_support::random_bytes(100'000, std::uint32_t(i + 1)));
      p2p::CreateTorrentOptions o;
      o.piece_length = 32 * 1024;
      auto meta = p2p::create_torrent(file, o);
      torrents.push_back(p2p::encode_metainfo(meta));
      hashes.push_back(meta.info_hash);
    }
  }
  DaemonConfig config() const {
    DaemonConfig c;
    c.download_dir = dir / "dl";
    c.state_dir = dir / "state";
    c.node.session.listen_ipv6 = false;
    return c;
  }
  std::string hex(int i) const { return base::to_hex(hashes[std::size_t(i)]); }
};

AddRequest add_of(const std::string& metainfo, bool paused = false) {
  AddRequest r;
  r.metainfo = metainfo;
  r.paused = paused;
  return r;
}

TEST(DaemonState, AddWritesTheStateBeforeReturning) {
  Fixture f;
  Node node(f.config().node);
  Daemon d(node, f.config());
  auto [t, dup] = d.add(add_of(f.torrents[0]));
  ASSERT_TRUE(t);
  EXPECT_FALSE(dup);
  EXPECT_EQ(t->id, 1);
  StatePaths p{f.config().state_dir};
  EXPECT_EQ(*read_file(p.metainfo(f.hex(0)), 1 << 20), f.torrents[0]);
  auto rec = nlohmann::json::parse(*read_file(p.record(f.hex(0)), 1 << 20));
  EXPECT_EQ(rec["id"], 1);
  EXPECT_EQ(rec["download_dir"], (f.dir / "dl").string());
  auto again = d.add(add_of(f.torrents[0]));
  EXPECT_EQ(again.first, t);
  EXPECT_TRUE(again.second);
  EXPECT_EQ(d.torrents().size(), 1u);
  EXPECT_THROW(d.add(add_of("not bencode")), DaemonError);
  AddRequest bad;
  bad.magnet = "magnet:?xt=urn:btih:nothex";
  EXPECT_THROW(d.add(bad), DaemonError);
}

TEST(DaemonState, RestartKeepsIdsStatesOptionsAndNeverReusesAnId) {
  Fixture f;
  {
    Node node(f.config().node);
    Daemon d(node, f.config());
    d.add(add_of(f.torrents[0]));
    auto* paused = d.add(add_of(f.torrents[1], true)).first;
    EXPECT_EQ(paused->torrent().state(), p2p::TorrentState::Paused);
    auto* gone = d.add(add_of(f.torrents[2])).first;
    EXPECT_EQ(gone->id, 3);
    d.remove(3, false);
    EXPECT_FALSE(fs::exists(StatePaths{f.config().state_dir}.record(f.hex(2))));
    EXPECT_FALSE(fs::exists(StatePaths{f.config().state_dir}.metainfo(f.hex(2))));
    TorrentOptions o;
    o.ratio_limit = 3.5;
    o.ratio_mode = LimitMode::Single;
    o.labels = {"tv", "hd"};
    d.set_options(1, o);
    d.queue_move({2}, Daemon::QueueMove::Top);
    d.set_setting("max_upload_rate", "64k");
    d.set_setting("ratio_limit", "1.25");
    EXPECT_THROW(d.set_setting("no_such_setting", "1"), DaemonError);
    EXPECT_THROW(d.set_setting("ratio_limit", "-3"), DaemonError);
    d.save_state();
  }
  Node node(f.config().node);
  Daemon d(node, f.config());
  ASSERT_EQ(d.torrents().size(), 2u);
  DaemonTorrent* one = d.find(1);
  DaemonTorrent* two = d.find(2);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(one->torrent().info_hash(), f.hashes[0]);
  EXPECT_EQ(two->torrent().info_hash(), f.hashes[1]);
  EXPECT_TRUE(two->paused);
  EXPECT_EQ(two->torrent().state(), p2p::TorrentState::Paused);
  EXPECT_FALSE(one->paused);
  EXPECT_EQ(one->options.ratio_mode, LimitMode::Single);
  EXPECT_DOUBLE_EQ(one->options.ratio_limit, 3.5);
  EXPECT_EQ(one->options.labels, (std::vector<std::string>{"tv", "hd"}));
  EXPECT_EQ(two->queue_position, 0);
  EXPECT_EQ(one->queue_position, 1);
  EXPECT_EQ(node.settings().session.max_upload_rate, 64 * 1024);
  EXPECT_EQ(d.config().node.session.max_upload_rate, 64 * 1024);
  ASSERT_TRUE(d.config().ratio_limit);
  EXPECT_DOUBLE_EQ(*d.config().ratio_limit, 1.25);
  // Id 3 was spent: the next torrent gets 4.
  auto* again = d.add(add_of(f.torrents[2])).first;
  EXPECT_EQ(again->id, 4);
}

TEST(DaemonState, MagnetIsKeptUntilItsMetadataComes) {
  Fixture f;
  const std::string link = "magnet:?xt=urn:btih:" + f.hex(0) + "&dn=f0.bin";
  {
    Node node(f.config().node);
    Daemon d(node, f.config());
    AddRequest r;
    r.magnet = link;
    auto* t = d.add(r).first;
    EXPECT_EQ(t->magnet, link);
    EXPECT_FALSE(t->torrent().has_metadata());
  }
  Node node(f.config().node);
  Daemon d(node, f.config());
  ASSERT_EQ(d.torrents().size(), 1u);
  EXPECT_EQ(d.torrents()[0]->magnet, link);
  EXPECT_EQ(d.torrents()[0]->torrent().info_hash(), f.hashes[0]);
}

TEST(DaemonState, RemoveWithDataDeletesTheFiles) {
  Fixture f;
  Node node(f.config().node);
  Daemon d(node, f.config());
  fs::create_directories(f.dir / "dl");
  fs::copy_file(f.dir / "src" / "f0.bin", f.dir / "dl" / "f0.bin");
  d.add(add_of(f.torrents[0]));
  d.remove(1, true);
  EXPECT_FALSE(fs::exists(f.dir / "dl" / "f0.bin"));
  EXPECT_TRUE(d.torrents().empty());
  EXPECT_THROW(d.remove(1, false), DaemonError);
}

}  // namespace
}  // namespace bttnode::daemon
