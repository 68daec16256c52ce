// The node runtime: torrents with no payment services, a transfer between two nodes, run-time
// settings, and the stop that ends run().
#include "node/runtime/node.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "../p2p/torrent_events.hpp"
#include "../test_files.hpp"
#include "p2p/metainfo/create_torrent.hpp"

namespace bttnode {
namespace {

using test_support::TempDir;

struct Data {
  TempDir dir{"bttnode-runtime"};
  p2p::Metainfo meta;
  Data() {
    std::filesystem::create_directories(dir / "seed");
    test_support::write_file(dir / "seed" / "blob.bin", test_support::random_bytes(600'000, 7));
    p2p::CreateTorrentOptions o;
    o.piece_length = 64 * 1024;
    meta = p2p::create_torrent(dir / "seed" / "blob.bin", o);
  }
};

NodeSettings loopback() {
  NodeSettings s;
  s.session.listen_ipv6 = false;
  return s;
}

TEST(NodeRuntime, TransfersBetweenTwoNodesAndStops) {
  Data d;
  Node seeder(loopback());
  seeder.listen();
  TorrentRequest seed;
  seed.params.metainfo = d.meta;
  seed.params.save_path = d.dir / "seed";
  seed.params.seed_only = true;
  seed.params.resume_file = d.dir / "seed.resume";
  auto& s = seeder.add_torrent(std::move(seed));
  // The data is checked on the disk threads first.
  ASSERT_TRUE(testing_events::run_until_state(seeder.io(), *s.torrent, {p2p::TorrentState::Seeding}));
  seeder.io().restart();
  EXPECT_FALSE(s.seller);
  EXPECT_EQ(seeder.find(d.meta.info_hash), &s);
  std::thread seeding([&] { seeder.run(); });

  Node leecher(loopback());
  leecher.listen();
  TorrentRequest get;
  get.params.metainfo = d.meta;
  get.params.save_path = d.dir / "out";
  get.params.resume_file = d.dir / "out.resume";
  get.params.peers.push_back({boost::asio::ip::make_address("127.0.0.1"), seeder.listen_port()});
  auto& l = leecher.add_torrent(std::move(get));
  bool complete = false;
  auto finished = testing_events::on_event<p2p::event::TorrentFinished>(
      leecher.session(), d.meta.info_hash, [&](const p2p::event::TorrentFinished&) {
        complete = true;
        leecher.settle(l, [&] { leecher.stop(); });  // no buyer: at once
      });
  boost::asio::steady_timer deadline(leecher.io(), std::chrono::seconds(30));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) leecher.stop();
  });
  leecher.run();
  boost::asio::post(seeder.io(), [&] { seeder.stop(); });
  seeding.join();
  EXPECT_TRUE(complete);
  EXPECT_TRUE(leecher.stopping());
  EXPECT_EQ(test_support::read_file(d.dir / "out" / "blob.bin"),
            test_support::read_file(d.dir / "seed" / "blob.bin"));
}

TEST(NodeRuntime, SettingsChangeWhileRunningOnlyWhereTheyApply) {
  Node node(loopback());
  node.set("max-up-rate", "2M");
  EXPECT_EQ(node.settings().session.max_upload_rate, 2 << 20);
  EXPECT_THROW(node.set("port", "6881"), base::SettingsError);
  EXPECT_THROW(node.set("max-up-rate", "-1"), base::SettingsError);
  EXPECT_EQ(node.settings().session.max_upload_rate, 2 << 20);
}

TEST(NodeRuntime, OneEntryPerTorrent) {
  Data d;
  Node node(loopback());
  TorrentRequest r;
  r.params.metainfo = d.meta;
  r.params.save_path = d.dir / "seed";
  r.params.seed_only = true;
  r.params.resume_file = d.dir / "r.resume";
  TorrentRequest again = r;
  node.add_torrent(std::move(r));
  EXPECT_THROW(node.add_torrent(std::move(again)), std::runtime_error);
  EXPECT_EQ(node.torrents().size(), 1u);
  // Stopping before run: run() returns once the session has shut down.
  node.stop();
  node.run();
  EXPECT_TRUE(node.stopping());
}

}  // namespace
}  // namespace bttnode
