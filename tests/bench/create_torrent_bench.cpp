// Hashing speed of create-torrent beside libtorrent's create_torrent (python3-libtorrent,
// v1 only) on the same data in the same run. Prints figures; never fails on speed.
//
//   create_torrent_bench [SIZE_MIB=512] [PIECE_KIB=1024]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "p2p/metainfo/create_torrent.hpp"
#include "base/hex.hpp"

namespace fs = std::filesystem;

int main(int argc, char** argv) {
  long mib = argc > 1 ? std::stol(argv[1]) : 512;
  long piece_kib = argc > 2 ? std::stol(argv[2]) : 1024;
  std::string tmpl = (fs::temp_directory_path() / "bttnode-ctbench-XXXXXX").string();
  fs::path dir = ::mkdtemp(tmpl.data());
  fs::path file = dir / "data.bin";
  {
    std::mt19937_64 rng(1);
    std::vector<std::uint64_t> buf(1 << 17);  // 1 MiB
    std::ofstream out(file, std::ios::binary);
    for (long i = 0; i < mib; ++i) {
      for (auto& w : buf) w = rng();
      out.write(reinterpret_cast<const char*>(buf.data()),
                static_cast<std::streamsize>(buf.size() * 8));
    }
  }
  double mb = static_cast<double>(mib) * 1048576.0 / 1e6;
  std::printf("data: %ld MiB in the page cache, pieces of %ld KiB\n", mib, piece_kib);

  std::string hash;
  for (int threads : {1, 2}) {
    p2p::CreateTorrentOptions opts;
    opts.piece_length = piece_kib * 1024;
    opts.threads = threads;
    double best = 1e9;
    for (int run = 0; run < 2; ++run) {
      auto t0 = std::chrono::steady_clock::now();
      auto m = p2p::create_torrent(file, opts);
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      hash = base::to_hex(m.info_hash);
    }
    std::printf("bttnode create-torrent, %d thread(s): %7.0f MB/s  (%.2f s)\n", threads, mb / best,
                best);
  }

  std::string script = (dir / "lt.py").string();
  {
    std::ofstream py(script);
    py << "import libtorrent as lt, sys, time, os\n"
          "src, piece = sys.argv[1], int(sys.argv[2])\n"
          "fs = lt.file_storage()\n"
          "lt.add_files(fs, src)\n"
          "best = 1e9\n"
          "for i in range(2):\n"
          "  ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)\n"
          "  t = time.time(); lt.set_piece_hashes(ct, os.path.dirname(src)); best = min(best, "
          "time.time() - t)\n"
          "out = os.path.join(os.path.dirname(src), 'lt.torrent')\n"
          "open(out, 'wb').write(lt.bencode(ct.generate()))\n"
          "print('%.4f %s' % (best, lt.torrent_info(out).info_hash()))\n";
  }
  std::string cmd =
      "/usr/bin/python3 " + script + " " + file.string() + " " + std::to_string(piece_kib * 1024);
  FILE* p = ::popen(cmd.c_str(), "r");
  char line[256] = {0};
  if (p && std::fgets(line, sizeof line, p)) {
    double secs = 0;
    char h[64] = {0};
    if (std::sscanf(line, "%lf %63s", &secs, h) == 2) {
      std::printf("libtorrent create_torrent (reference):  %7.0f MB/s  (%.2f s)%s\n", mb / secs,
                  secs, hash == h ? "" : "  [info-hash differs!]");
    }
  } else {
    std::printf("libtorrent reference unavailable\n");
  }
  if (p) ::pclose(p);
  fs::remove_all(dir);
  return 0;
}
