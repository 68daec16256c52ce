#include "p2p/metainfo/create_torrent.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>

#include "p2p/wire/bencode.hpp"
#include "base/hex.hpp"
#include "p2p/storage/storage.hpp"
#include "tests/test_files.hpp"

namespace fs = std::filesystem;

namespace {

using test_support::TempDir;

void write_random(const fs::path& p, std::size_t n, unsigned seed) {
  fs::create_directories(p.parent_path());
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  std::ofstream(p, std::ios::binary).write(s.data(), static_cast<std::streamsize>(s.size()));
}

void write_bytes(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary).write(s.data(), static_cast<std::streamsize>(s.size()));
}

// Runs a shell command; returns its exit status and standard output.
std::pair<int, std::string> run(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return {-1, ""};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int st = ::pclose(f);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A folder with odd sizes, an empty file and nested folders.
void make_tree(const fs::path& top) {
  write_random(top / "b.bin", 100003, 1);
  write_random(top / "a" / "z" / "deep.dat", 54321, 2);
  write_random(top / "a" / "y.txt", 17, 3);
  fs::create_directories(top / "c");
  write_bytes(top / "c" / "empty", "");
  write_random(top / "c" / "last", 5000, 4);
}

const char* kPython = "/usr/bin/python3";

}  // namespace

TEST(CreateTorrent, DefaultPieceLength) {
  EXPECT_EQ(p2p::default_piece_length(1000), 16384);
  EXPECT_EQ(p2p::default_piece_length(1ll << 30), 1 << 20);
  EXPECT_EQ(p2p::default_piece_length(1ll << 40), 16 << 20);
  for (std::int64_t size : {1ll, 1ll << 20, 3ll << 28, 1ll << 34}) {
    auto pl = p2p::default_piece_length(size);
    EXPECT_EQ(pl & (pl - 1), 0);
    EXPECT_LE(size / pl, 2000);
  }
}

TEST(CreateTorrent, FolderSortedWithEmptyFilesAndVerifies) {
  TempDir tmp;
  make_tree(tmp.path() / "tree");
  p2p::CreateTorrentOptions opts;
  opts.piece_length = 32768;
  opts.trackers = {"http://t1.example/announce", "udp://t2.example:6969"};
  opts.is_private = true;
  opts.comment = "hello";
  p2p::ByteCount last_progress = 0;
  opts.progress = [&](p2p::ByteCount done, p2p::ByteCount) { last_progress = done; };
  auto m = p2p::create_torrent(tmp.path() / "tree", opts);
  EXPECT_EQ(m.name, "tree");
  EXPECT_TRUE(m.multi_file);
  ASSERT_EQ(m.files.size(), 5u);
  EXPECT_EQ(m.files[0].relative_path, fs::path("tree/a/y.txt"));
  EXPECT_EQ(m.files[1].relative_path, fs::path("tree/a/z/deep.dat"));
  EXPECT_EQ(m.files[2].relative_path, fs::path("tree/b.bin"));
  EXPECT_EQ(m.files[3].relative_path, fs::path("tree/c/empty"));
  EXPECT_EQ(m.files[3].length, 0);
  EXPECT_EQ(m.total_size, 100003 + 54321 + 17 + 5000);
  EXPECT_EQ(last_progress, m.total_size);
  EXPECT_TRUE(m.is_private);
  ASSERT_EQ(m.trackers.size(), 2u);  // one tier per tracker

  // The hashes match the data, read back through Storage.
  p2p::Storage st(m, tmp.path(), {.max_open_files = 8, .read_only = true});
  auto have = st.recheck();
  EXPECT_EQ(std::count(have.begin(), have.end(), true), m.num_pieces());

  // One thread and two give the same torrent.
  opts.threads = 1;
  EXPECT_EQ(p2p::create_torrent(tmp.path() / "tree", opts).info_hash, m.info_hash);

  // The file form parses back to the same info-hash, trackers and comment.
  auto back = p2p::parse_metainfo(p2p::encode_metainfo(m));
  EXPECT_EQ(back.info_hash, m.info_hash);
  EXPECT_EQ(back.trackers, m.trackers);
  EXPECT_EQ(back.comment, "hello");
}

TEST(CreateTorrent, RefusesEmptyInputAndBadPieceLength) {
  TempDir tmp;
  fs::create_directories(tmp.path() / "none");
  EXPECT_THROW(p2p::create_torrent(tmp.path() / "none", {}), p2p::MetainfoError);
  write_bytes(tmp.path() / "none" / "e", "");
  EXPECT_THROW(p2p::create_torrent(tmp.path() / "none", {}), p2p::MetainfoError);
  write_random(tmp.path() / "f", 10, 1);
  p2p::CreateTorrentOptions opts;
  opts.piece_length = 30000;
  EXPECT_THROW(p2p::create_torrent(tmp.path() / "f", opts), p2p::MetainfoError);
  EXPECT_ANY_THROW(p2p::create_torrent(tmp.path() / "missing", {}));
}

// Our torrents load in libtorrent with the same info-hash, files and trackers.
TEST(CreateTorrentInterop, LibtorrentLoadsOurTorrents) {
  TempDir tmp;
  make_tree(tmp.path() / "tree");
  write_random(tmp.path() / "single.iso", 300001, 9);
  auto [rc0, v] = run(std::string(kPython) + " -c 'import libtorrent' 2>&1");
  ASSERT_EQ(rc0, 0) << "python3-libtorrent is needed: " << v;

  for (const char* input : {"tree", "single.iso"}) {
    fs::path out = tmp.path() / (std::string(input) + ".torrent");
    std::string cmd =
        std::string(BTTNODE_BINARY) + " create-torrent " + (tmp.path() / input).string() + " -o " +
        out.string() +
        " -t http://127.0.0.1:6969/announce -t udp://127.0.0.1:6969 --private --comment c";
    auto [rc, text] = run(cmd);
    ASSERT_EQ(rc, 0) << text;
    auto ours = p2p::load_metainfo(out);
    EXPECT_NE(text.find(base::to_hex(ours.info_hash)), std::string::npos) << text;

    std::string script =
        "import libtorrent as lt, sys\n"
        "ti = lt.torrent_info(sys.argv[1])\n"
        "fs = ti.files()\n"
        "print(str(ti.info_hash()))\n"
        "print(ti.num_files(), ti.num_pieces(), ti.total_size(), ti.piece_length(), "
        "int(ti.priv()))\n"
        "print(';'.join('%d:%s' % (t.tier, t.url) for t in ti.trackers()))\n"
        "for i in range(ti.num_files()): print(fs.file_path(i), fs.file_size(i))\n";
    write_bytes(tmp.path() / "load.py", script);
    auto [rc2, lt_out] =
        run(std::string(kPython) + " " + (tmp.path() / "load.py").string() + " " + out.string());
    ASSERT_EQ(rc2, 0) << lt_out;
    std::string expected = base::to_hex(ours.info_hash) + "\n" + std::to_string(ours.files.size()) +
                           " " + std::to_string(ours.num_pieces()) + " " +
                           std::to_string(ours.total_size) + " " +
                           std::to_string(ours.piece_length) + " 1\n" +
                           "0:http://127.0.0.1:6969/announce;1:udp://127.0.0.1:6969\n";
    for (const auto& f : ours.files)
      expected += f.relative_path.string() + " " + std::to_string(f.length) + "\n";
    EXPECT_EQ(lt_out, expected);
  }
}

// Torrents made by libtorrent (v1 only) load here with the same info-hash and verify.
TEST(CreateTorrentInterop, WeLoadLibtorrentTorrents) {
  TempDir tmp;
  make_tree(tmp.path() / "tree");
  write_random(tmp.path() / "one.bin", 123457, 5);
  std::string script =
      "import libtorrent as lt, sys, os\n"
      "src, out, piece = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
      "fs = lt.file_storage()\n"
      "lt.add_files(fs, src)\n"
      "ct = lt.create_torrent(fs, piece, flags=lt.create_torrent.v1_only)\n"
      "lt.set_piece_hashes(ct, os.path.dirname(src))\n"
      "ct.add_tracker('http://a.example/announce', 0)\n"
      "ct.add_tracker('http://b.example/announce', 1)\n"
      "ct.set_priv(True)\n"
      "open(out, 'wb').write(lt.bencode(ct.generate()))\n"
      "print(str(lt.torrent_info(out).info_hash()))\n";
  write_bytes(tmp.path() / "make.py", script);
  for (auto [input, piece] : {std::pair{"tree", 16384}, std::pair{"one.bin", 65536}}) {
    fs::path out = tmp.path() / (std::string(input) + ".lt.torrent");
    auto [rc, text] =
        run(std::string(kPython) + " " + (tmp.path() / "make.py").string() + " " +
            (tmp.path() / input).string() + " " + out.string() + " " + std::to_string(piece));
    ASSERT_EQ(rc, 0) << text;
    auto m = p2p::load_metainfo(out);
    EXPECT_EQ(base::to_hex(m.info_hash), trim(text));
    EXPECT_TRUE(m.is_private);
    ASSERT_EQ(m.trackers.size(), 2u);
    EXPECT_EQ(m.trackers[1][0], "http://b.example/announce");
    p2p::Storage st(m, tmp.path(), {.max_open_files = 8, .read_only = true});
    auto have = st.recheck();
    EXPECT_EQ(std::count(have.begin(), have.end(), true), m.num_pieces()) << input;
    // Our create-torrent of the same file with the same piece length gives the same
    // info-hash. (For folders libtorrent keeps directory order while we sort, so the
    // hashes differ by design.)
    if (std::string(input) != "one.bin") continue;
    p2p::CreateTorrentOptions opts;
    opts.piece_length = piece;
    opts.is_private = true;
    EXPECT_EQ(p2p::create_torrent(tmp.path() / input, opts).info_hash, m.info_hash) << input;
  }
}

TEST(CreateTorrentCli, UsageErrors) {
  auto [rc, out] = run(std::string(BTTNODE_BINARY) + " create-torrent 2>&1");
  EXPECT_EQ(rc, 2) << out;
  auto [rc2, out2] =
      run(std::string(BTTNODE_BINARY) + " create-torrent /nonexistent -o /tmp/x.torrent 2>&1");
  EXPECT_EQ(rc2, 1) << out2;
  auto [rc3, out3] = run(std::string(BTTNODE_BINARY) +
                         " create-torrent . -o /tmp/x.torrent --piece-length abc 2>&1");
  EXPECT_EQ(rc3, 2) << out3;
}

// transmission-show and aria2c read our torrents with the same info-hash, files and trackers.
TEST(CreateTorrentInterop, TransmissionAndAria2ReadOurTorrents) {
  TempDir tmp;
  make_tree(tmp.path() / "tree");
  p2p::CreateTorrentOptions opts;
  opts.trackers = {"http://127.0.0.1:6969/announce", "udp://127.0.0.1:6969"};
  auto m = p2p::create_torrent(tmp.path() / "tree", opts);
  fs::path file = tmp.path() / "tree.torrent";
  write_bytes(file, p2p::encode_metainfo(m));
  std::string hex = base::to_hex(m.info_hash);

  auto [rc, tr] = run("transmission-show " + file.string() + " 2>&1");
  ASSERT_EQ(rc, 0) << tr;
  EXPECT_NE(tr.find("Hash: " + hex), std::string::npos) << tr;
  EXPECT_NE(tr.find("tree/a/z/deep.dat"), std::string::npos) << tr;
  EXPECT_NE(tr.find("tree/c/empty"), std::string::npos) << tr;
  EXPECT_NE(tr.find("Tier #2"), std::string::npos) << tr;

  auto [rc2, ar] = run("aria2c -S " + file.string() + " 2>&1");
  ASSERT_EQ(rc2, 0) << ar;
  EXPECT_NE(ar.find("Info Hash: " + hex), std::string::npos) << ar;
  EXPECT_NE(ar.find("(100,003)"), std::string::npos) << ar;
  EXPECT_NE(ar.find("udp://127.0.0.1:6969"), std::string::npos) << ar;
}
