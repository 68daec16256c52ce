// The Prometheus page: a snapshot rendered by prometheus-cpp that promtool accepts with no
// lint remark, the counters of a real transfer between two nodes, the bound on per-torrent
// series.
#include "node/daemon/metrics.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "../p2p/torrent_events.hpp"
#include "../test_files.hpp"
#include "base/hex.hpp"
#include "node/daemon/daemon.hpp"
#include "p2p/metainfo/create_torrent.hpp"

namespace bttnode::daemon {
namespace {

using test_support::TempDir;

// promtool's verdict on a page: its exit status and what it printed.
std::pair<int, std::string> promtool_check(const std::string& page) {
  TempDir dir{"bttnode-metrics"};
  test_support::write_file(dir / "page.txt", page);
  std::string cmd = "promtool check metrics < '" + (dir / "page.txt").string() + "' > '" +
                    (dir / "out.txt").string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  return {rc, test_support::read_file(dir / "out.txt")};
}

MetricsSnapshot sample() {
  MetricsSnapshot m;
  m.uploaded = 5'000'000;
  m.downloaded = 1'234;
  m.torrents.push_back({std::string(40, 'a'), "plain.iso", 4'000'000, 0});
  // Label values with the characters the text format must escape.
  m.torrents.push_back(
      {std::string(40, 'b'), "quote \" back\\slash\nnew line ünï", 1'000'000, 1'234});
  for (const auto& s : metric_state_names()) m.states[s] = 0;
  m.states["seeding"] = 1;
  m.states["downloading"] = 1;
  m.peers = 3;
  m.payers = 1;
  m.earned["btt"] = 2.5e18;
  m.spent["btt"] = 0;
  m.settlements_received = 4;
  m.hash_failures = 2;
  m.bans = 1;
  m.closed["remote_closed"] = 7;
  m.closed["banned"] = 1;
  return m;
}

TEST(Metrics, RenderedPagePassesPromtoolClean) {
  const std::string page = render_metrics(sample());
  EXPECT_NE(page.find("# TYPE bttnode_uploaded_bytes_total counter"), std::string::npos) << page;
  EXPECT_NE(page.find("bttnode_uploaded_bytes_total 5000000"), std::string::npos) << page;
  EXPECT_NE(page.find("bttnode_uploaded_bytes_total{info_hash=\"" + std::string(40, 'a') +
                      "\",name=\"plain.iso\"} 4000000"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("name=\"quote \\\" back\\\\slash\\nnew line ünï\""), std::string::npos)
      << page;
  EXPECT_NE(page.find("bttnode_torrents{state=\"seeding\"} 1"), std::string::npos) << page;
  EXPECT_NE(page.find("bttnode_torrents{state=\"fetching_metadata\"} 0"), std::string::npos)
      << page;
  EXPECT_NE(page.find("bttnode_payers 1"), std::string::npos) << page;
  EXPECT_NE(page.find("bttnode_earned_total{token=\"btt\"} 2.5e+18"), std::string::npos) << page;
  EXPECT_NE(page.find("bttnode_settlements_total{role=\"seller\"} 4"), std::string::npos) << page;
  EXPECT_NE(page.find("bttnode_connections_closed_total{reason=\"remote_closed\"} 7"),
            std::string::npos)
      << page;
  auto [rc, out] = promtool_check(page);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;  // no lint remark either
}

TEST(Metrics, AThousandTorrentsMakeOnePagePromtoolAccepts) {
  MetricsSnapshot m = sample();
  m.torrents.clear();
  for (int i = 0; i < 1000; ++i) {
    char hash[41];
    std::snprintf(hash, sizeof hash, "%040x", i);
    m.torrents.push_back({hash, "torrent " + std::to_string(i), std::uint64_t(i) << 20, 0});
  }
  auto t0 = std::chrono::steady_clock::now();
  const std::string page = render_metrics(m);
  auto ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("1000 torrents: %zu bytes in %.1f ms\n", page.size(), ms);
  EXPECT_NE(page.find("name=\"torrent 999\"} 1047527424"), std::string::npos);
  EXPECT_LT(page.size(), 300'000u);  // two series a torrent, about 110 bytes each
  auto [rc, out] = promtool_check(page);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

TEST(Metrics, EmptyDaemonPagePassesPromtool) {
  MetricsSnapshot m;
  for (const auto& s : metric_state_names()) m.states[s] = 0;
  auto [rc, out] = promtool_check(render_metrics(m));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

TEST(Metrics, CollectsEveryStateAndCloseReason) {
  NodeSettings s;
  s.session.listen_ipv6 = false;
  Node node(s);
  std::vector<std::unique_ptr<DaemonTorrent>> none;
  auto m = collect_metrics(node, none);
  EXPECT_EQ(m.uploaded, 0u);
  EXPECT_EQ(m.states.size(), metric_state_names().size());
  EXPECT_EQ(m.closed.size(), p2p::kNumCloseReasons);
  EXPECT_EQ(m.closed.count("too_many_peers"), 1u);
}

struct Swarm {
  TempDir dir{"bttnode-metrics-swarm"};
  p2p::Metainfo meta, other;
  static constexpr std::size_t kSize = 700'000;
  Swarm() {
    test_support::write_file(dir / "seed" / "blob.bin", test_support::random_bytes(kSize, 11));
    test_support::write_file(dir / "seed" / "other.bin", test_support::random_bytes(100'000, 12));
    p2p::CreateTorrentOptions o;
    o.piece_length = 64 * 1024;
    meta = p2p::create_torrent(dir / "seed" / "blob.bin", o);
    other = p2p::create_torrent(dir / "seed" / "other.bin", o);
  }
};

NodeSettings loopback() {
  NodeSettings s;
  s.session.listen_ipv6 = false;
  return s;
}

std::unique_ptr<DaemonTorrent> daemon_torrent(int id, Node::Torrent& entry) {
  auto t = std::make_unique<DaemonTorrent>();
  t->id = id;
  t->entry = &entry;
  return t;
}

TEST(Metrics, CountersMoveWithATransfer) {
  Swarm w;
  Node seeder(loopback());
  seeder.listen();
  std::vector<std::unique_ptr<DaemonTorrent>> seeding_torrents;
  for (auto* meta : {&w.meta, &w.other}) {
    TorrentRequest r;
    r.params.metainfo = *meta;
    r.params.save_path = w.dir / "seed";
    r.params.seed_only = true;
    r.params.resume_file = w.dir / (base::to_hex(meta->info_hash) + ".resume");
    auto& e = seeder.add_torrent(std::move(r));
    ASSERT_TRUE(
        testing_events::run_until_state(seeder.io(), *e.torrent, {p2p::TorrentState::Seeding}));
    seeder.io().restart();
    seeding_torrents.push_back(daemon_torrent(int(seeding_torrents.size()) + 1, e));
  }
  seeding_torrents[0]->uploaded_before = 1000;  // an earlier run's total counts per torrent
  auto before = collect_metrics(seeder, seeding_torrents);
  EXPECT_EQ(before.uploaded, 0u);
  EXPECT_EQ(before.states["seeding"], 2u);
  ASSERT_EQ(before.torrents.size(), 2u);
  EXPECT_EQ(before.torrents[0].uploaded, 1000u);
  EXPECT_EQ(before.torrents[0].info_hash, base::to_hex(w.meta.info_hash));
  EXPECT_EQ(before.torrents[0].name, "blob.bin");
  EXPECT_EQ(collect_metrics(seeder, seeding_torrents, 1).torrents.size(), 1u);

  std::thread seeding([&] { seeder.run(); });
  Node leecher(loopback());
  leecher.listen();
  TorrentRequest get;
  get.params.metainfo = w.meta;
  get.params.save_path = w.dir / "out";
  get.params.resume_file = w.dir / "out.resume";
  get.params.peers.push_back({boost::asio::ip::make_address("127.0.0.1"), seeder.listen_port()});
  auto& l = leecher.add_torrent(std::move(get));
  std::vector<std::unique_ptr<DaemonTorrent>> leeching;
  leeching.push_back(daemon_torrent(1, l));
  bool complete = false;
  std::size_t peers_while_running = 0;
  auto passed = testing_events::on_event<p2p::event::PiecePassed>(
      leecher.session(), w.meta.info_hash, [&](const p2p::event::PiecePassed&) {
        if (!peers_while_running) peers_while_running = collect_metrics(leecher, leeching).peers;
      });
  auto finished = testing_events::on_event<p2p::event::TorrentFinished>(
      leecher.session(), w.meta.info_hash, [&](const p2p::event::TorrentFinished&) {
        complete = true;
        leecher.stop();
      });
  boost::asio::steady_timer deadline(leecher.io(), std::chrono::seconds(30));
  deadline.async_wait([&](const boost::system::error_code& ec) {
    if (!ec) leecher.stop();
  });
  leecher.run();
  ASSERT_TRUE(complete);
  EXPECT_EQ(peers_while_running, 1u);

  auto got = collect_metrics(leecher, leeching);
  EXPECT_GE(got.downloaded, Swarm::kSize);
  ASSERT_EQ(got.torrents.size(), 1u);
  EXPECT_EQ(got.torrents[0].downloaded, got.downloaded);
  EXPECT_EQ(got.states["seeding"] + got.states["paused"] + got.states["queued"], 1u);

  // The seeder's snapshot is taken on its own thread, as the route would be.
  MetricsSnapshot after;
  boost::asio::post(seeder.io(), [&] {
    after = collect_metrics(seeder, seeding_torrents);
    seeder.stop();
  });
  seeding.join();
  EXPECT_GE(after.uploaded, Swarm::kSize);
  EXPECT_EQ(after.torrents[0].uploaded, 1000 + after.uploaded);
  EXPECT_EQ(after.torrents[1].uploaded, 0u);
  auto [rc, out] = promtool_check(render_metrics(after));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

}  // namespace
}  // namespace bttnode::daemon
