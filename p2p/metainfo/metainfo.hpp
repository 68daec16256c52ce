#pragma once
// Metainfo (.torrent) v1, BEP 3 with BEP 12 (announce-list) and BEP 27 (private). Parsing
// validates every field and throws MetainfoError naming what is wrong.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/wire/core_types.hpp"

namespace p2p {

class MetainfoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FileEntry {
  // Path components below the torrent's top folder (multi-file) or just {name} (single-file).
  // Every component is validated: non-empty, not "." or "..", no '/' or NUL.
  std::vector<std::string> path;
  ByteCount length = 0;
  ByteCount offset = 0;  // offset of the file's first byte in the torrent's byte stream
  bool pad = false;      // BEP 47 pad file (attr "p"): all zeros, never written to disk

  // The path relative to the save folder, including the top folder for multi-file torrents.
  std::filesystem::path relative_path;
};

struct Metainfo {
  InfoHash info_hash{};
  std::string info_bytes;  // the exact bencoded info dictionary (served by BEP 9)

  std::string name;
  std::int64_t piece_length = 0;
  std::vector<Sha1Digest> piece_hashes;
  std::vector<FileEntry> files;
  bool multi_file = false;  // "files" list (even with one file) rather than "length"
  ByteCount total_size = 0;
  bool is_private = false;

  // Trackers as BEP 12 tiers. From announce-list when present; else [[announce]].
  std::vector<std::vector<std::string>> trackers;
  std::string comment;
  std::string created_by;
  std::optional<std::int64_t> creation_date;
  std::vector<std::string> url_list;  // BEP 19 web seeds: read, not used

  std::int32_t num_pieces() const { return static_cast<std::int32_t>(piece_hashes.size()); }
  // Size of a piece: piece_length, except the last which may be shorter.
  std::int32_t piece_size(PieceIndex p) const;
  const Sha1Digest& piece_hash(PieceIndex p) const { return piece_hashes[p.get()]; }
};

struct MetainfoLimits {
  std::size_t max_file_size = 64u * 1024 * 1024;  // of the .torrent itself
  std::size_t max_files = 1'000'000;
  std::int64_t max_piece_length = 128ll * 1024 * 1024;
  std::size_t max_path_depth = 64;     // components of one file's path
  std::size_t max_path_length = 4096;  // bytes of one file's path, top folder included
};

// Parses a whole .torrent file.
Metainfo parse_metainfo(std::string_view torrent, const MetainfoLimits& limits = {});
// Parses a bare info dictionary (metadata fetched over BEP 9 from a magnet link).
Metainfo parse_info_dict(std::string_view info_bytes, const MetainfoLimits& limits = {});
// Reads and parses a file; MetainfoError on an I/O failure too.
Metainfo load_metainfo(const std::filesystem::path& file, const MetainfoLimits& limits = {});

// Encodes a .torrent from its parts: the info dictionary bytes plus the outer fields
// (trackers as announce/announce-list, comment, created by, creation date).
std::string encode_metainfo(const Metainfo& m);

}  // namespace p2p
