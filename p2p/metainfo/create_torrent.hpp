#pragma once
// Building a v1 .torrent from a file or a folder: files sorted by path, empty files kept,
// pieces hashed with large reads (and a second thread when given one).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "p2p/metainfo/metainfo.hpp"

namespace p2p {

struct CreateTorrentOptions {
  std::vector<std::string> trackers;  // one BEP 12 tier per tracker, in order
  std::int64_t piece_length = 0;      // 0: chosen from the total size
  bool is_private = false;
  std::string comment;
  std::string created_by = "bttnode";
  std::optional<std::int64_t> creation_date;  // unset: now; set to 0 to leave out
  int threads = 2;                            // hashing threads (1 or 2)
  // Called now and then with bytes hashed so far and the total.
  std::function<void(ByteCount, ByteCount)> progress;
};

// Piece length for a given total size: about 1000-2000 pieces, between 16 KiB and 16 MiB.
std::int64_t default_piece_length(ByteCount total_size);

// Hashes `path` (a file, or a folder whose name becomes the torrent's name) and returns the
// parsed result; encode_metainfo() gives the file bytes. Throws MetainfoError or
// std::system_error on bad input or I/O errors (e.g. the data changing while hashed).
Metainfo create_torrent(const std::filesystem::path& path, const CreateTorrentOptions& opts);

}  // namespace p2p
