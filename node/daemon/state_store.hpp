#pragma once
// The daemon's state folder on disk. Layout (every file written whole: temp file, fsync,
// rename, fsync of the folder, so a crash leaves the old or the new version, never a mix):
//
//   STATE/daemon.json                 {"next_id": N}: ids are never reused
//   STATE/settings.json               settings changed at run time (name -> text value)
//   STATE/torrents/<infohash>.torrent the metainfo (a magnet's once its metadata came)
//   STATE/torrents/<infohash>.json    id, download folder, options, its own payment terms,
//                                     paused, labels, queue position, dates, totals of
//                                     earlier runs, magnet link
//   STATE/resume/<infohash>.resume    the engine's resume data (verified pieces, file stamps)
//   STATE/rpc-password                the generated RPC password (mode 0600)
//
// <infohash> is the v1 info-hash in lower-case hex.
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "node/daemon/daemon.hpp"

namespace bttnode::daemon {

constexpr std::filesystem::perms kStateFilePerms =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
    std::filesystem::perms::group_read | std::filesystem::perms::others_read;

// Writes `data` to `file` atomically with the given permission bits. Throws DaemonError.
// Durable: fsync of the file and of its folder before this returns. Otherwise the rename
// still makes it atomic, and it outlives the process at once (kill -9 loses nothing); one
// sync_state_folder() afterwards makes a whole batch outlive a power cut, for the cost of
// one sync instead of two per file (thousands of torrents).
enum class Sync { Durable, Later };
void write_file_atomic(const std::filesystem::path& file, const std::string& data,
                       std::filesystem::perms perms = kStateFilePerms, Sync sync = Sync::Durable);
// syncfs() of the file system holding `folder`: everything written there so far.
void sync_state_folder(const std::filesystem::path& folder);
// The whole file, or nullopt when it does not exist or is over max_size bytes.
std::optional<std::string> read_file(const std::filesystem::path& file, std::size_t max_size);

struct StatePaths {
  std::filesystem::path root;
  std::filesystem::path torrents() const { return root / "torrents"; }
  std::filesystem::path resume() const { return root / "resume"; }
  std::filesystem::path daemon_file() const { return root / "daemon.json"; }
  std::filesystem::path settings_file() const { return root / "settings.json"; }
  std::filesystem::path metainfo(const std::string& hex) const {
    return torrents() / (hex + ".torrent");
  }
  std::filesystem::path record(const std::string& hex) const {
    return torrents() / (hex + ".json");
  }
  std::filesystem::path resume_file(const std::string& hex) const {
    return resume() / (hex + ".resume");
  }
};

nlohmann::json options_to_json(const TorrentOptions& o);
// Throws DaemonError naming the bad field.
TorrentOptions options_from_json(const nlohmann::json& j);

// A torrent's record (<infohash>.json) as of now: the totals include this run's.
nlohmann::json record_to_json(const DaemonTorrent& t, const std::string& info_hash_hex);
// Reads what record_to_json wrote into t (entry left null); returns the info-hash hex.
// Throws DaemonError for a record that cannot be used.
std::string record_from_json(const nlohmann::json& j, DaemonTorrent& t);

}  // namespace bttnode::daemon
