// What a controller asks of a running torrent: per-torrent rate limits, a forced recheck, a
// forced announce, moving the files, removal with the files, resume data saved as pieces
// pass, and the session's count of connections that never reached a torrent.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include <boost/asio/ip/udp.hpp>

#include "hostile_helpers.hpp"
#include "p2p/metainfo/create_torrent.hpp"
#include "p2p/session/session.hpp"
#include "p2p/storage/file_moves.hpp"
#include "p2p/storage/resume_data.hpp"
#include "p2p/torrent/torrent.hpp"
#include "torrent_events.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using p2p::TorrentState;
using testing_events::run_until_state;
using Clock = std::chrono::steady_clock;

boost::asio::ip::tcp::endpoint loopback(std::uint16_t port) {
  return {boost::asio::ip::make_address("127.0.0.1"), port};
}

template <class Pred>
bool run_until(boost::asio::io_context& io, Pred pred, std::chrono::milliseconds limit) {
  auto deadline = Clock::now() + limit;
  while (!pred() && Clock::now() < deadline) io.run_for(5ms);
  return pred();
}

void run_for(boost::asio::io_context& io, std::chrono::milliseconds d) {
  auto until = Clock::now() + d;
  while (Clock::now() < until) io.run_for(5ms);
}

// A seeder session and a leecher session, each torrent in its own file under src/.
struct Swarm {
  hostile::TempDir dir;
  boost::asio::io_context io;
  std::unique_ptr<p2p::Session> seeder, leecher;

  explicit Swarm(p2p::SessionSettings ss = {}, p2p::SessionSettings ls = {}) {
    setenv("BTTNODE_STATE_DIR", (dir.path / "state").c_str(), 1);
    ss.listen_ipv6 = ls.listen_ipv6 = false;
    seeder = std::make_unique<p2p::Session>(io, ss);
    seeder->listen();
    leecher = std::make_unique<p2p::Session>(io, ls);
    leecher->listen();
  }
  p2p::Metainfo make(const std::string& name, std::size_t size, std::uint32_t seed,
                     std::int64_t piece = 65536) {
    auto content = hostile::random_bytes(size, seed);
    fs::create_directories(dir.path / "src");
    std::ofstream(dir.path / "src" / name, std::ios::binary) << content;
    return hostile::make_info(content, piece, name);
  }
  std::shared_ptr<p2p::Torrent> seed(const p2p::Metainfo& m) {
    p2p::AddTorrentParams p;
    p.metainfo = m;
    p.save_path = dir.path / "src";
    p.seed_only = true;
    p.resume_file = dir.path / (m.name + ".seed.resume");
    auto t = seeder->add_torrent(p);
    EXPECT_TRUE(run_until_state(io, *t, {TorrentState::Seeding}));
    return t;
  }
  std::shared_ptr<p2p::Torrent> leech(const p2p::Metainfo& m) {
    p2p::AddTorrentParams p;
    p.metainfo = m;
    p.save_path = dir.path / "out";
    p.resume_file = dir.path / (m.name + ".leech.resume");
    p.peers = {loopback(seeder->listen_port())};
    return leecher->add_torrent(p);
  }
};

double rate_over(boost::asio::io_context& io, const std::function<std::int64_t()>& bytes,
                 std::chrono::milliseconds window) {
  EXPECT_TRUE(run_until(
      io, [&] { return bytes() > 0; }, 10s));
  run_for(io, 500ms);  // past the first burst
  auto b0 = bytes();
  auto t0 = Clock::now();
  run_for(io, window);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  return double(bytes() - b0) / secs;
}

TEST(TorrentControl, UploadLimitHoldsWhileAnotherTorrentIsUnlimited) {
  Swarm s;
  auto ma = s.make("a.bin", 8 << 20, 1);
  auto mb = s.make("b.bin", 8 << 20, 2);
  auto sa = s.seed(ma);
  auto sb = s.seed(mb);
  constexpr std::int64_t kLimit = 1 << 20;
  sa->set_rate_limits(kLimit, 0);
  EXPECT_EQ(sa->upload_limit(), kLimit);
  auto la = s.leech(ma);
  auto lb = s.leech(mb);
  double rate = rate_over(
      s.io, [&] { return sa->counters().payload_up; }, 3000ms);
  EXPECT_NEAR(rate, double(kLimit), 0.15 * double(kLimit));
  // The other torrent went at loopback speed meanwhile.
  EXPECT_TRUE(lb->is_seed());
  EXPECT_FALSE(la->is_seed());
}

TEST(TorrentControl, DownloadLimitHolds) {
  Swarm s;
  auto m = s.make("d.bin", 8 << 20, 3);
  s.seed(m);
  auto l = s.leech(m);
  constexpr std::int64_t kLimit = 1 << 20;
  l->set_rate_limits(0, kLimit);
  double rate = rate_over(
      s.io, [&] { return l->counters().payload_down; }, 3000ms);
  EXPECT_NEAR(rate, double(kLimit), 0.15 * double(kLimit));
}

// A seeder torrent alone in a session.
struct Single {
  hostile::TempDir dir;
  boost::asio::io_context io;
  std::unique_ptr<p2p::Session> session;
  std::string content;
  p2p::Metainfo meta;

  explicit Single(p2p::SessionSettings s = {}) {
    setenv("BTTNODE_STATE_DIR", (dir.path / "state").c_str(), 1);
    s.listen_ipv6 = false;
    session = std::make_unique<p2p::Session>(io, s);
  }
  std::shared_ptr<p2p::Torrent> add(std::size_t size, std::vector<std::string> trackers = {}) {
    content = hostile::random_bytes(size, 11);
    meta = hostile::make_info(content, 16384, "data.bin");
    fs::create_directories(dir.path / "src");
    std::ofstream(dir.path / "src" / "data.bin", std::ios::binary) << content;
    p2p::AddTorrentParams p;
    p.metainfo = meta;
    p.save_path = dir.path / "src";
    p.seed_only = true;
    p.resume_file = dir.path / "data.resume";
    if (!trackers.empty()) p.trackers = {trackers};
    auto t = session->add_torrent(p);
    EXPECT_TRUE(run_until_state(io, *t, {TorrentState::Seeding}));
    return t;
  }
};

// Overwrites bytes of the file and puts its modification time back, so that only a check
// that ignores the resume data can see it.
void corrupt_keeping_mtime(const fs::path& file, std::size_t offset) {
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(offset));
    f.write("corrupted!", 10);
  }
  timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
}

TEST(TorrentControl, ForceRecheckFindsACorruptedPieceMissing) {
  Single f;
  auto t = f.add(1 << 20);
  ASSERT_EQ(t->num_have(), t->num_pieces());
  corrupt_keeping_mtime(f.dir.path / "src" / "data.bin", 5 * 16384 + 100);
  std::vector<TorrentState> seen;
  auto sub = f.session->events().subscribe([&](const p2p::Event& e) {
    if (auto* c = std::get_if<p2p::event::TorrentStateChanged>(&e)) seen.push_back(c->to);
  });
  t->force_recheck();
  EXPECT_EQ(t->num_have(), 0);  // the have bits are gone until the check says
  ASSERT_TRUE(run_until(
      f.io, [&] { return t->stats().checks_done == 2 && t->state() != TorrentState::Checking; },
      30s));
  EXPECT_EQ(t->num_have(), t->num_pieces() - 1);
  EXPECT_FALSE(t->is_seed());
  EXPECT_NE(std::find(seen.begin(), seen.end(), TorrentState::Checking), seen.end());
  // The resume file now says so too: a restart does not bring the piece back.
  auto rd = p2p::load_resume_data(f.dir.path / "data.resume");
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->have[5]);
  EXPECT_TRUE(rd->have[4]);
}

TEST(TorrentControl, ForceRecheckOfAPausedTorrentPausesItAgain) {
  Single f;
  auto t = f.add(256 * 1024);
  t->pause();
  t->force_recheck();
  ASSERT_TRUE(run_until(
      f.io, [&] { return t->stats().checks_done == 2; }, 30s));
  f.io.run_for(50ms);
  EXPECT_EQ(t->state(), TorrentState::Paused);
  EXPECT_EQ(t->num_have(), t->num_pieces());
  t->resume();
  ASSERT_TRUE(run_until_state(f.io, *t, {TorrentState::Seeding}));
}

TEST(TorrentControl, ForceRecheckDropsAPeerOfTheSeed) {
  Swarm s;
  auto m = s.make("r.bin", 2 << 20, 5);
  auto st = s.seed(m);
  st->set_rate_limits(256 * 1024, 0);  // still downloading when the check starts
  auto l = s.leech(m);
  ASSERT_TRUE(run_until(
      s.io, [&] { return st->num_peers() > 0; }, 10s));
  st->force_recheck();
  EXPECT_EQ(st->num_peers(), 0u);
  ASSERT_TRUE(run_until_state(s.io, *st, {TorrentState::Seeding}));
  EXPECT_EQ(st->num_have(), st->num_pieces());
  EXPECT_EQ(st->stats().closed(p2p::CloseReason::LocalStop), 1u);
}

// Answers UDP tracker connects and announces (BEP 15), counting the announces.
struct UdpTracker {
  boost::asio::ip::udp::socket sock;
  int announces = 0;
  std::array<char, 2048> buf{};
  boost::asio::ip::udp::endpoint from;
  explicit UdpTracker(boost::asio::io_context& io)
      : sock(io, boost::asio::ip::udp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    receive();
  }
  std::string url() const {
    return "udp://127.0.0.1:" + std::to_string(sock.local_endpoint().port());
  }
  void receive() {
    sock.async_receive_from(boost::asio::buffer(buf), from,
                            [this](boost::system::error_code ec, std::size_t n) {
                              if (ec) return;
                              on_packet(std::string(buf.data(), n));
                              receive();
                            });
  }
  void on_packet(const std::string& p) {
    if (p.size() < 16) return;
    std::string txid = p.substr(12, 4);
    std::string reply;
    if (p.size() == 16) {
      reply =
          std::string("\0\0\0\0", 4) + txid + std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    } else if (p.size() == 98) {
      ++announces;
      // interval 900 s, no leechers, one seeder, no peers
      reply =
          std::string("\0\0\0\x01", 4) + txid + std::string("\0\0\x03\x84\0\0\0\0\0\0\0\x01", 12);
    }
    sock.send_to(boost::asio::buffer(reply), from);
  }
};

TEST(TorrentControl, ForceReannounceGoesNowAndKeepsItsDistance) {
  Single f;
  UdpTracker tracker(f.io);
  auto t = f.add(64 * 1024, {tracker.url()});
  ASSERT_TRUE(run_until(
      f.io, [&] { return tracker.announces == 1; }, 10s));
  run_for(f.io, 200ms);
  t->force_reannounce();
  ASSERT_TRUE(run_until(
      f.io, [&] { return tracker.announces == 2; }, 5s));
  auto second = Clock::now();
  t->force_reannounce();  // too soon: put off
  t->force_reannounce();
  run_for(f.io, 1000ms);
  EXPECT_EQ(tracker.announces, 2);
  ASSERT_TRUE(run_until(
      f.io, [&] { return tracker.announces == 3; }, 12s));
  EXPECT_GE(Clock::now() - second, p2p::Torrent::kMinForcedAnnounce - 100ms);
  run_for(f.io, 300ms);
  EXPECT_EQ(tracker.announces, 3);  // the two early calls made one announce
}

std::string move_and_wait(boost::asio::io_context& io, p2p::Torrent& t, const fs::path& to) {
  std::optional<std::string> result;
  t.move_storage(to, [&](std::string e) { result = std::move(e); });
  EXPECT_TRUE(run_until(
      io, [&] { return result.has_value(); }, 30s));
  return result.value_or("timeout");
}

TEST(TorrentControl, MoveStorageMovesTheFilesAndServesThemFromThere) {
  Single f;
  auto t = f.add(1 << 20);
  fs::path dst = f.dir.path / "moved" / "here";
  EXPECT_EQ(move_and_wait(f.io, *t, dst), "");
  EXPECT_TRUE(fs::exists(dst / "data.bin"));
  EXPECT_FALSE(fs::exists(f.dir.path / "src" / "data.bin"));
  EXPECT_EQ(hostile::slurp(dst / "data.bin"), f.content);
  EXPECT_EQ(t->save_path(), dst);
  EXPECT_EQ(t->state(), TorrentState::Seeding);
  EXPECT_FALSE(t->moving());
  // Read where they are now: a full check finds every piece.
  t->force_recheck();
  ASSERT_TRUE(run_until(
      f.io, [&] { return t->stats().checks_done == 2; }, 30s));
  EXPECT_EQ(t->num_have(), t->num_pieces());
}

TEST(TorrentControl, MoveStorageRefusesToOverwriteAndLeavesTheFiles) {
  Single f;
  auto t = f.add(64 * 1024);
  fs::path dst = f.dir.path / "taken";
  fs::create_directories(dst);
  std::ofstream(dst / "data.bin") << "someone else's";
  EXPECT_NE(move_and_wait(f.io, *t, dst), "");
  EXPECT_TRUE(fs::exists(f.dir.path / "src" / "data.bin"));
  EXPECT_EQ(hostile::slurp(dst / "data.bin"), "someone else's");
  EXPECT_EQ(t->save_path(), f.dir.path / "src");
}

TEST(TorrentControl, MoveStorageAcrossFileSystemsCopies) {
  Single f;
  struct stat a {
  }, b{};
  if (::stat("/dev/shm", &b) != 0 || ::stat(f.dir.path.c_str(), &a) != 0 || a.st_dev == b.st_dev) {
    GTEST_SKIP() << "no second file system at /dev/shm";
  }
  auto t = f.add(1 << 20);
  auto mtime = fs::last_write_time(f.dir.path / "src" / "data.bin");
  fs::path dst = fs::path("/dev/shm") / ("bttnode-move-" + std::to_string(std::random_device{}()));
  struct Rm {
    fs::path p;
    ~Rm() {
      std::error_code ec;
      fs::remove_all(p, ec);
    }
  } rm{dst};
  EXPECT_EQ(move_and_wait(f.io, *t, dst), "");
  EXPECT_EQ(hostile::slurp(dst / "data.bin"), f.content);
  EXPECT_FALSE(fs::exists(f.dir.path / "src" / "data.bin"));
  EXPECT_EQ(fs::last_write_time(dst / "data.bin"), mtime);  // the resume data still holds
}

TEST(TorrentControl, RemoveWithFilesDeletesOnlyTheTorrentsFilesAndEmptyFolders) {
  hostile::TempDir dir;
  setenv("BTTNODE_STATE_DIR", (dir.path / "state").c_str(), 1);
  fs::path src = dir.path / "src";
  fs::create_directories(src / "multi" / "a" / "c");
  std::ofstream(src / "multi" / "a" / "b.bin", std::ios::binary) << hostile::random_bytes(40000, 1);
  std::ofstream(src / "multi" / "a" / "c" / "d.bin", std::ios::binary)
      << hostile::random_bytes(30000, 2);
  std::ofstream(src / "multi" / "e.bin", std::ios::binary) << hostile::random_bytes(20000, 3);
  p2p::CreateTorrentOptions opts;
  opts.piece_length = 16384;
  auto meta = p2p::create_torrent(src / "multi", opts);
  std::ofstream(src / "multi" / "a" / "mine.txt") << "not the torrent's";
  std::ofstream(src / "beside.txt") << "not the torrent's";

  boost::asio::io_context io;
  p2p::SessionSettings ss;
  ss.listen_ipv6 = false;
  p2p::Session session(io, ss);
  p2p::AddTorrentParams p;
  p.metainfo = meta;
  p.save_path = src;
  p.resume_file = dir.path / "m.resume";
  auto t = session.add_torrent(p);
  ASSERT_TRUE(run_until_state(io, *t, {TorrentState::Seeding}));
  session.remove_torrent(t->info_hash(), true);
  EXPECT_FALSE(session.find_torrent(meta.info_hash));
  ASSERT_TRUE(run_until(
      io, [&] { return !fs::exists(src / "multi" / "e.bin"); }, 10s));
  run_for(io, 100ms);
  EXPECT_FALSE(fs::exists(src / "multi" / "a" / "b.bin"));
  EXPECT_FALSE(fs::exists(src / "multi" / "a" / "c"));  // emptied: removed
  EXPECT_TRUE(fs::exists(src / "multi" / "a" / "mine.txt"));
  EXPECT_TRUE(fs::exists(src / "beside.txt"));
  EXPECT_TRUE(fs::exists(src));
}

TEST(TorrentControl, RemoveWithoutFilesKeepsThem) {
  Single f;
  auto t = f.add(64 * 1024);
  f.session->remove_torrent(t->info_hash());
  run_for(f.io, 300ms);
  EXPECT_TRUE(fs::exists(f.dir.path / "src" / "data.bin"));
}

TEST(TorrentControl, DeleteFilesNeverFollowsAFolderLinkOutOfTheRoot) {
  hostile::TempDir dir;
  fs::create_directories(dir.path / "root");
  fs::create_directories(dir.path / "outside");
  std::ofstream(dir.path / "outside" / "f.bin") << "keep";
  fs::create_directory_symlink(dir.path / "outside", dir.path / "root" / "t");
  EXPECT_EQ(p2p::delete_files({fs::path("t") / "f.bin", "../outside/f.bin"}, dir.path / "root"),
            0u);
  EXPECT_TRUE(fs::exists(dir.path / "outside" / "f.bin"));
}

TEST(TorrentControl, ResumeDataIsSavedWhilePiecesPass) {
  p2p::SessionSettings ss, ls;
  ss.max_upload_rate = 512 * 1024;  // 4 MiB take 8 s
  ls.resume_save_interval = std::chrono::seconds(1);
  Swarm s(ss, ls);
  auto m = s.make("p.bin", 4 << 20, 9);
  s.seed(m);
  auto l = s.leech(m);
  ASSERT_TRUE(run_until(
      s.io, [&] { return l->num_have() >= 4; }, 20s));
  int have_then = l->num_have();
  run_for(s.io, 2000ms);
  ASSERT_FALSE(l->is_seed());  // the file is not the one written on completion
  auto rd = p2p::load_resume_data(s.dir.path / "p.bin.leech.resume");
  ASSERT_TRUE(rd);
  int saved = int(std::count(rd->have.begin(), rd->have.end(), true));
  EXPECT_GE(saved, have_then);
  EXPECT_LT(saved, l->num_pieces());
}

TEST(TorrentControl, ClosesOfConnectionsWithoutATorrentAreCounted) {
  boost::asio::io_context io;
  p2p::SessionSettings ss;
  ss.listen_ipv6 = false;
  p2p::Session session(io, ss);
  session.listen();
  std::thread peer([port = session.listen_port()] {
    hostile::RawPeer a;
    ASSERT_TRUE(a.connect(port));
    p2p::InfoHash unknown{};
    unknown.fill(0x42);
    a.handshake(unknown, true, true);
    a.wait_closed(5s);
    hostile::RawPeer b;  // gone before its handshake
    ASSERT_TRUE(b.connect(port));
    b.close();
  });
  ASSERT_TRUE(run_until(
      io, [&] { return session.counters().connections_closed_unattached == 2; }, 10s));
  peer.join();
  EXPECT_EQ(session.counters().closed(p2p::CloseReason::WrongTorrent), 1u);
  EXPECT_EQ(session.counters().closed(p2p::CloseReason::RemoteClosed), 1u);
  EXPECT_EQ(session.counters().closed_total(), 2u);
}

}  // namespace
