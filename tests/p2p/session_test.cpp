// Two sessions in one process on 127.0.0.1: a seeder and a downloader, with real sockets.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/wire/bencode.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/session/session.hpp"
#include "p2p/metainfo/sha1.hpp"
#include "p2p/torrent/torrent.hpp"
#include "swarm_torrent.hpp"
#include "torrent_events.hpp"

namespace fs = std::filesystem;
using namespace p2p;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

namespace {

using test_support::read_file;
using test_support::TempDir;

// Records what the extension hook is told.
struct Recorder {
  int handshakes = 0;
  int messages = 0;
  std::string last_message;
  ByteCount sent = 0, received = 0, passed = 0;
};

class TestPeerExt : public PeerExtension {
 public:
  TestPeerExt(PeerHandle& h, Recorder& r) : h_(h), r_(r) {}
  void add_handshake(bencode::Dict& d) override { d["test_key"] = "hello"; }
  void on_handshake(const bencode::Dict& d) override {
    if (d.count("test_key")) ++r_.handshakes;
    if (h_.peer_supports("test_ext")) h_.send_extension_message("test_ext", "ping");
  }
  void on_message(std::string_view name, std::string_view body) override {
    if (name == "test_ext") {
      ++r_.messages;
      r_.last_message = std::string(body);
    }
  }
  void on_payload_sent(ByteCount n) override { r_.sent += n; }
  void on_payload_received(ByteCount n) override { r_.received += n; }
  void on_piece_passed(PieceIndex, ByteCount n) override { r_.passed += n; }

 private:
  PeerHandle& h_;
  Recorder& r_;
};

class TestTorrentExt : public TorrentExtension {
 public:
  explicit TestTorrentExt(Recorder& r) : r_(r) {}
  std::vector<std::string> message_names() const override { return {"test_ext"}; }
  std::unique_ptr<PeerExtension> new_peer(PeerHandle& h) override {
    return std::make_unique<TestPeerExt>(h, r_);
  }

 private:
  Recorder& r_;
};

struct Swarm {
  TempDir dir{"bttnode-session"};
  std::string content;
  Metainfo meta;
  boost::asio::io_context io;
  std::unique_ptr<Session> seeder, leecher;
  std::shared_ptr<Torrent> seed_t, leech_t;
  bool done = false;
  EventBus::Subscription finished_;

  void watch_finished() {
    finished_ = testing_events::on_event<event::TorrentFinished>(
        *leecher, leech_t->info_hash(), [this](const auto&) { done = true; });
  }

  Swarm(std::size_t size, std::int64_t piece_len, SessionSettings leech_settings = {}) {
    meta = test_support::make_swarm_torrent(dir.path(), size, piece_len, &content);
    setenv("BTTNODE_STATE_DIR", (dir.path() / "state").c_str(), 1);
    SessionSettings s;
    s.listen_ipv6 = false;
    seeder = std::make_unique<Session>(io, s);
    seeder->listen();
    leech_settings.listen_ipv6 = false;
    leecher = std::make_unique<Session>(io, leech_settings);
    leecher->listen();
  }

  void add_seed() {
    AddTorrentParams sp;
    sp.metainfo = meta;
    sp.save_path = dir.path() / "src";
    sp.seed_only = true;
    sp.resume_file = dir.path() / "seed.resume";
    seed_t = seeder->add_torrent(sp);
    testing_events::run_until_state(io, *seed_t, {TorrentState::Seeding, TorrentState::Error});
  }

  void start(const tcp::endpoint& seed_ep) {
    add_seed();
    ASSERT_TRUE(seed_t->is_seed());
    AddTorrentParams lp;
    lp.metainfo = meta;
    lp.save_path = dir.path() / "out";
    lp.resume_file = dir.path() / "leech.resume";
    lp.peers = {seed_ep};
    leech_t = leecher->add_torrent(lp);
    watch_finished();
  }

  bool run_until_done(std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io.run_for(std::chrono::milliseconds(50));
    }
    return done;
  }

  // Seconds until the leecher has the whole file right; a failure past `limit`.
  double timed_download(std::chrono::seconds limit) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(run_until_done(limit));
    EXPECT_EQ(read_file(dir.path() / "out" / "data.bin"), content);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
};

}  // namespace

TEST(Session, DownloadsFromSeederWithAccountingAndExtensions) {
  Recorder seed_rec, leech_rec;
  Swarm sw(3 * 1024 * 1024 + 777, 65536);
  sw.seeder->add_extension([&](Torrent&) { return std::make_shared<TestTorrentExt>(seed_rec); });
  sw.leecher->add_extension(
      [&](Torrent&) { return std::make_shared<TestTorrentExt>(leech_rec); });
  std::vector<p2p::event::PeerClosed> closed;
  auto sub = testing_events::on_event<p2p::event::PeerClosed>(
      *sw.seeder, sw.meta.info_hash, [&](const p2p::event::PeerClosed& e) { closed.push_back(e); });
  sw.start(tcp::endpoint(make_address("127.0.0.1"), sw.seeder->listen_port()));
  ASSERT_TRUE(sw.run_until_done(std::chrono::seconds(60)));
  EXPECT_EQ(read_file(sw.dir.path() / "out" / "data.bin"), sw.content);

  ByteCount total = sw.meta.total_size;
  EXPECT_EQ(sw.leech_t->counters().verified_down, total);
  EXPECT_GE(sw.leech_t->counters().payload_down, total);
  EXPECT_GE(sw.seed_t->counters().payload_up, total);
  // Per remote peer: the leecher credits the seeder's endpoint with every verified byte.
  auto accounts = sw.leech_t->peer_accounts();
  std::string seed_key = "127.0.0.1:" + std::to_string(sw.seeder->listen_port());
  ASSERT_TRUE(accounts.count(seed_key));
  EXPECT_EQ(accounts[seed_key].verified_down, total);
  EXPECT_EQ(accounts[seed_key].failed_down, 0);

  // The extension hook saw the handshake keys, the messages and the payload.
  EXPECT_EQ(seed_rec.handshakes, 1);
  EXPECT_EQ(leech_rec.handshakes, 1);
  EXPECT_EQ(seed_rec.messages, 1);
  EXPECT_EQ(leech_rec.last_message, "ping");
  EXPECT_GE(seed_rec.sent, total);
  EXPECT_GE(leech_rec.received, total);
  EXPECT_EQ(leech_rec.passed, total);

  // Connections are told as events and counted by why they closed.
  EXPECT_GE(sw.leecher->counters().connections_opened, 1u);
  EXPECT_GE(sw.seeder->counters().connections_opened, 1u);
  sw.seed_t->pause();  // closes what is still open
  ASSERT_FALSE(closed.empty());
  std::uint64_t by_reason = 0;
  for (const auto& e : closed) by_reason += e.reason == CloseReason::LocalStop ||
                                            e.reason == CloseReason::UselessPeer ||
                                            e.reason == CloseReason::RemoteClosed;
  EXPECT_EQ(by_reason, closed.size());
  EXPECT_EQ(sw.seeder->counters().closed_total(), closed.size());
}

TEST(Session, DownloadRateLimitIsHonoured) {
  SessionSettings ls;
  ls.max_download_rate = 1024 * 1024;  // 1 MiB/s for 2 MiB
  Swarm sw(2 * 1024 * 1024, 32768, ls);
  sw.start(tcp::endpoint(make_address("127.0.0.1"), sw.seeder->listen_port()));
  EXPECT_GT(sw.timed_download(std::chrono::seconds(60)), 1.3);
}

// A torrent that does not honor the session's limits is held by its own only: 1 MiB at a
// session limit of 64 KiB/s would take 16 s.
TEST(Session, ATorrentNotHonoringSessionLimitsGoesPastThem) {
  SessionSettings ls;
  ls.max_download_rate = 64 * 1024;
  Swarm sw(1024 * 1024, 32768, ls);
  sw.start(tcp::endpoint(make_address("127.0.0.1"), sw.seeder->listen_port()));
  sw.leech_t->set_honors_session_limits(false);
  EXPECT_LT(sw.timed_download(std::chrono::seconds(30)), 6.0);
}

// Under a session limit, a peer of a torrent of a higher bandwidth priority that waits keeps
// the lower ones waiting; once it is served they go again. Unlimited, no one waits.
TEST(Session, HigherBandwidthPriorityWaitingGoesFirst) {
  boost::asio::io_context io;
  SessionSettings s;
  s.listen_ipv6 = false;
  Session session(io, s);
  session.set_download_rate(1'000'000);
  session.set_upload_rate(1'000'000);
  io.run_for(std::chrono::milliseconds(150));  // the buckets fill
  ASSERT_TRUE(session.may_download(0));
  ASSERT_TRUE(session.may_upload(0, 0));
  session.wait_for_bandwidth({}, false, 0, 1);
  session.wait_for_bandwidth({}, true, 0, 1);
  EXPECT_FALSE(session.may_download(0));
  EXPECT_FALSE(session.may_download(-1));
  EXPECT_TRUE(session.may_download(1));
  EXPECT_FALSE(session.may_upload(5, 0));  // a high bid in a normal torrent waits too
  EXPECT_TRUE(session.may_upload(0, 1));
  io.run_for(std::chrono::milliseconds(60));  // the waiting ones were woken
  EXPECT_TRUE(session.may_download(-1));
  EXPECT_TRUE(session.may_upload(0, -1));
  session.set_download_rate(0);
  session.wait_for_bandwidth({}, false, 0, 1);
  EXPECT_TRUE(session.may_download(-1));
}

TEST(Session, ANamedPeerIsDialedAgainAfterItRestarts) {
  SessionSettings ls;
  ls.max_download_rate = 1024 * 1024;  // slow enough to be cut off midway
  Swarm sw(4 * 1024 * 1024, 65536, ls);
  const std::uint16_t port = sw.seeder->listen_port();
  sw.start(tcp::endpoint(make_address("127.0.0.1"), port));
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sw.leech_t->counters().verified_down < 1024 * 1024 &&
         std::chrono::steady_clock::now() < until) {
    sw.io.run_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(sw.leech_t->counters().verified_down, 1024 * 1024);
  ASSERT_FALSE(sw.done);

  // The seeder goes away, then comes back on the same port.
  bool down = false;
  sw.seeder->shutdown([&] { down = true; }, std::chrono::seconds(1));
  while (!down) sw.io.run_for(std::chrono::milliseconds(50));
  sw.seed_t.reset();
  sw.seeder.reset();
  sw.io.run_for(std::chrono::seconds(1));
  ASSERT_TRUE(sw.leech_t->peers().empty());
  SessionSettings again;
  again.listen_ipv6 = false;
  again.listen_port = port;
  sw.seeder = std::make_unique<Session>(sw.io, again);
  sw.seeder->listen();
  sw.add_seed();

  ASSERT_TRUE(sw.run_until_done(std::chrono::seconds(60)));
  EXPECT_EQ(read_file(sw.dir.path() / "out" / "data.bin"), sw.content);
}

TEST(Session, MagnetFetchesMetadataOverIpv6OrV4) {
  Swarm sw(1024 * 1024 + 5, 16384 * 3);
  AddTorrentParams sp;
  sp.metainfo = sw.meta;
  sp.save_path = sw.dir.path() / "src";
  sp.seed_only = true;
  sp.resume_file = sw.dir.path() / "seed.resume";
  sw.seed_t = sw.seeder->add_torrent(sp);
  testing_events::run_until_state(sw.io, *sw.seed_t, {TorrentState::Seeding});
  AddTorrentParams lp;
  lp.info_hash = sw.meta.info_hash;
  lp.save_path = sw.dir.path() / "out";
  lp.resume_file = sw.dir.path() / "leech.resume";
  lp.peers = {tcp::endpoint(make_address("127.0.0.1"), sw.seeder->listen_port())};
  sw.leech_t = sw.leecher->add_torrent(lp);
  EXPECT_FALSE(sw.leech_t->has_metadata());
  sw.watch_finished();
  ASSERT_TRUE(sw.run_until_done(std::chrono::seconds(60)));
  EXPECT_TRUE(sw.leech_t->has_metadata());
  EXPECT_EQ(read_file(sw.dir.path() / "out" / "data.bin"), sw.content);
}

TEST(Session, Ipv6Loopback) {
  boost::asio::io_context probe;
  tcp::acceptor a(probe);
  boost::system::error_code ec;
  a.open(tcp::v6(), ec);
  if (!ec) a.bind(tcp::endpoint(make_address("::1"), 0), ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback here";
  a.close();
  Swarm sw(512 * 1024, 32768);
  // Listen on v6 too for this test.
  SessionSettings s;
  s.listen_ipv6 = true;
  sw.seeder = std::make_unique<Session>(sw.io, s);
  sw.seeder->listen();
  sw.start(tcp::endpoint(make_address("::1"), sw.seeder->listen_port()));
  ASSERT_TRUE(sw.run_until_done(std::chrono::seconds(60)));
  EXPECT_EQ(read_file(sw.dir.path() / "out" / "data.bin"), sw.content);
}
