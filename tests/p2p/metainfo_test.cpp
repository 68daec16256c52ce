#include "p2p/metainfo/metainfo.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "p2p/wire/bencode.hpp"
#include "base/hex.hpp"
#include "p2p/metainfo/sha1.hpp"

namespace be = p2p::bencode;

namespace {

be::Value path_list(std::initializer_list<const char*> parts) {
  be::List l;
  for (const char* p : parts) l.emplace_back(p);
  return be::Value(std::move(l));
}

be::Dict file_entry(std::int64_t length, be::Value path) {
  be::Dict f;
  f["length"] = be::Value(length);
  f["path"] = std::move(path);
  return f;
}

// A valid multi-file torrent: files of 10, 0 and 30 bytes in pieces of 16.
be::Dict multi_file_torrent() {
  be::Dict info;
  info["name"] = "top";
  info["piece length"] = 16;
  info["pieces"] = std::string(60, 'x');
  be::List files;
  files.emplace_back(file_entry(10, path_list({"a.txt"})));
  files.emplace_back(file_entry(0, path_list({"empty"})));
  files.emplace_back(file_entry(30, path_list({"sub", "deep", "b.bin"})));
  info["files"] = std::move(files);
  be::Dict root;
  root["announce"] = "http://t1.example/announce";
  root["info"] = std::move(info);
  return root;
}

be::Dict single_file_torrent() {
  be::Dict info;
  info["name"] = "file.iso";
  info["piece length"] = 32768;
  info["length"] = 100000;
  info["pieces"] = std::string(4 * 20, 'p');
  be::Dict root;
  root["info"] = std::move(info);
  return root;
}

std::string enc(const be::Dict& d) {
  return be::encode(be::Value(d));
}

be::Dict& info_of(be::Dict& root) {
  return root["info"].as_dict();
}

// Parses and returns the error message ("" when it parsed).
std::string parse_error(const std::string& bytes) {
  try {
    p2p::parse_metainfo(bytes);
  } catch (const p2p::MetainfoError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Metainfo, SingleFile) {
  be::Dict root = single_file_torrent();
  root["comment"] = "a comment";
  root["created by"] = "someone";
  root["creation date"] = be::Value(be::Integer{1700000000});
  std::string bytes = enc(root);
  p2p::Metainfo m = p2p::parse_metainfo(bytes);
  EXPECT_FALSE(m.multi_file);
  EXPECT_EQ(m.name, "file.iso");
  EXPECT_EQ(m.total_size, 100000);
  EXPECT_EQ(m.num_pieces(), 4);
  EXPECT_EQ(m.piece_size(p2p::PieceIndex(0)), 32768);
  EXPECT_EQ(m.piece_size(p2p::PieceIndex(3)), 100000 - 3 * 32768);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].relative_path, "file.iso");
  EXPECT_EQ(m.comment, "a comment");
  EXPECT_EQ(m.created_by, "someone");
  EXPECT_EQ(m.creation_date, 1700000000);
  EXPECT_TRUE(m.trackers.empty());
  EXPECT_FALSE(m.is_private);
  // The info-hash is the SHA-1 of the info dictionary's exact bytes.
  std::string info_bytes = be::encode(root["info"]);
  EXPECT_EQ(m.info_bytes, info_bytes);
  EXPECT_EQ(m.info_hash, p2p::sha1(info_bytes));
}

TEST(Metainfo, MultiFileOffsetsAndPaths) {
  p2p::Metainfo m = p2p::parse_metainfo(enc(multi_file_torrent()));
  EXPECT_TRUE(m.multi_file);
  ASSERT_EQ(m.files.size(), 3u);
  EXPECT_EQ(m.files[0].offset, 0);
  EXPECT_EQ(m.files[1].offset, 10);
  EXPECT_EQ(m.files[1].length, 0);
  EXPECT_EQ(m.files[2].offset, 10);
  EXPECT_EQ(m.files[2].relative_path, std::filesystem::path("top/sub/deep/b.bin"));
  EXPECT_EQ(m.total_size, 40);
  EXPECT_EQ(m.num_pieces(), 3);
  EXPECT_EQ(m.piece_size(p2p::PieceIndex(2)), 8);
  ASSERT_EQ(m.trackers.size(), 1u);
  EXPECT_EQ(m.trackers[0][0], "http://t1.example/announce");
}

TEST(Metainfo, InfoHashUsesOriginalBytesNotReencoding) {
  // An unknown key inside info must count toward the hash exactly as written.
  be::Dict root = single_file_torrent();
  info_of(root)["x-unknown"] = be::Value(be::List{});
  std::string bytes = enc(root);
  auto m = p2p::parse_metainfo(bytes);
  auto raw = be::raw_dict_value(bytes, "info");
  EXPECT_EQ(m.info_hash, p2p::sha1(*raw));
}

TEST(Metainfo, AnnounceListTiersAndPrivate) {
  be::Dict root = multi_file_torrent();
  be::List tiers;
  be::List t1;
  t1.emplace_back("udp://a.example:80");
  t1.emplace_back("http://b.example/announce");
  be::List t2;
  t2.emplace_back("http://c.example/announce");
  tiers.emplace_back(std::move(t1));
  tiers.emplace_back(be::List{});  // empty tier ignored
  tiers.emplace_back(std::move(t2));
  root["announce-list"] = be::Value(std::move(tiers));
  info_of(root)["private"] = 1;
  root["url-list"] = 5;  // wrong type: ignored, not fatal
  auto m = p2p::parse_metainfo(enc(root));
  ASSERT_EQ(m.trackers.size(), 2u);
  EXPECT_EQ(m.trackers[0].size(), 2u);
  EXPECT_EQ(m.trackers[1][0], "http://c.example/announce");
  EXPECT_TRUE(m.is_private);
  EXPECT_TRUE(m.url_list.empty());
}

TEST(Metainfo, UrlListReadSafely) {
  be::Dict root = single_file_torrent();
  be::List urls;
  urls.emplace_back("http://seed.example/x");
  urls.emplace_back(7);
  root["url-list"] = be::Value(std::move(urls));
  auto m = p2p::parse_metainfo(enc(root));
  ASSERT_EQ(m.url_list.size(), 1u);
}

TEST(Metainfo, EncodeKeepsInfoHash) {
  be::Dict root = multi_file_torrent();
  auto m = p2p::parse_metainfo(enc(root));
  m.trackers = {{"http://x.example/a", "http://y.example/a"}, {"udp://z.example:1"}};
  m.comment = "c";
  auto again = p2p::parse_metainfo(p2p::encode_metainfo(m));
  EXPECT_EQ(again.info_hash, m.info_hash);
  EXPECT_EQ(again.trackers, m.trackers);
  EXPECT_EQ(again.comment, "c");
}

TEST(Metainfo, ParseInfoDict) {
  be::Dict root = single_file_torrent();
  std::string info = be::encode(root["info"]);
  auto m = p2p::parse_info_dict(info);
  EXPECT_EQ(m.info_hash, p2p::sha1(info));
  EXPECT_EQ(m.total_size, 100000);
  EXPECT_THROW(p2p::parse_info_dict(info + "x"), p2p::MetainfoError);
}

// Each malformed torrent is rejected with an error that names the problem.
TEST(Metainfo, MalformedCorpus) {
  struct Case {
    const char* name;
    std::function<std::string()> make;
    const char* expect;  // substring of the error
  };
  auto mutate = [](std::function<void(be::Dict&)> f, bool multi = true) {
    return [f, multi] {
      be::Dict root = multi ? multi_file_torrent() : single_file_torrent();
      f(root);
      return enc(root);
    };
  };
  std::vector<Case> cases = {
      {"not bencode", [] { return std::string("hello"); }, "bencode"},
      {"trailing bytes", [] { return enc(single_file_torrent()) + "x"; }, "trailing"},
      {"unsorted keys", [] { return std::string("d4:infod4:name1:a6:lengthi1eee"); }, "not sorted"},
      {"not a dict", [] { return std::string("li1ee"); }, "not a bencoded dictionary"},
      {"missing info", [] { return std::string("d8:announce1:xe"); }, "missing info"},
      {"info not dict", mutate([](be::Dict& r) { r["info"] = 3; }), "info is not a dictionary"},
      {"missing name", mutate([](be::Dict& r) { info_of(r).erase("name"); }), "missing info.name"},
      {"name wrong type", mutate([](be::Dict& r) { info_of(r)["name"] = 1; }),
       "info.name is not a string"},
      {"name dot-dot", mutate([](be::Dict& r) { info_of(r)["name"] = ".."; }), "path traversal"},
      {"name with slash", mutate([](be::Dict& r) { info_of(r)["name"] = "a/b"; }), "contains '/'"},
      {"name empty", mutate([](be::Dict& r) { info_of(r)["name"] = ""; }), "info.name is empty"},
      {"missing piece length", mutate([](be::Dict& r) { info_of(r).erase("piece length"); }),
       "missing info.piece length"},
      {"zero piece length", mutate([](be::Dict& r) { info_of(r)["piece length"] = 0; }),
       "must be positive"},
      {"negative piece length", mutate([](be::Dict& r) { info_of(r)["piece length"] = -16; }),
       "must be positive"},
      {"huge piece length",
       mutate([](be::Dict& r) { info_of(r)["piece length"] = be::Value(be::Integer{1} << 40); }),
       "exceeds"},
      {"missing pieces", mutate([](be::Dict& r) { info_of(r).erase("pieces"); }),
       "missing info.pieces"},
      {"pieces not multiple of 20",
       mutate([](be::Dict& r) { info_of(r)["pieces"] = std::string(59, 'x'); }),
       "not a multiple of 20"},
      {"too few pieces", mutate([](be::Dict& r) { info_of(r)["pieces"] = std::string(40, 'x'); }),
       "need 3"},
      {"too many pieces", mutate([](be::Dict& r) { info_of(r)["pieces"] = std::string(80, 'x'); }),
       "need 3"},
      {"length and files", mutate([](be::Dict& r) { info_of(r)["length"] = 5; }),
       "both length and files"},
      {"neither length nor files", mutate([](be::Dict& r) { info_of(r).erase("files"); }),
       "missing info.length or info.files"},
      {"negative length", mutate([](be::Dict& r) { info_of(r)["length"] = -1; }, false),
       "negative"},
      {"length wrong type", mutate([](be::Dict& r) { info_of(r)["length"] = "5"; }, false),
       "info.length is not an integer"},
      {"files not list", mutate([](be::Dict& r) { info_of(r)["files"] = "x"; }),
       "info.files is not a list"},
      {"files empty", mutate([](be::Dict& r) { info_of(r)["files"] = be::List{}; }),
       "info.files is empty"},
      {"file not dict", mutate([](be::Dict& r) { info_of(r)["files"].as_list()[0] = 5; }),
       "info.files[0] is not a dictionary"},
      {"file negative length",
       mutate([](be::Dict& r) { info_of(r)["files"].as_list()[2].as_dict()["length"] = -30; }),
       "info.files[2].length is negative"},
      {"file missing path",
       mutate([](be::Dict& r) { info_of(r)["files"].as_list()[1].as_dict().erase("path"); }),
       "missing info.files[1].path"},
      {"file path empty list",
       mutate([](be::Dict& r) { info_of(r)["files"].as_list()[1].as_dict()["path"] = be::List{}; }),
       "info.files[1].path is empty"},
      {"file path traversal", mutate([](be::Dict& r) {
         info_of(r)["files"].as_list()[2].as_dict()["path"] = path_list({"..", "..", "etc"});
       }),
       "path traversal"},
      {"file path dot", mutate([](be::Dict& r) {
         info_of(r)["files"].as_list()[2].as_dict()["path"] = path_list({"a", ".", "b"});
       }),
       "path traversal"},
      {"absolute path component", mutate([](be::Dict& r) {
         info_of(r)["files"].as_list()[2].as_dict()["path"] = path_list({"/etc/passwd"});
       }),
       "contains '/'"},
      {"empty path component", mutate([](be::Dict& r) {
         info_of(r)["files"].as_list()[2].as_dict()["path"] = path_list({"a", "", "b"});
       }),
       "info.files[2].path[1] is empty"},
      {"path component not string", mutate([](be::Dict& r) {
         be::List l;
         l.emplace_back(4);
         info_of(r)["files"].as_list()[2].as_dict()["path"] = be::Value(std::move(l));
       }),
       "info.files[2].path[0] is not a string"},
      {"duplicate path", mutate([](be::Dict& r) {
         info_of(r)["files"].as_list()[1].as_dict()["path"] = path_list({"a.txt"});
       }),
       "repeats"},
      {"file is also folder", mutate([](be::Dict& r) {
         info_of(r)["files"].as_list()[1].as_dict()["path"] = path_list({"a.txt", "x"});
       }),
       "inside a path that is a file"},
      {"total overflow", mutate([](be::Dict& r) {
         info_of(r)["files"].as_list()[0].as_dict()["length"] = be::Value(INT64_MAX);
         info_of(r)["files"].as_list()[2].as_dict()["length"] = be::Value(INT64_MAX);
       }),
       "overflows"},
      {"no data",
       mutate(
           [](be::Dict& r) {
             info_of(r)["length"] = 0;
             info_of(r)["pieces"] = std::string();
           },
           false),
       "no data"},
      {"private wrong type", mutate([](be::Dict& r) { info_of(r)["private"] = "1"; }),
       "info.private is not an integer"},
      {"announce wrong type", mutate([](be::Dict& r) { r["announce"] = 5; }),
       "announce is not a string"},
      {"announce-list wrong type", mutate([](be::Dict& r) { r["announce-list"] = "x"; }),
       "announce-list is not a list"},
      {"announce-list tier wrong type", mutate([](be::Dict& r) {
         be::List l;
         l.emplace_back("x");
         r["announce-list"] = be::Value(std::move(l));
       }),
       "announce-list[0] is not a list"},
      {"comment wrong type", mutate([](be::Dict& r) { r["comment"] = 1; }),
       "comment is not a string"},
      {"creation date wrong type", mutate([](be::Dict& r) { r["creation date"] = "today"; }),
       "creation date is not an integer"},
      {"negative zero in info",
       [] {
         return std::string(
             "d4:infod6:lengthi-0e4:name1:a12:piece lengthi16e6:pieces20:aaaaaaaaaaaaaaaaaaaaee");
       },
       "negative zero"},
      {"deep nesting",
       [] { return "d4:info" + std::string(5000, 'l') + std::string(5000, 'e') + "e"; }, "nesting"},
  };
  for (const auto& c : cases) {
    std::string err = parse_error(c.make());
    EXPECT_NE(err, "") << c.name << ": parsed without error";
    EXPECT_NE(err.find(c.expect), std::string::npos) << c.name << ": error was: " << err;
  }
}

TEST(Metainfo, LoadReportsMissingFile) {
  try {
    p2p::load_metainfo("/nonexistent/x.torrent");
    FAIL();
  } catch (const p2p::MetainfoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.torrent"), std::string::npos);
  }
}
