#pragma once
// The Transmission RPC's methods (rpc-version 16, the protocol of Transmission 3.00 that
// transmission-remote, the web client, Sonarr/Radarr and cross-seed speak) over a Daemon,
// plus bttnode-earnings, bttnode-wallet and bttnode-terms. JSON in, JSON out: a request
// {"method", "arguments", "tag"} becomes {"result", "arguments", "tag"}. A bad request gets a
// result string saying what is wrong; nothing a remote sends can throw out of handle().
// Runs on the daemon's network thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/daemon/daemon.hpp"
#include "node/daemon/rpc_inputs.hpp"

namespace bttnode::daemon {

// A refused request: its message is the answer's "result".
struct RpcError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Which torrents an "ids" argument names.
struct IdSelection {
  std::vector<int> ids;
  bool all = false;              // "ids" absent
  bool recently_active = false;  // the answer then lists "removed" too
};
// Integers, hash strings (40 hex), a list of both, "recently-active"; RpcError otherwise.
IdSelection parse_ids(const nlohmann::json& arguments, Daemon& daemon);

class RpcMethods {
 public:
  struct Options {
    // Fetching a .torrent named by an http(s) URL in torrent-add.
    std::chrono::milliseconds fetch_timeout{20'000};
    std::uint64_t fetch_limit = 10ull << 20;
    std::string session_id;          // shown by session-get
    std::function<void()> on_close;  // session-close; default: the daemon shuts down
  };
  RpcMethods(Daemon& daemon, Options options);
  explicit RpcMethods(Daemon& daemon) : RpcMethods(daemon, Options{}) {}

  RpcMethods(const RpcMethods&) = delete;
  RpcMethods& operator=(const RpcMethods&) = delete;

  // The answer goes to `reply` once: at once, or, for a torrent-add of an http(s) URL, when
  // the fetched torrent is added or the fetch failed. The network thread never waits.
  void handle(const nlohmann::json& request, std::function<void(nlohmann::json)> reply);
  // The same for a request answered at once; a URL fetch has "answered later" as its result.
  nlohmann::json handle(const nlohmann::json& request);

  // Fetches of torrent-add URLs in flight at most; more are refused until one ends.
  static constexpr std::size_t kMaxFetches = 8;

 private:
  nlohmann::json dispatch(const std::string& method, const nlohmann::json& args);
  nlohmann::json session_get(const nlohmann::json& args);
  nlohmann::json session_set(const nlohmann::json& args);
  nlohmann::json session_stats();
  nlohmann::json torrent_get(const nlohmann::json& args);
  struct PendingAdd {
    AddRequest request;
    std::string url;  // http(s): to fetch first
  };
  PendingAdd parse_add(const nlohmann::json& args);
  nlohmann::json add_now(AddRequest request);
  void add_from_url(PendingAdd add, nlohmann::json tag, std::function<void(nlohmann::json)> reply);
  nlohmann::json torrent_set(const nlohmann::json& args);
  nlohmann::json torrent_remove(const nlohmann::json& args);
  nlohmann::json earnings(const nlohmann::json& args);
  nlohmann::json wallet(const nlohmann::json& args);
  nlohmann::json terms(const nlohmann::json& args);
  std::vector<DaemonTorrent*> select(const nlohmann::json& args, IdSelection* sel = nullptr);

  Daemon& daemon_;
  Options options_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // The limits Transmission keeps while disabled (kB/s), so that enabling restores them.
  std::int64_t speed_up_kbps_ = 100;
  std::int64_t speed_down_kbps_ = 100;
  struct Removed {
    int id;
    std::chrono::steady_clock::time_point when;
  };
  std::deque<Removed> removed_;  // for "recently-active"
  std::map<std::uint64_t, std::shared_ptr<TorrentFetch>> fetches_;
  std::uint64_t next_fetch_ = 0;
};

// Transmission's status numbers: 0 stopped, 1 check-wait, 2 checking, 3 download-wait,
// 4 downloading, 5 seed-wait, 6 seeding.
int transmission_status(const DaemonTorrent& t);

}  // namespace bttnode::daemon
