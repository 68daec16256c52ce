#include "p2p/metainfo/metainfo.hpp"

#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "p2p/wire/bencode.hpp"
#include "p2p/metainfo/sha1.hpp"

namespace p2p {

namespace be = bencode;

std::int32_t Metainfo::piece_size(PieceIndex p) const {
  if (p.get() + 1 < num_pieces()) return static_cast<std::int32_t>(piece_length);
  return static_cast<std::int32_t>(total_size - piece_length * (num_pieces() - 1));
}

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw MetainfoError("invalid torrent: " + what);
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += "\\x";
      out += kDigits[u >> 4];
      out += kDigits[u & 0xf];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

const be::Value& require(const be::Value& dict, std::string_view key, const std::string& where) {
  const be::Value* v = dict.find(key);
  if (!v) fail("missing " + where + std::string(key));
  return *v;
}

const std::string& require_string(const be::Value& dict, std::string_view key,
                                  const std::string& where) {
  const be::Value& v = require(dict, key, where);
  if (!v.is_string()) fail(where + std::string(key) + " is not a string");
  return v.as_string();
}

std::int64_t require_int(const be::Value& dict, std::string_view key, const std::string& where) {
  const be::Value& v = require(dict, key, where);
  if (!v.is_int()) fail(where + std::string(key) + " is not an integer");
  return v.as_int();
}

// A file or folder name taken from the torrent: it must not escape the save folder.
void check_component(const std::string& c, const std::string& what) {
  if (c.empty()) fail(what + " is empty");
  if (c == "." || c == "..") fail(what + " is " + quoted(c) + " (path traversal)");
  if (c.find('/') != std::string::npos) fail(what + " " + quoted(c) + " contains '/'");
  if (c.find('\0') != std::string::npos) fail(what + " " + quoted(c) + " contains a NUL byte");
#ifdef _WIN32
  if (c.find('\\') != std::string::npos) fail(what + " " + quoted(c) + " contains '\\'");
#endif
}

std::int64_t checked_length(std::int64_t len, const std::string& what) {
  if (len < 0) fail(what + " is negative (" + std::to_string(len) + ")");
  return len;
}

void parse_info(const be::Value& info, Metainfo& m, const MetainfoLimits& limits) {
  if (!info.is_dict()) fail("info is not a dictionary");

  m.name = require_string(info, "name", "info.");
  check_component(m.name, "info.name");

  std::int64_t pl = require_int(info, "piece length", "info.");
  if (pl <= 0) fail("info.piece length must be positive (" + std::to_string(pl) + ")");
  if (pl > limits.max_piece_length) {
    fail("info.piece length " + std::to_string(pl) + " exceeds " +
         std::to_string(limits.max_piece_length));
  }
  m.piece_length = pl;

  const std::string& pieces = require_string(info, "pieces", "info.");
  if (pieces.size() % 20 != 0) {
    fail("info.pieces length " + std::to_string(pieces.size()) + " is not a multiple of 20");
  }

  const be::Value* length = info.find("length");
  const be::Value* files = info.find("files");
  if (length && files) fail("info has both length and files");
  if (!length && !files) fail("missing info.length or info.files");

  if (length) {
    if (!length->is_int()) fail("info.length is not an integer");
    FileEntry f;
    f.path = {m.name};
    f.length = checked_length(length->as_int(), "info.length");
    f.relative_path = m.name;
    m.files.push_back(std::move(f));
    m.multi_file = false;
  } else {
    if (!files->is_list()) fail("info.files is not a list");
    const be::List& list = files->as_list();
    if (list.empty()) fail("info.files is empty");
    if (list.size() > limits.max_files) fail("info.files has too many entries");
    m.multi_file = true;
    // Every path goes into a tree of names: the work and memory are linear in the paths'
    // length (a set of every folder prefix grew with the square of the depth).
    struct Node {
      std::map<std::string_view, std::size_t> children;
      bool file = false;
    };
    std::vector<Node> tree(1);
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string where = "info.files[" + std::to_string(i) + "]";
      const be::Value& fe = list[i];
      if (!fe.is_dict()) fail(where + " is not a dictionary");
      FileEntry f;
      f.length = checked_length(require_int(fe, "length", where + "."), where + ".length");
      const be::Value& path = require(fe, "path", where + ".");
      if (!path.is_list()) fail(where + ".path is not a list");
      if (path.as_list().empty()) fail(where + ".path is empty");
      if (path.as_list().size() > limits.max_path_depth) {
        fail(where + ".path has " + std::to_string(path.as_list().size()) +
             " components, more than " + std::to_string(limits.max_path_depth));
      }
      std::size_t path_bytes = m.name.size();
      for (std::size_t j = 0; j < path.as_list().size(); ++j) {
        const be::Value& c = path.as_list()[j];
        std::string cw = where + ".path[" + std::to_string(j) + "]";
        if (!c.is_string()) fail(cw + " is not a string");
        check_component(c.as_string(), cw);
        path_bytes += c.as_string().size() + 1;
        if (path_bytes > limits.max_path_length) {
          fail(where + ".path is longer than " + std::to_string(limits.max_path_length) + " bytes");
        }
        f.path.push_back(c.as_string());
      }
      if (const be::Value* attr = fe.find("attr"); attr && attr->is_string()) {
        f.pad = attr->as_string().find('p') != std::string::npos;
      }
      // A path may not repeat, nor be both a file and a folder. The names are views into
      // the decoded value, which outlives the tree.
      std::size_t at = 0;
      for (std::size_t j = 0; j < f.path.size(); ++j) {
        if (tree[at].file) fail(where + " lies inside a path that is a file");
        std::string_view name = path.as_list()[j].as_string();
        auto [it, fresh] = tree[at].children.try_emplace(name, tree.size());
        at = it->second;
        if (fresh) tree.emplace_back();
        if (j + 1 == f.path.size() && !fresh) {
          fail(tree[at].file ? where + " repeats an earlier path"
                             : where + " is also a folder of another file");
        }
      }
      tree[at].file = true;
      std::filesystem::path rel = m.name;
      for (const auto& c : f.path) rel /= c;
      f.relative_path = rel;
      m.files.push_back(std::move(f));
    }
  }

  ByteCount total = 0;
  for (auto& f : m.files) {
    if (f.length > std::numeric_limits<ByteCount>::max() - total) fail("total size overflows");
    f.offset = total;
    total += f.length;
  }
  m.total_size = total;
  if (total == 0) fail("the torrent holds no data (total size 0)");

  std::int64_t expected = total / pl + (total % pl != 0 ? 1 : 0);
  std::int64_t have = static_cast<std::int64_t>(pieces.size() / 20);
  if (expected != have) {
    fail("info.pieces holds " + std::to_string(have) + " hashes but " + std::to_string(total) +
         " bytes in pieces of " + std::to_string(pl) + " need " + std::to_string(expected));
  }
  if (expected > std::numeric_limits<std::int32_t>::max()) fail("too many pieces");
  m.piece_hashes.resize(static_cast<std::size_t>(have));
  for (std::size_t i = 0; i < m.piece_hashes.size(); ++i) {
    std::copy_n(reinterpret_cast<const std::uint8_t*>(pieces.data()) + 20 * i, 20,
                m.piece_hashes[i].begin());
  }

  if (const be::Value* priv = info.find("private")) {
    if (!priv->is_int()) fail("info.private is not an integer");
    m.is_private = priv->as_int() == 1;
  }
}

be::Limits bencode_limits(const MetainfoLimits& limits) {
  be::Limits bl;
  bl.max_size = limits.max_file_size;
  return bl;
}

void add_tracker(std::vector<std::string>& tier, const std::string& url) {
  if (url.empty()) return;
  for (const auto& t : tier) {
    if (t == url) return;
  }
  tier.push_back(url);
}

}  // namespace

Metainfo parse_info_dict(std::string_view info_bytes, const MetainfoLimits& limits) {
  be::Value info;
  try {
    info = be::decode(info_bytes, bencode_limits(limits));
  } catch (const be::DecodeError& e) {
    fail(std::string("info dictionary: ") + e.what());
  }
  Metainfo m;
  m.info_bytes = std::string(info_bytes);
  m.info_hash = sha1(info_bytes);
  parse_info(info, m, limits);
  return m;
}

Metainfo parse_metainfo(std::string_view torrent, const MetainfoLimits& limits) {
  be::Value root;
  std::optional<std::string_view> raw_info;
  try {
    root = be::decode(torrent, bencode_limits(limits));
    if (!root.is_dict()) fail("the file is not a bencoded dictionary");
    raw_info = be::raw_dict_value(torrent, "info", bencode_limits(limits));
  } catch (const be::DecodeError& e) {
    fail(e.what());
  }
  if (!raw_info) fail("missing info");

  Metainfo m;
  m.info_bytes = std::string(*raw_info);
  m.info_hash = sha1(*raw_info);
  parse_info(*root.find("info"), m, limits);

  if (const be::Value* al = root.find("announce-list")) {
    if (!al->is_list()) fail("announce-list is not a list");
    for (std::size_t i = 0; i < al->as_list().size(); ++i) {
      const be::Value& tier = al->as_list()[i];
      std::string where = "announce-list[" + std::to_string(i) + "]";
      if (!tier.is_list()) fail(where + " is not a list");
      std::vector<std::string> urls;
      for (const auto& u : tier.as_list()) {
        if (!u.is_string()) fail(where + " holds a non-string");
        add_tracker(urls, u.as_string());
      }
      if (!urls.empty()) m.trackers.push_back(std::move(urls));
    }
  }
  if (const be::Value* a = root.find("announce")) {
    if (!a->is_string()) fail("announce is not a string");
    // BEP 12: announce-list, when present, supersedes announce.
    if (m.trackers.empty() && !a->as_string().empty()) m.trackers.push_back({a->as_string()});
  }
  if (const be::Value* c = root.find("comment")) {
    if (!c->is_string()) fail("comment is not a string");
    m.comment = c->as_string();
  }
  if (const be::Value* c = root.find("created by")) {
    if (!c->is_string()) fail("created by is not a string");
    m.created_by = c->as_string();
  }
  if (const be::Value* d = root.find("creation date")) {
    if (!d->is_int()) fail("creation date is not an integer");
    m.creation_date = d->as_int();
  }
  // url-list (BEP 19) is kept only when well formed; anything else is ignored.
  if (const be::Value* u = root.find("url-list")) {
    if (u->is_string() && !u->as_string().empty()) {
      m.url_list.push_back(u->as_string());
    } else if (u->is_list()) {
      for (const auto& e : u->as_list()) {
        if (e.is_string() && !e.as_string().empty()) m.url_list.push_back(e.as_string());
      }
    }
  }
  return m;
}

Metainfo load_metainfo(const std::filesystem::path& file, const MetainfoLimits& limits) {
  std::error_code ec;
  auto size = std::filesystem::file_size(file, ec);
  if (ec) throw MetainfoError("cannot read " + file.string() + ": " + ec.message());
  if (size > limits.max_file_size) {
    throw MetainfoError(file.string() + " is too large for a torrent (" + std::to_string(size) +
                        " bytes)");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw MetainfoError("cannot open " + file.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw MetainfoError("cannot read " + file.string());
  return parse_metainfo(ss.str(), limits);
}

std::string encode_metainfo(const Metainfo& m) {
  // Keys in sorted order; "info" is copied byte for byte so the info-hash is preserved.
  std::string out = "d";
  auto str = [&out](std::string_view s) {
    out += std::to_string(s.size());
    out += ':';
    out += s;
  };
  if (!m.trackers.empty() && !m.trackers[0].empty()) {
    str("announce");
    str(m.trackers[0][0]);
    std::size_t count = 0;
    for (const auto& t : m.trackers) count += t.size();
    if (count > 1) {
      str("announce-list");
      out += 'l';
      for (const auto& tier : m.trackers) {
        if (tier.empty()) continue;
        out += 'l';
        for (const auto& u : tier) str(u);
        out += 'e';
      }
      out += 'e';
    }
  }
  if (!m.comment.empty()) {
    str("comment");
    str(m.comment);
  }
  if (!m.created_by.empty()) {
    str("created by");
    str(m.created_by);
  }
  if (m.creation_date) {
    str("creation date");
    out += 'i' + std::to_string(*m.creation_date) + 'e';
  }
  str("info");
  out += m.info_bytes;
  if (!m.url_list.empty()) {
    str("url-list");
    out += 'l';
    for (const auto& u : m.url_list) str(u);
    out += 'e';
  }
  out += 'e';
  return out;
}

}  // namespace p2p
