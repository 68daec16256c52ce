// The bttnode side of bench_checking.py: one p2p::Session seeding a large torrent to a
// leecher while many other torrents are added at once and checked.
//
//   bench_checking_host WORK N_TORRENTS TORRENT_BYTES BIG_BYTES UPLOAD_RATE
//
// Makes WORK/big/big.bin (BIG_BYTES) and N_TORRENTS files of TORRENT_BYTES under WORK/many
// (random data, kept between runs), hashing the many once alone ("hash_only_s", single
// thread), writes WORK/big.torrent, seeds it (upload limited to UPLOAD_RATE bytes/s, 0 none)
// and prints "ready PORT". On the line "check" on stdin it adds every other torrent at once
// (their resume data deleted: a full check each) and prints when all are checking or seeding
// and when all are seeding, with the upload rate of the big torrent in the seconds before
// and while the checks ran. On "quit" or end of input it stops.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>

#include "p2p/metainfo/create_torrent.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

void make_file(const fs::path& p, std::uint64_t size, std::uint64_t seed) {
  if (fs::exists(p) && fs::file_size(p) == size) return;
  std::mt19937_64 rng(seed);
  std::ofstream f(p, std::ios::binary);
  std::vector<std::uint64_t> buf(1 << 17);
  for (std::uint64_t done = 0; done < size;) {
    for (auto& w : buf) w = rng();
    std::uint64_t n = std::min<std::uint64_t>(size - done, buf.size() * 8);
    f.write(reinterpret_cast<const char*>(buf.data()), std::streamsize(n));
    done += n;
  }
}

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: bench_checking_host WORK N_TORRENTS TORRENT_BYTES BIG_BYTES RATE\n";
    return 2;
  }
  fs::path work = argv[1];
  int n = std::stoi(argv[2]);
  std::uint64_t each = std::stoull(argv[3]), big_size = std::stoull(argv[4]);
  std::int64_t rate = std::stoll(argv[5]);
  try {
    fs::create_directories(work / "big");
    fs::create_directories(work / "many");
    fs::create_directories(work / "state");
    make_file(work / "big" / "big.bin", big_size, 1);
    p2p::CreateTorrentOptions copts;
    copts.threads = 1;
    copts.creation_date = 0;
    auto big = p2p::create_torrent(work / "big" / "big.bin", copts);
    { std::ofstream(work / "big.torrent", std::ios::binary) << p2p::encode_metainfo(big); }
    std::vector<p2p::Metainfo> many;
    for (int i = 0; i < n; ++i) make_file(work / "many" / ("t" + std::to_string(i)), each, 100 + i);
    auto h0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      many.push_back(p2p::create_torrent(work / "many" / ("t" + std::to_string(i)), copts));
    }
    double hash_only = seconds(Clock::now() - h0);
    std::cout << "hash_only_s " << hash_only << " bytes " << each * std::uint64_t(n) << std::endl;

    boost::asio::io_context io;
    p2p::SessionSettings settings;
    settings.listen_ipv6 = false;
    settings.max_upload_rate = rate;
    p2p::Session session(io, settings);
    session.listen();
    p2p::AddTorrentParams bp;
    bp.metainfo = big;
    bp.save_path = work / "big";
    bp.seed_only = true;
    bp.resume_file = work / "state" / "big.resume";
    auto seed = session.add_torrent(bp);
    while (seed->state() != p2p::TorrentState::Seeding) {
      if (seed->state() == p2p::TorrentState::Error) throw std::runtime_error(seed->error());
      io.run_for(std::chrono::milliseconds(10));
    }
    std::cout << "ready " << session.listen_port() << std::endl;

    // Upload of the big torrent, sampled every 100 ms (with the time actually reached).
    struct Sample {
      Clock::time_point at;
      std::int64_t up;
    };
    std::vector<Sample> samples;
    boost::asio::steady_timer sampler(io);
    std::function<void()> sample = [&] {
      samples.push_back({Clock::now(), seed->counters().payload_up});
      sampler.expires_after(std::chrono::milliseconds(100));
      sampler.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) sample();
      });
    };
    sample();
    auto rate_between = [&](Clock::time_point a, Clock::time_point b) {
      const Sample* first = nullptr;
      const Sample* last = nullptr;
      for (const auto& s : samples) {
        if (s.at < a || s.at > b) continue;
        if (!first) first = &s;
        last = &s;
      }
      if (!first || last == first) return 0.0;
      return double(last->up - first->up) / seconds(last->at - first->at);
    };

    std::vector<std::shared_ptr<p2p::Torrent>> added;
    Clock::time_point check_start{};
    double add_s = 0, all_checking_s = -1;
    boost::asio::steady_timer watch(io);
    std::function<void()> watch_checks = [&] {
      std::size_t seeding = 0, checking_or_seeding = 0;
      std::int64_t checked = 0;
      for (const auto& t : added) {
        auto st = t->state();
        seeding += st == p2p::TorrentState::Seeding;
        checking_or_seeding +=
            st == p2p::TorrentState::Seeding || st == p2p::TorrentState::Checking;
        checked += t->checked_pieces();
      }
      auto now = Clock::now();
      if (all_checking_s < 0 && checking_or_seeding == added.size()) {
        all_checking_s = seconds(now - check_start);
      }
      if (seeding == added.size()) {
        double took = seconds(now - check_start);
        double before = rate_between(check_start - std::chrono::seconds(5), check_start);
        double during = rate_between(check_start, now);
        std::printf("add_s %.4f\nall_checking_or_seeding_s %.3f\nall_seeding_s %.3f\n", add_s,
                    all_checking_s, took);
        std::printf("rate_before_MiBps %.2f\nrate_while_MiBps %.2f\nrate_ratio %.3f\n",
                    before / (1 << 20), during / (1 << 20), before > 0 ? during / before : 0.0);
        std::printf("pieces_checked %llu\n", (unsigned long long)session.counters().pieces_checked);
        std::fflush(stdout);
        return;
      }
      watch.expires_after(std::chrono::milliseconds(20));
      watch.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) watch_checks();
      });
    };

    boost::asio::posix::stream_descriptor in(io, ::dup(0));
    boost::asio::streambuf buf;
    std::function<void()> read_line = [&] {
      boost::asio::async_read_until(
          in, buf, '\n', [&](const boost::system::error_code& ec, std::size_t) {
            std::string line;
            if (!ec) {
              std::istream is(&buf);
              std::getline(is, line);
            }
            if (ec || line == "quit") {
              session.shutdown([&io] { io.stop(); }, std::chrono::seconds(1));
              return;
            }
            if (line == "check") {
              check_start = Clock::now();
              for (int i = 0; i < n; ++i) {
                p2p::AddTorrentParams p;
                p.metainfo = many[std::size_t(i)];
                p.save_path = work / "many";
                p.seed_only = true;
                p.resume_file = work / "state" / (std::to_string(i) + ".resume");
                fs::remove(p.resume_file);
                added.push_back(session.add_torrent(std::move(p)));
              }
              add_s = seconds(Clock::now() - check_start);
              watch_checks();
            } else if (line == "rate") {
              auto now = Clock::now();
              std::printf("rate_MiBps %.2f\n",
                          rate_between(now - std::chrono::seconds(3), now) / (1 << 20));
              std::fflush(stdout);
            }
            read_line();
          });
    };
    read_line();
    io.run();
  } catch (const std::exception& e) {
    std::cerr << "bench_checking_host: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
