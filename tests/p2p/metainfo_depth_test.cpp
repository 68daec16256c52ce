// Deep paths in a torrent: bounded depth and length, linear work, a clear error.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "p2p/metainfo/metainfo.hpp"
#include "p2p/metainfo/sha1.hpp"
#include "p2p/wire/bencode.hpp"

using namespace p2p;
namespace be = p2p::bencode;

namespace {

// An info dictionary with `files` files, each `depth` components deep.
std::string info_with_paths(std::size_t files, std::size_t depth, const std::string& name = "d") {
  be::List list;
  for (std::size_t f = 0; f < files; ++f) {
    be::List path;
    for (std::size_t j = 0; j + 1 < depth; ++j) path.push_back(be::Value(name));
    path.push_back(be::Value("f" + std::to_string(f)));
    be::Dict fe;
    fe["length"] = be::Integer(1);
    fe["path"] = be::Value(std::move(path));
    list.emplace_back(std::move(fe));
  }
  std::int64_t total = std::int64_t(files);
  std::int64_t pl = 16384;
  std::string pieces(std::size_t(20 * ((total + pl - 1) / pl)), 'x');
  be::Dict info;
  info["files"] = be::Value(std::move(list));
  info["name"] = "top";
  info["piece length"] = be::Integer(pl);
  info["pieces"] = pieces;
  return be::encode(be::Value(std::move(info)));
}

std::string torrent_of(const std::string& info) {
  return "d4:info" + info + "e";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST(MetainfoDepth, SixteenThousandFolderPathIsRefusedQuickly) {
  std::string info = info_with_paths(1, 16000);
  EXPECT_LT(info.size(), 64u * 1024);  // the 48 KB torrent that once took 3 GiB
  auto t0 = std::chrono::steady_clock::now();
  try {
    parse_metainfo(torrent_of(info));
    FAIL() << "accepted";
  } catch (const MetainfoError& e) {
    EXPECT_NE(std::string(e.what()).find("16000 components, more than 64"), std::string::npos)
        << e.what();
  }
  // The same through magnet metadata.
  EXPECT_THROW(parse_info_dict(info), MetainfoError);
  EXPECT_LT(seconds_since(t0), 1.0);
}

TEST(MetainfoDepth, PathLengthIsBounded) {
  // 64 components of 100 bytes: 6,400 bytes, over the 4,096-byte limit.
  std::string info = info_with_paths(1, 64, std::string(100, 'a'));
  try {
    parse_info_dict(info);
    FAIL() << "accepted";
  } catch (const MetainfoError& e) {
    EXPECT_NE(std::string(e.what()).find("longer than 4096 bytes"), std::string::npos) << e.what();
  }
}

TEST(MetainfoDepth, ManyDeepFilesParseInLinearTime) {
  // 4,000 files 64 deep in one shared folder chain: 256,000 components. Four times the files
  // of a first parse takes about four times as long, not sixteen: the time is compared with
  // that first parse, not with a fixed limit a slow or instrumented machine would miss. The
  // best of three parses of each is compared, so a page fault or a busy core counts less.
  std::string small = info_with_paths(1000, 64);
  std::string info = info_with_paths(4000, 64);
  auto best_parse = [](const std::string& text, std::size_t files) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      Metainfo m = parse_info_dict(text);
      best = std::min(best, seconds_since(t0));
      EXPECT_EQ(m.files.size(), files);
      EXPECT_EQ(m.files[0].path.size(), 64u);
    }
    return best;
  };
  double t_small = best_parse(small, 1000);
  double t_big = best_parse(info, 4000);
  EXPECT_LT(t_big, 9 * t_small + 0.05)
      << t_small << " s for 1,000 files, " << t_big << " s for 4,000";
}

TEST(MetainfoDepth, FileAndFolderClashesStillRefused) {
  auto make = [](std::vector<std::vector<std::string>> paths) {
    be::List list;
    for (auto& p : paths) {
      be::List path;
      for (auto& c : p) path.push_back(be::Value(c));
      be::Dict fe;
      fe["length"] = be::Integer(1);
      fe["path"] = be::Value(std::move(path));
      list.emplace_back(std::move(fe));
    }
    be::Dict info;
    info["files"] = be::Value(std::move(list));
    info["name"] = "top";
    info["piece length"] = be::Integer(16384);
    info["pieces"] = std::string(20, 'x');
    return be::encode(be::Value(std::move(info)));
  };
  EXPECT_THROW(parse_info_dict(make({{"a", "b"}, {"a"}})), MetainfoError);
  EXPECT_THROW(parse_info_dict(make({{"a"}, {"a", "b"}})), MetainfoError);
  EXPECT_THROW(parse_info_dict(make({{"a", "b"}, {"a", "b"}})), MetainfoError);
  EXPECT_NO_THROW(parse_info_dict(make({{"a", "b"}, {"a", "c"}})));
}
