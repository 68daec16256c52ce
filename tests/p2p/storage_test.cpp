#include "p2p/storage/storage.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "p2p/metainfo/create_torrent.hpp"
#include "p2p/storage/resume_data.hpp"
#include "tests/test_files.hpp"

namespace fs = std::filesystem;

namespace {

using test_support::random_bytes;
using test_support::read_file;
using test_support::TempDir;
using test_support::write_file;

// A folder "top" with files of odd sizes, an empty file and nested folders, hashed in pieces
// of 16 KiB so pieces straddle file boundaries.
struct Fixture {
  TempDir src;
  std::string a = random_bytes(40000, 1);
  std::string b = random_bytes(1, 2);
  std::string c = random_bytes(70001, 3);
  p2p::Metainfo meta;
  Fixture() {
    write_file(src.path() / "top" / "a.bin", a);
    write_file(src.path() / "top" / "b" / "empty", "");
    write_file(src.path() / "top" / "b" / "one", b);
    write_file(src.path() / "top" / "c" / "d" / "e.dat", c);
    p2p::CreateTorrentOptions opts;
    opts.piece_length = 16384;
    meta = p2p::create_torrent(src.path() / "top", opts);
  }
  std::string stream() const { return a + b + c; }
};

std::span<const std::uint8_t> bytes_of(const std::string& s, std::size_t off, std::size_t n) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()) + off, n};
}

}  // namespace

TEST(Storage, MapsBlocksAcrossFiles) {
  Fixture f;
  p2p::Storage st(f.meta, f.src.path());
  // Piece 2 covers bytes 32768..49151: the end of a.bin (to 40000), b/one (1 byte), and the
  // start of e.dat; the empty file is skipped.
  auto slices = st.map_block(p2p::PieceIndex(2), 0, 16384);
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(f.meta.files[slices[0].file.get()].path.back(), "a.bin");
  EXPECT_EQ(slices[0].offset, 32768);
  EXPECT_EQ(slices[0].size, 40000 - 32768);
  EXPECT_EQ(f.meta.files[slices[1].file.get()].path.back(), "one");
  EXPECT_EQ(slices[1].size, 1);
  EXPECT_EQ(f.meta.files[slices[2].file.get()].path.back(), "e.dat");
  EXPECT_EQ(slices[2].offset, 0);
  EXPECT_EQ(slices[0].size + slices[1].size + slices[2].size, 16384);
  EXPECT_THROW(st.map_block(p2p::PieceIndex(f.meta.num_pieces()), 0, 1), std::out_of_range);
}

TEST(Storage, ReadsTheSourceAndVerifies) {
  Fixture f;
  p2p::Storage st(f.meta, f.src.path(), {.max_open_files = 2, .read_only = true});
  std::string all = f.stream();
  for (p2p::PieceIndex p(0); p.get() < f.meta.num_pieces(); ++p) {
    std::vector<std::uint8_t> buf(static_cast<std::size_t>(f.meta.piece_size(p)));
    st.read(p, 0, buf);
    EXPECT_EQ(std::memcmp(buf.data(), all.data() + p.get() * 16384, buf.size()), 0) << p.get();
  }
  auto have = st.recheck();
  EXPECT_EQ(std::count(have.begin(), have.end(), true), f.meta.num_pieces());
  // A read-only storage refuses writes with an error.
  std::vector<std::uint8_t> block(16, 0);
  EXPECT_THROW(st.write(p2p::PieceIndex(0), 0, block), p2p::StorageError);
}

TEST(Storage, CreatesSparseFilesThenDownloadsBlocks) {
  Fixture f;
  TempDir dst;
  p2p::Storage st(f.meta, dst.path());
  st.create_files();
  // Every file exists with its final size, zero-length and nested ones included.
  EXPECT_TRUE(fs::exists(dst.path() / "top" / "b" / "empty"));
  EXPECT_EQ(fs::file_size(dst.path() / "top" / "b" / "empty"), 0u);
  EXPECT_EQ(fs::file_size(dst.path() / "top" / "c" / "d" / "e.dat"), 70001u);
  struct stat sb {};
  ASSERT_EQ(::stat((dst.path() / "top" / "c" / "d" / "e.dat").c_str(), &sb), 0);
  EXPECT_LT(sb.st_blocks * 512, 70001);  // sparse: no data blocks yet

  auto have = st.recheck();
  EXPECT_EQ(std::count(have.begin(), have.end(), true), 0);

  // Write every 16 KiB block in reverse order, from two threads.
  std::string all = f.stream();
  auto writer = [&](int parity) {
    for (int p = f.meta.num_pieces() - 1; p >= 0; --p) {
      if (p % 2 != parity) continue;
      p2p::PieceIndex pi(p);
      int size = f.meta.piece_size(pi);
      for (int off = 0; off < size; off += 4096) {
        int n = std::min(4096, size - off);
        st.write(pi, off, bytes_of(all, static_cast<std::size_t>(p) * 16384 + off, n));
      }
    }
  };
  std::thread t1(writer, 0), t2(writer, 1);
  t1.join();
  t2.join();
  for (p2p::PieceIndex p(0); p.get() < f.meta.num_pieces(); ++p) EXPECT_TRUE(st.verify_piece(p));
  st.flush();
  EXPECT_EQ(read_file(dst.path() / "top" / "a.bin"), f.a);
  EXPECT_EQ(read_file(dst.path() / "top" / "b" / "one"), f.b);
  EXPECT_EQ(read_file(dst.path() / "top" / "c" / "d" / "e.dat"), f.c);
}

TEST(Storage, CorruptPieceFailsVerification) {
  Fixture f;
  TempDir dst;
  fs::copy(f.src.path() / "top", dst.path() / "top", fs::copy_options::recursive);
  {
    std::fstream io(dst.path() / "top" / "a.bin", std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(20000);
    io.put('\x5a' ^ f.a[20000]);
  }
  p2p::Storage st(f.meta, dst.path());
  auto have = st.recheck();
  EXPECT_FALSE(have[1]);
  EXPECT_TRUE(have[0]);
  EXPECT_TRUE(have[2]);
}

TEST(Storage, MissingAndShortFilesAreNotThereYet) {
  Fixture f;
  TempDir dst;
  fs::copy(f.src.path() / "top", dst.path() / "top", fs::copy_options::recursive);
  fs::remove(dst.path() / "top" / "a.bin");
  fs::resize_file(dst.path() / "top" / "c" / "d" / "e.dat", 100);
  p2p::Storage st(f.meta, dst.path(), {.max_open_files = 4, .read_only = true});
  auto have = st.recheck();
  EXPECT_EQ(std::count(have.begin(), have.end(), true), 0);
  // A direct read reports which file is short.
  std::vector<std::uint8_t> buf(16384);
  try {
    st.read(p2p::PieceIndex(3), 0, buf);
    FAIL();
  } catch (const p2p::StorageError& e) {
    EXPECT_EQ(e.path(), dst.path() / "top" / "c" / "d" / "e.dat");
  }
}

TEST(Storage, ResumeDataSkipsRecheckUntilFilesChange) {
  Fixture f;
  TempDir state;
  fs::path resume = state.path() / "sub" / "x.resume";
  p2p::Storage st(f.meta, f.src.path());
  int hashed = 0;
  auto have = st.load_or_recheck(resume, [&](p2p::PieceIndex, bool) {
    ++hashed;
    return true;
  });
  EXPECT_EQ(hashed, f.meta.num_pieces());
  EXPECT_EQ(std::count(have.begin(), have.end(), true), f.meta.num_pieces());
  ASSERT_TRUE(fs::exists(resume));

  // Unchanged files: no hashing at all.
  hashed = 0;
  auto again = st.load_or_recheck(resume, [&](p2p::PieceIndex, bool) {
    ++hashed;
    return true;
  });
  EXPECT_EQ(hashed, 0);
  EXPECT_EQ(again, have);

  // Round trip of the file format.
  auto rd = p2p::load_resume_data(resume);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->info_hash, f.meta.info_hash);
  EXPECT_EQ(p2p::decode_resume_data(p2p::encode_resume_data(*rd)).have, rd->have);

  // A touched file (new mtime) forces a recheck.
  auto when = fs::last_write_time(f.src.path() / "top" / "a.bin");
  fs::last_write_time(f.src.path() / "top" / "a.bin", when + std::chrono::seconds(5));
  EXPECT_FALSE(st.check_resume_data(*rd));
  hashed = 0;
  st.load_or_recheck(resume, [&](p2p::PieceIndex, bool) {
    ++hashed;
    return true;
  });
  EXPECT_EQ(hashed, f.meta.num_pieces());

  // Garbage resume data is ignored, never trusted.
  write_file(resume, "d4:junki1ee");
  EXPECT_FALSE(p2p::load_resume_data(resume));
  write_file(resume, "not bencode");
  EXPECT_FALSE(p2p::load_resume_data(resume));
}

TEST(Storage, ResumeDataForAnotherTorrentIsRejected) {
  Fixture f;
  p2p::Storage st(f.meta, f.src.path());
  auto rd =
      st.make_resume_data(std::vector<bool>(static_cast<std::size_t>(f.meta.num_pieces()), true));
  EXPECT_TRUE(st.check_resume_data(rd));
  rd.info_hash[0] ^= 1;
  EXPECT_FALSE(st.check_resume_data(rd));
  rd.info_hash[0] ^= 1;
  rd.have.pop_back();
  EXPECT_FALSE(st.check_resume_data(rd));
}

TEST(Storage, LinkToDevFullIsNotFollowed) {
  Fixture f;
  TempDir dst;
  // A link inside the save folder is refused before any write (a full disk itself is
  // covered by DiskFull.StopsKeepsVerifiedPiecesAndResumes on a small tmpfs).
  fs::create_directories(dst.path() / "top");
  fs::create_symlink("/dev/full", dst.path() / "top" / "a.bin");
  p2p::Storage st(f.meta, dst.path());
  std::string all = f.stream();
  try {
    st.write(p2p::PieceIndex(0), 0, bytes_of(all, 0, 16384));
    FAIL() << "wrote through a symbolic link";
  } catch (const p2p::StorageError& e) {
    EXPECT_EQ(e.code(), std::errc::too_many_symbolic_link_levels);
    EXPECT_NE(std::string(e.what()).find("a.bin"), std::string::npos);
  }
}

TEST(Storage, OtherErrorsAreReported) {
  Fixture f;
  TempDir dst;
  // A file where a folder must go.
  write_file(dst.path() / "top" / "c", "in the way");
  p2p::Storage st(f.meta, dst.path());
  EXPECT_THROW(st.create_files(), p2p::StorageError);
}

TEST(Storage, PermissionDeniedIsAnError) {
  Fixture f;
  TempDir dst;
  fs::permissions(dst.path(), fs::perms::owner_read | fs::perms::owner_exec |
                                  fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  auto attempt = [&]() -> int {
    p2p::Storage st(f.meta, dst.path());
    try {
      st.create_files();
    } catch (const p2p::StorageError& e) {
      return e.code() == std::errc::permission_denied ? 0 : 2;
    }
    return 1;
  };
  if (::geteuid() != 0) {
    EXPECT_EQ(attempt(), 0);
    return;
  }
  // Root ignores permissions: try as an ordinary user in a child process.
  fs::permissions(dst.path().parent_path(), fs::perms::others_exec, fs::perm_options::add);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(3);
    ::_exit(attempt());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error, 2: another error, 3: could not drop root";
}

TEST(DiskPool, OneThreadRunsJobsInOrderOffTheCallingThread) {
  p2p::DiskPool pool(1);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> order;
  std::set<std::thread::id> threads;
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) {
    pool.post([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
      threads.insert(std::this_thread::get_id());
      cv.notify_all();
    });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return order.size() == kJobs; }));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ(order[std::size_t(i)], i);
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_NE(*threads.begin(), std::this_thread::get_id());
}

TEST(DiskPool, SeveralThreadsRunEveryJobAndTheDestructorDrainsTheQueue) {
  std::atomic<int> ran{0};
  std::mutex mu;
  std::set<std::thread::id> threads;
  {
    p2p::DiskPool pool(3);
    EXPECT_EQ(pool.num_threads(), 3);
    for (int i = 0; i < 300; ++i) {
      pool.post([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        std::lock_guard lock(mu);
        threads.insert(std::this_thread::get_id());
        ++ran;
      });
    }
  }
  EXPECT_EQ(ran.load(), 300);
  EXPECT_GE(threads.size(), 2u);
}
