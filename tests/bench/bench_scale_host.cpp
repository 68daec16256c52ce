// The bttnode side of bench_scale.py: one p2p::Session seeding every .torrent of a folder.
//
//   bench_scale_host TORRENT_DIR DATA_DIR STATE_DIR
//
// Prints its resident memory (VmRSS, KiB) with the session empty and again with every torrent
// added and checked, then "ready PORT", and seeds until SIGINT/SIGTERM or until stdin closes.
// bench_scale.py opens the peer connections and reads the figure with them from /proc.
#include <algorithm>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>

#include "p2p/metainfo/metainfo.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"

namespace {

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: bench_scale_host TORRENT_DIR DATA_DIR STATE_DIR\n";
    return 2;
  }
  namespace fs = std::filesystem;
  fs::path torrent_dir = argv[1], data_dir = argv[2], state_dir = argv[3];
  try {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(torrent_dir)) {
      if (e.path().extension() == ".torrent") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    // Parse first so the memory of the parsing itself is not counted as the session's.
    std::vector<p2p::Metainfo> metas;
    metas.reserve(files.size());
    for (const auto& f : files) metas.push_back(p2p::load_metainfo(f));
    fs::create_directories(state_dir);

    boost::asio::io_context io;
    p2p::SessionSettings settings;
    settings.listen_ipv6 = false;
    p2p::Session session(io, settings);
    session.listen();
    io.poll();
    std::cout << "rss_empty " << rss_kib() << std::endl;

    std::size_t n = 0;
    for (auto& m : metas) {
      p2p::AddTorrentParams p;
      p.resume_file = state_dir / (std::to_string(n++) + ".resume");
      p.metainfo = std::move(m);
      p.save_path = data_dir;
      p.seed_only = true;
      session.add_torrent(std::move(p));
    }
    metas.clear();
    metas.shrink_to_fit();
    // The checks run on the session's hash threads: wait until each is done.
    std::size_t seeds = 0;
    for (bool checking = true; checking;) {
      io.run_for(std::chrono::milliseconds(10));
      checking = false;
      seeds = 0;
      for (const auto& t : session.torrents()) {
        auto st = t->state();
        checking = checking || st == p2p::TorrentState::Queued || st == p2p::TorrentState::Checking;
        seeds += st == p2p::TorrentState::Seeding ? 1 : 0;
      }
    }
    std::cout << "torrents " << n << " seeding " << seeds << "\n";
    std::cout << "rss_torrents " << rss_kib() << std::endl;
    std::cout << "ready " << session.listen_port() << std::endl;

    bool stopping = false;
    auto stop = [&] {
      if (stopping) return;
      stopping = true;
      session.shutdown([&io] { io.stop(); }, std::chrono::seconds(2));
    };
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (!ec) stop();
    });
    // The driver closes our stdin when it is done (or dies).
    boost::asio::posix::stream_descriptor in(io, ::dup(0));
    boost::asio::streambuf buf;
    boost::asio::async_read(in, buf, [&](const boost::system::error_code&, std::size_t) {
      stop();
    });
    // Once a second: how many handshaken peers the torrents hold, and the memory with them.
    boost::asio::steady_timer report(io);
    std::function<void()> tick = [&] {
      std::size_t peers = 0;
      for (const auto& t : session.torrents()) peers += t->num_peers();
      std::cout << "peers " << peers << " rss " << rss_kib() << std::endl;
      report.expires_after(std::chrono::seconds(1));
      report.async_wait([&](const boost::system::error_code& ec) {
        if (!ec && !stopping) tick();
      });
    };
    tick();
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "bench_scale_host: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
