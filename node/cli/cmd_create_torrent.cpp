// bttnode create-torrent PATH -o OUT.torrent [-t TRACKER_URL]... [--piece-length N]
//                        [--private] [--comment TEXT]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "p2p/metainfo/create_torrent.hpp"
#include "base/hex.hpp"

namespace bttnode {

namespace {

std::int64_t parse_size(const std::string& s) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &used);
  } catch (const std::exception&) {
    throw UsageError("bad --piece-length '" + s + "'");
  }
  std::string suffix = s.substr(used);
  if (suffix == "K" || suffix == "k" || suffix == "KiB") {
    v *= 1024;
  } else if (suffix == "M" || suffix == "m" || suffix == "MiB") {
    v *= 1024 * 1024;
  } else if (!suffix.empty()) {
    throw UsageError("bad --piece-length '" + s + "'");
  }
  if (v <= 0) throw UsageError("bad --piece-length '" + s + "'");
  return v;
}

}  // namespace

int cmd_create_torrent(const Args& args) {
  if (args.positionals().size() != 1) throw UsageError("expected one PATH");
  auto out = args.get("o");
  if (!out) throw UsageError("missing -o OUT.torrent");

  p2p::CreateTorrentOptions opts;
  opts.trackers = args.all("t");
  if (auto pl = args.get("piece-length")) opts.piece_length = parse_size(*pl);
  opts.is_private = args.has("private");
  if (auto c = args.get("comment")) opts.comment = *c;
  opts.threads = 2;
  bool tty = ::isatty(STDERR_FILENO);
  if (tty) {
    opts.progress = [](p2p::ByteCount done, p2p::ByteCount total) {
      std::fprintf(stderr, "\rhashing %5.1f%%",
                   total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0);
      std::fflush(stderr);
    };
  }

  auto start = std::chrono::steady_clock::now();
  p2p::Metainfo m = p2p::create_torrent(args.positionals()[0], opts);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (tty) std::fprintf(stderr, "\n");

  std::string bytes = p2p::encode_metainfo(m);
  std::string tmp = *out + ".part";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw std::runtime_error("cannot write " + *out);
    }
  }
  if (std::rename(tmp.c_str(), out->c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + *out);
  }

  double mb = static_cast<double>(m.total_size) / 1e6;
  std::cout << "info-hash " << base::to_hex(m.info_hash) << "\n"
            << "name " << m.name << "\n"
            << "files " << m.files.size() << ", " << m.total_size << " bytes, " << m.num_pieces()
            << " pieces of " << m.piece_length << "\n";
  std::fprintf(stdout, "hashed in %.2f s (%.0f MB/s)\n", secs, secs > 0 ? mb / secs : 0.0);
  return 0;
}

}  // namespace bttnode
