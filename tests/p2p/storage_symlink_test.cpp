// A symbolic link planted inside the download folder is never followed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hostile_helpers.hpp"
#include "p2p/storage/storage.hpp"

using namespace hostile;
namespace be = p2p::bencode;

namespace {

p2p::Metainfo multi_file(const std::string& top, std::int64_t len) {
  be::List files;
  for (const char* name : {"a.bin", "b.bin"}) {
    be::Dict fe;
    fe["length"] = be::Integer(len);
    be::List path;
    path.push_back(be::Value("sub"));
    path.push_back(be::Value(name));
    fe["path"] = be::Value(std::move(path));
    files.emplace_back(std::move(fe));
  }
  be::Dict info;
  info["files"] = be::Value(std::move(files));
  info["name"] = top;
  info["piece length"] = be::Integer(16384);
  info["pieces"] = std::string(std::size_t(20 * ((2 * len + 16383) / 16384)), 'x');
  be::Dict root;
  root["info"] = be::Value(std::move(info));
  return p2p::parse_metainfo(be::encode(be::Value(std::move(root))));
}

void expect_link_refused(const std::function<void()>& fn) {
  try {
    fn();
    FAIL() << "the link was followed";
  } catch (const p2p::StorageError& e) {
    EXPECT_EQ(e.code(), std::errc::too_many_symbolic_link_levels) << e.what();
    EXPECT_NE(std::string(e.what()).find("symbolic link"), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(StorageSymlink, PlantedFileLinkIsRefused) {
  TempDir d;
  fs::create_directories(d.path / "out");
  fs::create_directories(d.path / "elsewhere");
  std::ofstream(d.path / "elsewhere" / "victim") << "precious";
  fs::create_symlink(d.path / "elsewhere" / "victim", d.path / "out" / "data.bin");
  std::string content = random_bytes(40000, 1);
  p2p::Metainfo meta = make_info(content, 16384);
  p2p::Storage st(meta, d.path / "out");
  expect_link_refused([&] { st.create_files(); });
  std::vector<std::uint8_t> block(16384, 7);
  expect_link_refused([&] { st.write(p2p::PieceIndex(0), 0, block); });
  EXPECT_EQ(slurp(d.path / "elsewhere" / "victim"), "precious");
  EXPECT_EQ(fs::file_size(d.path / "elsewhere" / "victim"), 8u);
}

TEST(StorageSymlink, PlantedFolderLinkIsRefused) {
  TempDir d;
  fs::create_directories(d.path / "out" / "top");
  fs::create_directories(d.path / "elsewhere");
  fs::create_directory_symlink(d.path / "elsewhere", d.path / "out" / "top" / "sub");
  p2p::Metainfo meta = multi_file("top", 20000);
  p2p::Storage st(meta, d.path / "out");
  expect_link_refused([&] { st.create_files(); });
  EXPECT_TRUE(fs::is_empty(d.path / "elsewhere"));
  // Without the link the same torrent is laid out normally.
  fs::remove(d.path / "out" / "top" / "sub");
  st.create_files();
  EXPECT_EQ(fs::file_size(d.path / "out" / "top" / "sub" / "a.bin"), 20000u);
  EXPECT_FALSE(fs::is_symlink(d.path / "out" / "top" / "sub"));
}

TEST(StorageSymlink, DownloadIntoPlantedLinkFailsWithClearError) {
  Pair pr(64 * 1024, 16384);
  fs::create_directories(pr.dir.path / "out");
  fs::create_directories(pr.dir.path / "elsewhere");
  std::ofstream(pr.dir.path / "elsewhere" / "victim") << "precious";
  fs::create_symlink(pr.dir.path / "elsewhere" / "victim", pr.dir.path / "out" / "data.bin");
  pr.add_seed();
  pr.add_leech();
  ASSERT_TRUE(testing_events::run_until_state(pr.io, *pr.leech_t, {p2p::TorrentState::Error}))
      << "the download started through the link: " << p2p::to_string(pr.leech_t->state());
  EXPECT_NE(pr.leech_t->error().find("symbolic link"), std::string::npos) << pr.leech_t->error();
  EXPECT_EQ(slurp(pr.dir.path / "elsewhere" / "victim"), "precious");
}
