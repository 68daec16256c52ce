// Unbuffered (O_DIRECT) writes: every mix of aligned and unaligned file offsets, lengths and
// memory must land byte-exact, with or without the option, and be read back the same.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <future>
#include <mutex>
#include <random>

#include "p2p/metainfo/create_torrent.hpp"
#include "p2p/torrent/piece_buffer.hpp"
#include "p2p/storage/storage.hpp"
#include "tests/test_files.hpp"

namespace fs = std::filesystem;

namespace {

using test_support::random_bytes;
using test_support::read_file;
using test_support::TempDir;
using test_support::write_file;

// Files whose boundaries fall inside pages, so pieces have unaligned heads and tails.
struct Layout {
  TempDir src;
  std::vector<std::pair<std::string, std::string>> files;
  p2p::Metainfo meta;
  explicit Layout(std::int64_t piece_length) {
    files = {{"a.bin", random_bytes(3 * 65536 + 100, 1)},
             {"b.bin", random_bytes(5000, 2)},
             {"c.bin", random_bytes(4 * 65536, 3)},
             {"d.bin", random_bytes(70001, 4)}};
    for (auto& [name, data] : files) write_file(src.path() / "top" / name, data);
    p2p::CreateTorrentOptions opts;
    opts.piece_length = piece_length;
    meta = p2p::create_torrent(src.path() / "top", opts);
  }
  std::string stream() const {
    std::string s;
    for (auto& f : files) s += f.second;
    return s;
  }
};

void download_all(const Layout& l, bool direct, std::size_t misalign) {
  TempDir out;
  p2p::StorageOptions opts;
  opts.direct_writes = direct;
  p2p::Storage st(l.meta, out.path(), opts);
  st.create_files();
  std::string all = l.stream();
  // Pieces written from memory that is page-aligned plus `misalign` bytes.
  std::vector<std::uint8_t> mem(std::size_t(l.meta.piece_length) + 8192);
  std::uintptr_t base = reinterpret_cast<std::uintptr_t>(mem.data());
  std::uint8_t* buf = mem.data() + ((4096 - base % 4096) % 4096) + misalign;
  // Odd pieces first, then even ones, so neighbours are written out of order.
  for (int pass = 0; pass < 2; ++pass) {
    for (p2p::PieceIndex p(0); p.get() < l.meta.num_pieces(); ++p) {
      if (p.get() % 2 != (pass == 0 ? 1 : 0)) continue;
      std::size_t size = std::size_t(l.meta.piece_size(p));
      std::size_t off = std::size_t(p.get()) * std::size_t(l.meta.piece_length);
      std::memcpy(buf, all.data() + off, size);
      st.write(p, 0, std::span<const std::uint8_t>(buf, size));
    }
  }
  for (p2p::PieceIndex p(0); p.get() < l.meta.num_pieces(); ++p) {
    EXPECT_TRUE(st.verify_piece(p)) << "piece " << p.get();
  }
  st.flush();
  st.close_files();
  for (auto& [name, data] : l.files) {
    EXPECT_EQ(read_file(out.path() / "top" / name), data) << name;
  }
}

}  // namespace

TEST(StorageDirect, AlignedAndUnalignedPiecesLandExactly) {
  for (std::int64_t pl : {16384, 65536}) {
    Layout l(pl);
    for (bool direct : {true, false}) {
      for (std::size_t mis : {std::size_t(0), std::size_t(16)}) {
        SCOPED_TRACE("piece " + std::to_string(pl) + (direct ? " direct" : " buffered") +
                     " misalign " + std::to_string(mis));
        download_all(l, direct, mis);
      }
    }
  }
}

TEST(StorageDirect, BlockWritesAndRewritesStayCoherent) {
  // Small writes through the page cache and later whole-piece unbuffered writes of the same
  // bytes must not leave stale data behind in either.
  Layout l(65536);
  TempDir out;
  p2p::Storage st(l.meta, out.path());
  st.create_files();
  std::string all = l.stream();
  std::string junk = random_bytes(65536, 9);
  p2p::PieceIndex p(1);
  st.write(p, 100,
           std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(junk.data()), 1000));
  std::vector<std::uint8_t> back(1000);
  st.read(p, 100, back);
  EXPECT_EQ(std::memcmp(back.data(), junk.data(), 1000), 0);
  st.write(p, 0,
           std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(all.data()) + 65536,
                                         65536));
  EXPECT_TRUE(st.verify_piece(p));
}

TEST(StorageDirect, WriteAndHashWritesAndReturnsTheDigest) {
  Layout l(1 << 20);  // one piece of the whole stream, large enough to overlap
  TempDir out;
  p2p::Storage st(l.meta, out.path());
  st.create_files();
  std::string all = l.stream();
  auto bytes =
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(all.data()), all.size());
  ASSERT_GE(all.size(), std::size_t(256 * 1024));
  EXPECT_EQ(st.write_and_hash(p2p::PieceIndex(0), bytes), l.meta.piece_hash(p2p::PieceIndex(0)));
  EXPECT_TRUE(st.verify_piece(p2p::PieceIndex(0)));
  // Data that does not match is written all the same, and its digest tells so.
  std::string bad = all;
  bad[12345] ^= 1;
  auto bad_bytes =
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(bad.data()), bad.size());
  EXPECT_NE(st.write_and_hash(p2p::PieceIndex(0), bad_bytes),
            l.meta.piece_hash(p2p::PieceIndex(0)));
  EXPECT_FALSE(st.verify_piece(p2p::PieceIndex(0)));
}

TEST(StorageDirect, WriteAndHashGivesTheWriteError) {
  Layout l(1 << 20);
  TempDir out;
  p2p::StorageOptions opts;
  opts.read_only = true;
  p2p::Storage st(l.meta, out.path(), opts);
  std::string all = l.stream();
  auto bytes =
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(all.data()), all.size());
  EXPECT_THROW(st.write_and_hash(p2p::PieceIndex(0), bytes), p2p::StorageError);
  // Without waiting, the error reaches the callback instead.
  std::promise<std::exception_ptr> got;
  st.write_and_hash_async(p2p::PieceIndex(0), bytes,
                          [&](const p2p::Sha1Digest&, std::exception_ptr e) { got.set_value(e); });
  auto error = got.get_future().get();
  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), p2p::StorageError);
}

TEST(StorageDirect, PieceBuffersStartOnAPage) {
  for (std::size_t size : {std::size_t(1), std::size_t(16384), std::size_t(1 << 20) + 7}) {
    auto b = p2p::make_piece_buffer(size);
    ASSERT_NE(b.get(), nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(b.get()) % 4096, 0u) << size;
    std::memset(b.get(), 0xab, size);  // the whole size is ours (ASan checks)
  }
}

TEST(StorageDirect, PiecesInFlightTogetherEachLandAndReportOnce) {
  // 256 KiB pieces, so each one goes through the writer threads; all posted before any is
  // done, from page-aligned buffers as a download posts them.
  Layout l(256 * 1024);
  TempDir out;
  p2p::Storage st(l.meta, out.path());
  st.create_files();
  std::string all = l.stream();
  const int pieces = l.meta.num_pieces();
  std::vector<p2p::PieceBuffer> buffers;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<int> reports(std::size_t(pieces), 0);
  int good = 0;
  for (int i = 0; i < pieces; ++i) {
    p2p::PieceIndex p(i);
    auto size = std::size_t(l.meta.piece_size(p));
    buffers.push_back(p2p::make_piece_buffer(size));
    std::memcpy(buffers.back().get(), all.data() + std::size_t(i) * 256 * 1024, size);
    st.write_and_hash_async(p, std::span<const std::uint8_t>(buffers.back().get(), size),
                            [&, i, p](const p2p::Sha1Digest& d, std::exception_ptr error) {
                              std::lock_guard lock(mu);
                              ++reports[std::size_t(i)];
                              if (!error && d == l.meta.piece_hash(p)) ++good;
                              cv.notify_all();
                            });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] {
    return std::all_of(reports.begin(), reports.end(), [](int n) { return n > 0; });
  }));
  EXPECT_EQ(good, pieces);
  for (int n : reports) EXPECT_EQ(n, 1);
  lock.unlock();
  st.flush();
  for (int i = 0; i < pieces; ++i) EXPECT_TRUE(st.verify_piece(p2p::PieceIndex(i))) << i;
}
