#pragma once
// The seedbox daemon (`bttnode run`): many torrents in one node, each with a stable id, kept
// in the state folder so that any restart (SIGTERM or kill -9) comes back with every torrent,
// its state and its verified progress; a watch folder; ratio and seed-time limits; the
// payment services per torrent. The control API (Transmission RPC), the dashboard and the
// metrics are clients of this class, and run on its network thread.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node/daemon/config.hpp"
#include "node/daemon/pay_overrides.hpp"
#include "node/runtime/node.hpp"

namespace bttnode::daemon {

// What to do when a torrent's ratio or idle-seeding limit is reached.
enum class LimitAction { Stop, Remove };

// Transmission's modes: follow the session's limit, this torrent's own, or none.
enum class LimitMode { Global = 0, Single = 1, Unlimited = 2 };

// What a user may change per torrent (torrent-set). Kept across restarts.
struct TorrentOptions {
  std::int64_t upload_limit = 0;  // bytes/s, 0: unlimited; applies when upload_limited
  std::int64_t download_limit = 0;
  bool upload_limited = false;
  bool download_limited = false;
  bool honors_session_limits = true;
  double ratio_limit = 2.0;
  LimitMode ratio_mode = LimitMode::Global;
  std::chrono::minutes idle_limit{30};  // seeding without upload for this long
  LimitMode idle_mode = LimitMode::Global;
  std::vector<std::string> labels;
  int bandwidth_priority = 0;  // -1 low, 0 normal, 1 high
};

// A torrent of the daemon: the node's entry plus what the daemon keeps of it.
struct DaemonTorrent {
  int id = 0;                      // 1, 2, ... never reused within a state folder
  Node::Torrent* entry = nullptr;  // the p2p torrent and its payment services
  std::filesystem::path download_dir;
  TorrentOptions options;
  PayOverrides pay;        // its own payment terms, kept across restarts
  int queue_position = 0;  // 0 first
  bool paused = false;     // stopped by the user (or by a limit with LimitAction::Stop)
  std::string magnet;      // for a torrent added by magnet link, until its metadata came
  // Wall-clock times as Unix seconds (0: never).
  std::int64_t added_date = 0;
  std::int64_t done_date = 0;
  std::int64_t activity_date = 0;  // last payload sent or received
  std::int64_t start_date = 0;
  // Totals of earlier runs (the p2p torrent counts from this run's start).
  std::int64_t uploaded_before = 0;
  std::int64_t downloaded_before = 0;
  std::int64_t corrupt_before = 0;
  std::int64_t seconds_seeding_before = 0;
  std::int64_t seconds_downloading_before = 0;

  p2p::Torrent& torrent() const { return *entry->torrent; }
  std::int64_t uploaded_ever() const;
  std::int64_t downloaded_ever() const;
};

// One torrent to add, from the watch folder or the control API.
struct AddRequest {
  std::string metainfo;                               // the .torrent's bytes, or ...
  std::string magnet;                                 // ... a magnet link
  std::optional<std::filesystem::path> download_dir;  // default: config's download_dir
  bool paused = false;
  std::vector<std::string> labels;
};

// Why an operation was refused, in words a remote can show.
struct DaemonError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Daemon {
 public:
  // Reads the state folder (creating it) and adds every torrent it holds, as it was. Throws
  // DaemonError when the state folder or the download folder cannot be used.
  Daemon(Node& node, DaemonConfig config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Node& node() { return node_; }
  const DaemonConfig& config() const { return config_; }

  // Torrents in id order.
  const std::vector<std::unique_ptr<DaemonTorrent>>& torrents() const { return torrents_; }
  DaemonTorrent* find(int id);
  DaemonTorrent* find(const p2p::InfoHash& ih);

  // Adds and starts (unless paused) a torrent; its metainfo is written to the state folder
  // before this returns. Returns the torrent and whether it was there already (a duplicate
  // is not an error: Transmission answers torrent-duplicate). DaemonError on bad metainfo,
  // a bad magnet link or a download folder that cannot be made.
  std::pair<DaemonTorrent*, bool> add(AddRequest request);
  // Stops announcing, closes the peers and forgets the torrent and its state files; with
  // delete_data, its files (and folders the torrent made) are deleted too.
  void remove(int id, bool delete_data);
  void start(int id, bool now = false);  // now: ahead of the queue
  void stop(int id);
  void verify(int id);      // rechecks every piece on the disk threads
  void reannounce(int id);  // announces to every tracker now
  void set_options(int id, const TorrentOptions& options);
  // A torrent's own payment terms: checked against the selling and buying tokens and what the
  // terms must meet (DaemonError saying which argument is wrong and why), then kept in its
  // record and given to its payment services at once, for the peers that connect from then
  // on. Terms for selling need selling on in the config, those for buying buying.
  void check_pay_overrides(int id, const PayOverrides& pay);
  void set_pay_overrides(int id, const PayOverrides& pay);
  // Points the torrent at another folder; with move, its files are moved there first.
  void set_location(int id, const std::filesystem::path& dir, bool move);
  enum class QueueMove { Top, Up, Down, Bottom };
  void queue_move(const std::vector<int>& ids, QueueMove how);

  // Session settings, by the names of the node's settings table (and the daemon's own keys);
  // written to the state folder so that they survive a restart. DaemonError for an unknown
  // name or a bad value.
  void set_setting(const std::string& key, const std::string& value);

  // Writes every torrent's state now (the daemon also does it on a timer and on changes).
  void save_state();
  // Settles what is owed, writes the state, announces stopped, then calls done (SIGTERM).
  void shutdown(std::function<void()> done);

  // The node's budget for the day while buying (null otherwise).
  std::shared_ptr<pay::DailyBudget> daily_budget() const;

  // Ids of the torrents active (payload moved, or state changed) in the last `window`.
  std::vector<int> recently_active(std::chrono::seconds window = std::chrono::seconds(60)) const;

 private:
  struct Impl;
  Node& node_;
  DaemonConfig config_;
  std::vector<std::unique_ptr<DaemonTorrent>> torrents_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bttnode::daemon
