#pragma once
// The daemon's configuration file (`bttnode run --config FILE`): one JSON object whose keys
// all have defaults. The node's settings (session, btt_pay) are read through the node's
// settings table; the daemon's own keys are below. An unknown key is an error naming it.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "node/runtime/settings.hpp"

namespace bttnode::daemon {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Selling every torrent of the daemon (unless a torrent's own terms say otherwise).
struct SellConfig {
  bool enabled = false;
  std::filesystem::path keystore;
  std::filesystem::path password_file;  // read once at start; never logged
  std::string network = "devnet";       // or a full node URL through `node`
  std::string node;                     // full node HTTP API URL
  std::string token = "btt";
  std::string price;   // per MiB, e.g. "0.5btt"; empty: the settings table's
  std::string credit;  // first credit, e.g. "4MiB"; empty: the table's
};

// Buying: what the daemon may pay to be served first.
struct BuyConfig {
  bool enabled = false;
  std::filesystem::path keystore;
  std::filesystem::path password_file;
  std::string network = "devnet";
  std::string node;
  std::string token = "btt";
  std::string max_price;          // per MiB
  std::string budget_per_torrent;  // in the token; empty: none
  // For every torrent together, per UTC day, counting what the ledger paid since midnight;
  // empty or 0: none.
  std::string budget_per_day;
};

struct DaemonConfig {
  std::filesystem::path download_dir;  // default: <data folder>/downloads
  std::filesystem::path state_dir;     // default: <data folder>/state
  std::filesystem::path watch_dir;     // empty: no watch folder
  std::uint16_t peer_port = 51413;
  std::string rpc_bind = "127.0.0.1";
  std::uint16_t rpc_port = 9091;
  std::string rpc_username;
  std::string rpc_password;
  bool rpc_enabled = true;
  // Map peer_port on the router (PCP, else NAT-PMP, else UPnP IGD) while the daemon runs.
  bool port_forwarding = true;
  // Client addresses allowed (exact or with '*' per octet); empty: any.
  std::vector<std::string> rpc_whitelist = {"127.0.0.1", "::1"};
  // Host header names allowed besides localhost and IP literals while bound to localhost.
  std::vector<std::string> rpc_host_whitelist;
  // Ratio and idle-seeding limits of the session (torrents with LimitMode::Global).
  std::optional<double> ratio_limit;  // nullopt: none
  std::optional<std::chrono::minutes> idle_seeding_limit;
  std::string limit_action = "stop";  // "stop" or "remove"
  std::chrono::seconds watch_interval{2};
  std::chrono::seconds state_interval{10};  // progress written at least this often
  SellConfig sell;
  BuyConfig buy;
  // The node's own settings (session limits, queue sizes, btt_pay...), from the same file.
  NodeSettings node;
};

// Parses a config file's JSON. ConfigError names the key for an unknown key or a bad value.
DaemonConfig parse_config(const nlohmann::json& j);
DaemonConfig load_config(const std::filesystem::path& file);
// The folder used without --config: $XDG_DATA_HOME/bttnode or ~/.local/share/bttnode.
std::filesystem::path default_data_dir();
// The whole configuration as JSON (every key with its value): `--dump-config`.
nlohmann::json dump_config(const DaemonConfig& c);

}  // namespace bttnode::daemon
