// Two sessions on 127.0.0.1 with each pairing of encryption modes: every pairing that can
// connect downloads the torrent whole (a seeder that requires encryption only accepts an
// encrypted peer, so `allow` must redial with encryption to reach it).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

#include <boost/asio/io_context.hpp>

#include "p2p/metainfo/metainfo.hpp"
#include "p2p/metainfo/sha1.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"
#include "p2p/wire/bencode.hpp"
#include "swarm_torrent.hpp"
#include "torrent_events.hpp"

namespace fs = std::filesystem;
using namespace p2p;
using boost::asio::ip::make_address;
using boost::asio::ip::tcp;

namespace {

// Downloads 1 MiB from a seeder in `seed_mode` into a leecher in `leech_mode`; true if done.
bool download(const std::string& seed_mode, const std::string& leech_mode,
              std::chrono::seconds limit) {
  test_support::TempDir dir("bttnode-mse");
  std::string content;
  Metainfo meta =
      test_support::make_swarm_torrent(dir.path(), 1024 * 1024 + 99, 65536, &content, 9);
  setenv("BTTNODE_STATE_DIR", (dir.path() / "state").c_str(), 1);
  boost::asio::io_context io;
  SessionSettings ss, ls;
  ss.listen_ipv6 = ls.listen_ipv6 = false;
  ss.encryption = seed_mode;
  ls.encryption = leech_mode;
  ls.handshake_timeout = std::chrono::seconds(3);
  Session seeder(io, ss), leecher(io, ls);
  seeder.listen();
  leecher.listen();
  AddTorrentParams sp;
  sp.metainfo = meta;
  sp.save_path = dir.path() / "src";
  sp.seed_only = true;
  sp.resume_file = dir.path() / "seed.resume";
  auto seed_t = seeder.add_torrent(sp);
  testing_events::run_until_state(io, *seed_t, {TorrentState::Seeding, TorrentState::Error});
  if (!seed_t->is_seed()) return false;
  AddTorrentParams lp;
  lp.metainfo = meta;
  lp.save_path = dir.path() / "out";
  lp.resume_file = dir.path() / "leech.resume";
  lp.peers = {tcp::endpoint(make_address("127.0.0.1"), seeder.listen_port())};
  auto leech_t = leecher.add_torrent(lp);
  bool done = false;
  auto sub = testing_events::on_event<event::TorrentFinished>(leecher, leech_t->info_hash(),
                                                              [&](const auto&) { done = true; });
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_for(std::chrono::milliseconds(50));
  if (done) {
    std::ifstream f(dir.path() / "out" / "data.bin", std::ios::binary);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(f), {}), content);
  }
  seed_t->pause();
  leech_t->pause();
  io.run_for(std::chrono::milliseconds(100));
  return done;
}

}  // namespace

TEST(MseSession, RequireBothWays) {
  EXPECT_TRUE(download("require", "require", std::chrono::seconds(30)));
}

TEST(MseSession, PreferDialsARequiringSeeder) {
  EXPECT_TRUE(download("require", "prefer", std::chrono::seconds(30)));
}

TEST(MseSession, AllowRedialsEncryptedToARequiringSeeder) {
  EXPECT_TRUE(download("require", "allow", std::chrono::seconds(30)));
}

TEST(MseSession, RequireDialsAnAllowingSeeder) {
  EXPECT_TRUE(download("allow", "require", std::chrono::seconds(30)));
}

TEST(MseSession, AllowBothWaysIsPlainBitTorrent) {
  EXPECT_TRUE(download("allow", "allow", std::chrono::seconds(30)));
}

TEST(MseSession, UnknownModeIsRefused) {
  boost::asio::io_context io;
  SessionSettings s;
  s.encryption = "sometimes";
  EXPECT_THROW(Session(io, s), std::invalid_argument);
}
