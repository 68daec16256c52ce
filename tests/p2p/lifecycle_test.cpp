// A torrent's lifecycle: queued, checked on the session's hash threads (the network thread
// goes on meanwhile), seeding or downloading, paused and resumed, and the session's queue.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>

#include "hostile_helpers.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "torrent_events.hpp"

namespace {

namespace fs = std::filesystem;
using p2p::TorrentState;
using testing_events::on_event;
using testing_events::run_until_state;

struct Fixture {
  hostile::TempDir dir;
  boost::asio::io_context io;
  std::unique_ptr<p2p::Session> session;
  std::vector<TorrentState> seen;  // every state entered, in order, for every torrent
  p2p::EventBus::Subscription sub;

  explicit Fixture(p2p::SessionSettings s = {}) {
    setenv("BTTNODE_STATE_DIR", (dir.path / "state").c_str(), 1);
    s.listen_ipv6 = false;
    session = std::make_unique<p2p::Session>(io, s);
    sub = session->events().subscribe([this](const p2p::Event& e) {
      if (auto* c = std::get_if<p2p::event::TorrentStateChanged>(&e)) seen.push_back(c->to);
    });
  }

  // A seed torrent of `size` random bytes in its own folder.
  std::shared_ptr<p2p::Torrent> add_seed(const std::string& name, std::size_t size,
                                         std::uint32_t seed) {
    auto content = hostile::random_bytes(size, seed);
    auto meta = hostile::make_info(content, 16384, name);
    fs::create_directories(dir.path / "src");
    std::ofstream(dir.path / "src" / name, std::ios::binary) << content;
    p2p::AddTorrentParams p;
    p.metainfo = meta;
    p.save_path = dir.path / "src";
    p.seed_only = true;
    p.resume_file = dir.path / (name + ".resume");
    return session->add_torrent(p);
  }
  void run(std::chrono::milliseconds d) { io.run_for(d); }
};

TEST(Lifecycle, ASeedIsQueuedThenCheckedThenSeeds) {
  Fixture f;
  bool added = false, finished = false;
  auto ih = hostile::make_info(hostile::random_bytes(200000, 1), 16384, "a").info_hash;
  auto a = on_event<p2p::event::TorrentAdded>(*f.session, ih, [&](auto&) { added = true; });
  auto b = on_event<p2p::event::TorrentFinished>(*f.session, ih, [&](auto&) { finished = true; });
  auto t = f.add_seed("a", 200000, 1);
  EXPECT_TRUE(added);
  EXPECT_EQ(t->state(), TorrentState::Queued);  // nothing is hashed on the caller's thread
  ASSERT_TRUE(run_until_state(f.io, *t, {TorrentState::Seeding}));
  f.run(std::chrono::milliseconds(50));
  EXPECT_TRUE(finished);
  ASSERT_GE(f.seen.size(), 2u);
  EXPECT_EQ(f.seen[0], TorrentState::Checking);
  EXPECT_EQ(f.seen[1], TorrentState::Seeding);
  EXPECT_EQ(t->checked_pieces(), t->num_pieces());
  EXPECT_EQ(t->stats().checks_done, 1u);
  EXPECT_EQ(f.session->counters().pieces_checked, std::uint64_t(t->num_pieces()));
}

TEST(Lifecycle, PauseClosesPeersAndResumeSeedsAgainWithoutARecheck) {
  p2p::SessionSettings ss;
  ss.max_upload_rate = 256 * 1024;  // the download is still going when paused
  hostile::Pair pr(4 << 20, 16384, {}, ss);
  pr.add_seed();
  ASSERT_EQ(pr.seed_t->state(), TorrentState::Seeding);
  pr.add_leech();
  ASSERT_TRUE(pr.run_until([&] { return pr.seed_t->num_peers() > 0; }, std::chrono::seconds(10)));
  pr.seed_t->pause();
  EXPECT_EQ(pr.seed_t->state(), TorrentState::Paused);
  pr.io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(pr.seed_t->num_peers(), 0u);
  EXPECT_FALSE(pr.done);
  pr.seed_t->resume();
  EXPECT_EQ(pr.seed_t->state(), TorrentState::Queued);
  ASSERT_TRUE(run_until_state(pr.io, *pr.seed_t, {TorrentState::Seeding}));
  EXPECT_EQ(pr.seed_t->stats().checks_done, 1u);  // the check of the start still holds
  // The leecher dials its seed again and gets on with the download.
  ASSERT_TRUE(pr.run_until([&] { return pr.seed_t->num_peers() > 0; }, std::chrono::seconds(20)));
}

TEST(Lifecycle, PausingACheckDropsItAndResumeChecksAgain) {
  Fixture f;
  auto t = f.add_seed("p", 1 << 20, 3);
  t->pause();
  EXPECT_EQ(t->state(), TorrentState::Paused);
  f.run(std::chrono::milliseconds(200));
  EXPECT_EQ(t->state(), TorrentState::Paused);
  EXPECT_TRUE(t->wants_check());
  t->resume();
  ASSERT_TRUE(run_until_state(f.io, *t, {TorrentState::Seeding}));
  EXPECT_EQ(t->num_have(), t->num_pieces());
}

TEST(Lifecycle, QueueStartsTorrentsAsSlotsFree) {
  p2p::SessionSettings s;
  s.max_active_seeds = 2;
  s.max_active_checking = 1;
  Fixture f(s);
  int max_checking = 0, checking = 0;
  auto sub = f.session->events().subscribe([&](const p2p::Event& e) {
    if (auto* c = std::get_if<p2p::event::TorrentStateChanged>(&e)) {
      checking += (c->to == TorrentState::Checking) - (c->from == TorrentState::Checking);
      max_checking = std::max(max_checking, checking);
    }
  });
  std::vector<std::shared_ptr<p2p::Torrent>> ts;
  for (int i = 0; i < 4; ++i) ts.push_back(f.add_seed("q" + std::to_string(i), 100000, 10 + i));
  auto count = [&](TorrentState st) {
    return std::count_if(ts.begin(), ts.end(), [&](auto& t) { return t->state() == st; });
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (count(TorrentState::Seeding) < 2 && std::chrono::steady_clock::now() < deadline) {
    f.run(std::chrono::milliseconds(5));
  }
  f.run(std::chrono::milliseconds(200));
  EXPECT_EQ(max_checking, 1);
  EXPECT_EQ(count(TorrentState::Seeding), 2);
  EXPECT_EQ(count(TorrentState::Queued), 2);
  EXPECT_EQ(ts[0]->state(), TorrentState::Seeding);  // first come, first served
  EXPECT_EQ(ts[1]->state(), TorrentState::Seeding);

  ts[0]->pause();
  ASSERT_TRUE(run_until_state(f.io, *ts[2], {TorrentState::Seeding}));
  EXPECT_EQ(ts[3]->state(), TorrentState::Queued);
  f.session->remove_torrent(ts[1]->info_hash());
  ASSERT_TRUE(run_until_state(f.io, *ts[3], {TorrentState::Seeding}));
  ts[0]->resume();
  f.run(std::chrono::milliseconds(200));
  EXPECT_EQ(ts[0]->state(), TorrentState::Queued);  // both seed slots are taken
}

// While a large torrent is checked, the network thread runs its timers on time.
TEST(Lifecycle, CheckRunsOffTheNetworkThread) {
  Fixture f;
  constexpr std::int64_t kPiece = 1 << 20;
  constexpr int kPieces = 384;
  // Sparse zeros and made-up hashes: every piece is read and hashed, none passes.
  std::string pieces(std::size_t(kPieces) * 20, '\x01');
  p2p::bencode::Dict info;
  info["length"] = p2p::bencode::Integer(kPiece * kPieces);
  info["name"] = std::string("big.bin");
  info["piece length"] = p2p::bencode::Integer(kPiece);
  info["pieces"] = pieces;
  p2p::bencode::Dict top;
  top["info"] = p2p::bencode::Value(std::move(info));
  auto meta = p2p::parse_metainfo(p2p::bencode::encode(p2p::bencode::Value(std::move(top))));
  fs::create_directories(f.dir.path / "big");
  { std::ofstream(f.dir.path / "big" / "big.bin"); }
  ASSERT_EQ(::truncate((f.dir.path / "big" / "big.bin").c_str(), kPiece * kPieces), 0);
  p2p::AddTorrentParams p;
  p.metainfo = meta;
  p.save_path = f.dir.path / "big";
  p.resume_file = f.dir.path / "big.resume";
  auto t = f.session->add_torrent(p);

  boost::asio::steady_timer timer(f.io);
  auto last = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration worst{};
  int fired = 0;
  bool saw_progress = false;
  std::function<void()> arm = [&] {
    timer.expires_after(std::chrono::milliseconds(5));
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      auto now = std::chrono::steady_clock::now();
      if (t->state() == TorrentState::Checking) {
        worst = std::max(worst, now - last);
        ++fired;
        saw_progress = saw_progress || (t->checked_pieces() > 0 && t->checked_pieces() < kPieces);
      }
      last = now;
      arm();
    });
  };
  arm();
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(run_until_state(f.io, *t, {TorrentState::Downloading}, std::chrono::seconds(120)));
  auto took = std::chrono::steady_clock::now() - started;
  timer.cancel();
  EXPECT_EQ(t->num_have(), 0);
  EXPECT_EQ(t->checked_pieces(), kPieces);
  EXPECT_TRUE(saw_progress);
  EXPECT_GT(fired, 5) << "the check took " << std::chrono::duration<double>(took).count() << " s";
  // A timer of 5 ms is never held up by the check (a synchronous check holds it for the
  // whole check; a loaded machine may still delay it a little).
  double took_s = std::chrono::duration<double>(took).count();
  EXPECT_LT(std::chrono::duration<double>(worst).count(), std::min(0.5, took_s / 3))
      << "the check took " << took_s << " s";
}

}  // namespace
