#pragma once
// The daemon's Prometheus page (/metrics, text format 0.0.4): transfer counters of the
// session and of each torrent, torrents by state, peers and payers, what was earned and
// spent per token, settlements, hash failures, bans and closed connections by reason.
// Collected on the network thread into a plain snapshot, then rendered with prometheus-cpp.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "node/daemon/http_frontend.hpp"

namespace bttnode {
class Node;
}

namespace bttnode::daemon {

class Daemon;
struct DaemonTorrent;

struct MetricsSnapshot {
  struct Torrent {
    std::string info_hash;  // hex
    std::string name;
    std::uint64_t uploaded = 0;  // payload bytes, every run
    std::uint64_t downloaded = 0;
  };
  std::uint64_t uploaded = 0;  // payload bytes of the session, this run
  std::uint64_t downloaded = 0;
  std::vector<Torrent> torrents;              // the first `max_torrents` by id
  std::map<std::string, std::size_t> states;  // state name -> torrents; every state present
  std::size_t peers = 0;
  std::size_t payers = 0;                  // connected peers bound to a paying address
  std::map<std::string, double> earned;    // token -> base units credited to us, this run
  std::map<std::string, double> spent;     // token -> base units we paid, this run
  std::uint64_t settlements_received = 0;  // credited settlements of our buyers
  std::uint64_t settlements_sent = 0;      // payments we made to seeders
  std::uint64_t hash_failures = 0;
  std::uint64_t bans = 0;
  std::map<std::string, std::uint64_t> closed;  // close reason -> connections
};

// The names of the torrent states as metric labels, in the engine's order.
const std::vector<std::string>& metric_state_names();

// Network thread. Per-torrent series stop at `max_torrents` torrents to keep the page bounded.
MetricsSnapshot collect_metrics(Daemon& daemon, std::size_t max_torrents = 1000);
MetricsSnapshot collect_metrics(Node& node,
                                const std::vector<std::unique_ptr<DaemonTorrent>>& torrents,
                                std::size_t max_torrents = 1000);
std::string render_metrics(const MetricsSnapshot& snapshot);

// GET /metrics; nullopt for any other path.
Route metrics_route(Daemon& daemon, std::size_t max_torrents = 1000);

}  // namespace bttnode::daemon
