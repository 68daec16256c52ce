// A download onto a file system that fills up: a clear error, every verified piece kept in
// the resume data, and the download goes on once there is room again.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <cstring>

#include "hostile_helpers.hpp"
#include "p2p/storage/resume_data.hpp"
#include "p2p/storage/storage.hpp"

using namespace hostile;

namespace {

struct TmpfsMount {
  fs::path dir;
  bool mounted = false;
  std::string error;
  TmpfsMount(const fs::path& d, const std::string& size) : dir(d) {
    fs::create_directories(dir);
    std::string opts = "size=" + size;
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) == 0) {
      mounted = true;
    } else {
      error = std::strerror(errno);
    }
  }
  bool resize(const std::string& size) {
    std::string opts = "size=" + size;
    return ::mount("tmpfs", dir.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()) == 0;
  }
  ~TmpfsMount() {
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
  }
};

}  // namespace

TEST(DiskFull, StopsKeepsVerifiedPiecesAndResumes) {
  p2p::SessionSettings ls;
  ls.disk_full_retry = std::chrono::seconds(1);
  ls.max_download_rate = 4 << 20;  // a few pieces at a time reach the disk
  Pair pr(4 << 20, 64 * 1024, ls);
  TmpfsMount mnt(pr.dir.path / "out", "1m");
  if (!mnt.mounted) GTEST_SKIP() << "cannot mount a tmpfs here: " << mnt.error;
  pr.add_seed();
  pr.add_leech();
  std::string first_error;
  auto errors = testing_events::on_event<p2p::event::TorrentError>(
      *pr.leecher, pr.leech_t->info_hash(), [&](const p2p::event::TorrentError& e) {
        if (first_error.empty()) first_error = e.message;
      });
  ASSERT_TRUE(pr.run_until([&] { return !first_error.empty(); }, std::chrono::seconds(60)))
      << "no error on a full disk";
  EXPECT_FALSE(pr.done);
  EXPECT_NE(first_error.find("No space left on device"), std::string::npos) << first_error;
  EXPECT_NE(first_error.find("data.bin"), std::string::npos) << first_error;  // names the file
  // Let the resume data reach the disk.
  pr.io.run_for(std::chrono::milliseconds(300));
  int have = pr.leech_t->num_have();
  EXPECT_GT(have, 0);
  EXPECT_LT(have, pr.meta.num_pieces());
  auto rd = p2p::load_resume_data(pr.dir.path / "leech.resume");
  ASSERT_TRUE(rd.has_value());
  int saved = int(std::count(rd->have.begin(), rd->have.end(), true));
  EXPECT_GT(saved, 0);
  // Every piece the resume data claims is on the disk and hashes right.
  p2p::StorageOptions ro;
  ro.read_only = true;
  p2p::Storage check(pr.meta, pr.dir.path / "out", ro);
  for (std::size_t i = 0; i < rd->have.size(); ++i) {
    if (rd->have[i]) {
      EXPECT_TRUE(check.verify_piece(p2p::PieceIndex(std::int32_t(i)))) << i;
    }
  }

  // Room again: the torrent retries by itself and completes.
  ASSERT_TRUE(mnt.resize("16m"));
  ASSERT_TRUE(pr.run_until([&] { return pr.done; }, std::chrono::seconds(60)))
      << "did not resume; error: " << pr.leech_t->error();
  EXPECT_TRUE(pr.leech_t->error().empty());
  EXPECT_EQ(slurp(pr.dir.path / "out" / "data.bin"), pr.content);
}
