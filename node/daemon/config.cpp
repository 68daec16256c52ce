// The daemon's config file. The daemon's own keys are read here; the node's settings table
// keys (max_upload_rate, max_active_downloads, max_connections, ...) may be given at the top
// level or inside a "node" object (both at once is fine; "node" wins for a key given twice).
#include "node/daemon/config.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "base/settings.hpp"

namespace bttnode::daemon {

namespace {

using json = nlohmann::json;

[[noreturn]] void bad(const std::string& key, const std::string& why) {
  throw ConfigError("config: " + key + ": " + why);
}

std::string get_string(const json& v, const std::string& key) {
  if (!v.is_string()) bad(key, "want a string");
  return v.get<std::string>();
}

bool get_bool(const json& v, const std::string& key) {
  if (!v.is_boolean()) bad(key, "want true or false");
  return v.get<bool>();
}

std::uint16_t get_port(const json& v, const std::string& key) {
  if (!v.is_number_integer()) bad(key, "want a port number (0-65535; 0: any free port)");
  const auto n = v.get<std::int64_t>();
  if (n < 0 || n > 65535) bad(key, std::to_string(n) + " is not a port (0-65535)");
  return std::uint16_t(n);
}

// An amount of the buying token: base units as a JSON integer or a plain number ("1000"), or
// whole tokens with a unit ("2.5btt"). Only its form is checked here: the token's decimals
// are known once the node is asked. "" and 0 mean none.
std::string get_budget(const json& v, const std::string& key) {
  const char* want = "want an amount of the token (1000 base units, or 2.5btt), 0 for none";
  if (v.is_number_unsigned()) return std::to_string(v.get<std::uint64_t>());
  if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
    return std::to_string(v.get<std::int64_t>());
  }
  if (!v.is_string()) bad(key, want);
  const std::string s = v.get<std::string>();
  std::size_t i = 0, digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  if (!s.empty() && (digits == 0 || i != s.size() || s.size() > 100)) {
    bad(key, "'" + s.substr(0, 100) + "': " + want);
  }
  return s;
}

std::vector<std::string> get_strings(const json& v, const std::string& key) {
  std::vector<std::string> out;
  if (v.is_string()) {
    // Transmission writes its whitelists as one comma-separated string.
    std::string s = v.get<std::string>();
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
      auto b = item.find_first_not_of(" \t");
      auto e = item.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
    }
    return out;
  }
  if (!v.is_array()) bad(key, "want a list of strings");
  for (const auto& e : v) {
    if (!e.is_string()) bad(key, "want a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

int get_queue_size(const json& v, const std::string& key) {
  if (v.is_null()) return -1;
  if (!v.is_number_integer() || v.get<std::int64_t>() < -1 || v.get<std::int64_t>() > 1'000'000) {
    bad(key, "want a number of torrents (-1 or null: no limit)");
  }
  return int(v.get<std::int64_t>());
}

// Seconds as a number, or a duration text ("30s", "5m").
std::chrono::milliseconds get_duration(const json& v, const std::string& key) {
  std::chrono::milliseconds d{0};
  if (v.is_number()) {
    const double s = v.get<double>();
    if (!(s >= 0 && s <= 86400.0 * 365)) bad(key, "out of range");
    d = std::chrono::milliseconds(std::int64_t(s * 1000));
  } else if (v.is_string()) {
    try {
      d = base::parse_duration(v.get<std::string>());
    } catch (const std::exception& e) {
      bad(key, e.what());
    }
  } else {
    bad(key, "want seconds or a duration such as \"30s\"");
  }
  return d;
}

std::filesystem::path get_path(const json& v, const std::string& key) {
  std::string s = get_string(v, key);
  if (s.find('\0') != std::string::npos) bad(key, "bad path");
  if (s.empty()) return {};
  return std::filesystem::absolute(s).lexically_normal();
}

template <typename C>
using Reader = std::function<void(C&, const json&, const std::string&)>;

template <typename C>
void read_object(C& c, const json& j, const std::string& prefix,
                 const std::map<std::string, Reader<C>>& keys) {
  if (!j.is_object()) bad(prefix, "want a JSON object");
  std::string unknown;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!keys.count(it.key())) unknown += (unknown.empty() ? "" : ", ") + prefix + "." + it.key();
  }
  if (!unknown.empty()) throw ConfigError("config: unknown keys: " + unknown);
  for (auto it = j.begin(); it != j.end(); ++it) {
    keys.at(it.key())(c, it.value(), prefix + "." + it.key());
  }
}

const std::map<std::string, Reader<SellConfig>>& sell_keys() {
  static const std::map<std::string, Reader<SellConfig>> k = {
      {"enabled",
       [](SellConfig& c, const json& v, const std::string& n) { c.enabled = get_bool(v, n); }},
      {"keystore",
       [](SellConfig& c, const json& v, const std::string& n) { c.keystore = get_path(v, n); }},
      {"password_file", [](SellConfig& c, const json& v,
                           const std::string& n) { c.password_file = get_path(v, n); }},
      {"network",
       [](SellConfig& c, const json& v, const std::string& n) { c.network = get_string(v, n); }},
      {"node",
       [](SellConfig& c, const json& v, const std::string& n) { c.node = get_string(v, n); }},
      {"token",
       [](SellConfig& c, const json& v, const std::string& n) { c.token = get_string(v, n); }},
      {"price",
       [](SellConfig& c, const json& v, const std::string& n) { c.price = get_string(v, n); }},
      {"credit",
       [](SellConfig& c, const json& v, const std::string& n) { c.credit = get_string(v, n); }},
  };
  return k;
}

const std::map<std::string, Reader<BuyConfig>>& buy_keys() {
  static const std::map<std::string, Reader<BuyConfig>> k = {
      {"enabled",
       [](BuyConfig& c, const json& v, const std::string& n) { c.enabled = get_bool(v, n); }},
      {"keystore",
       [](BuyConfig& c, const json& v, const std::string& n) { c.keystore = get_path(v, n); }},
      {"password_file",
       [](BuyConfig& c, const json& v, const std::string& n) { c.password_file = get_path(v, n); }},
      {"network",
       [](BuyConfig& c, const json& v, const std::string& n) { c.network = get_string(v, n); }},
      {"node",
       [](BuyConfig& c, const json& v, const std::string& n) { c.node = get_string(v, n); }},
      {"token",
       [](BuyConfig& c, const json& v, const std::string& n) { c.token = get_string(v, n); }},
      {"max_price",
       [](BuyConfig& c, const json& v, const std::string& n) { c.max_price = get_string(v, n); }},
      {"budget_per_torrent", [](BuyConfig& c, const json& v,
                                const std::string& n) { c.budget_per_torrent = get_string(v, n); }},
      {"budget_per_day", [](BuyConfig& c, const json& v,
                            const std::string& n) { c.budget_per_day = get_budget(v, n); }},
      // A setting of the buyer's table: parse_config reads it with the node's settings.
      {"upload_while_buying", [](BuyConfig&, const json&, const std::string&) {}},
  };
  return k;
}

using Key = std::function<void(DaemonConfig&, const json&, const std::string&)>;

const std::map<std::string, Key>& daemon_keys() {
  using C = DaemonConfig;
  static const std::map<std::string, Key> k = {
      {"download_dir",
       [](C& c, const json& v, const std::string& n) { c.download_dir = get_path(v, n); }},
      {"state_dir",
       [](C& c, const json& v, const std::string& n) { c.state_dir = get_path(v, n); }},
      {"watch_dir",
       [](C& c, const json& v, const std::string& n) { c.watch_dir = get_path(v, n); }},
      {"peer_port",
       [](C& c, const json& v, const std::string& n) { c.peer_port = get_port(v, n); }},
      {"rpc_bind",
       [](C& c, const json& v, const std::string& n) { c.rpc_bind = get_string(v, n); }},
      {"rpc_port", [](C& c, const json& v, const std::string& n) { c.rpc_port = get_port(v, n); }},
      {"rpc_username",
       [](C& c, const json& v, const std::string& n) { c.rpc_username = get_string(v, n); }},
      {"rpc_password",
       [](C& c, const json& v, const std::string& n) { c.rpc_password = get_string(v, n); }},
      {"rpc_enabled",
       [](C& c, const json& v, const std::string& n) { c.rpc_enabled = get_bool(v, n); }},
      {"port_forwarding",
       [](C& c, const json& v, const std::string& n) { c.port_forwarding = get_bool(v, n); }},
      {"rpc_whitelist",
       [](C& c, const json& v, const std::string& n) { c.rpc_whitelist = get_strings(v, n); }},
      {"rpc_host_whitelist",
       [](C& c, const json& v, const std::string& n) { c.rpc_host_whitelist = get_strings(v, n); }},
      {"ratio_limit",
       [](C& c, const json& v, const std::string& n) {
         if (v.is_null()) return void(c.ratio_limit.reset());
         if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1e6) {
           bad(n, "want a ratio >= 0, or null for none");
         }
         c.ratio_limit = v.get<double>();
       }},
      {"idle_seeding_limit",
       [](C& c, const json& v, const std::string& n) {
         if (v.is_null()) return void(c.idle_seeding_limit.reset());
         if (!v.is_number_integer() || v.get<std::int64_t>() < 1 ||
             v.get<std::int64_t>() > 10'000'000) {
           bad(n, "want whole minutes >= 1, or null for none");
         }
         c.idle_seeding_limit = std::chrono::minutes(v.get<std::int64_t>());
       }},
      {"limit_action",
       [](C& c, const json& v, const std::string& n) {
         std::string s = get_string(v, n);
         if (s != "stop" && s != "remove") bad(n, "want \"stop\" or \"remove\"");
         c.limit_action = s;
       }},
      {"watch_interval",
       [](C& c, const json& v, const std::string& n) {
         auto d = get_duration(v, n);
         if (d < std::chrono::seconds(1)) bad(n, "at least 1 s");
         c.watch_interval = std::chrono::duration_cast<std::chrono::seconds>(d);
       }},
      {"state_interval",
       [](C& c, const json& v, const std::string& n) {
         auto d = get_duration(v, n);
         if (d < std::chrono::seconds(1)) bad(n, "at least 1 s");
         c.state_interval = std::chrono::duration_cast<std::chrono::seconds>(d);
       }},
      // The session's queue sizes: torrents over them wait Queued (null or -1: no limit).
      {"max_active_downloads",
       [](C& c, const json& v, const std::string& n) {
         c.node.session.max_active_downloads = get_queue_size(v, n);
       }},
      {"max_active_seeds",
       [](C& c, const json& v, const std::string& n) {
         c.node.session.max_active_seeds = get_queue_size(v, n);
       }},
      {"sell",
       [](C& c, const json& v, const std::string& n) { read_object(c.sell, v, n, sell_keys()); }},
      {"buy",
       [](C& c, const json& v, const std::string& n) { read_object(c.buy, v, n, buy_keys()); }},
  };
  return k;
}

bool is_node_key(const std::string& key) {
  const auto* e = node_settings_table().find(key);
  return e && e->info.json_key == key;
}

}  // namespace

std::filesystem::path default_data_dir() {
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) {
    return std::filesystem::path(x) / "bttnode";
  }
  if (const char* h = std::getenv("HOME"); h && *h) {
    return std::filesystem::path(h) / ".local" / "share" / "bttnode";
  }
  return std::filesystem::current_path() / "bttnode-data";
}

DaemonConfig parse_config(const nlohmann::json& j) {
  if (!j.is_object()) throw ConfigError("config: want a JSON object");
  DaemonConfig c;
  std::string unknown;
  json node_keys = json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key == "node" || daemon_keys().count(key)) continue;
    if (is_node_key(key)) {
      node_keys[key] = it.value();
    } else {
      unknown += (unknown.empty() ? "" : ", ") + key;
    }
  }
  if (j.contains("node")) {
    const json& n = j.at("node");
    if (!n.is_object()) bad("node", "want a JSON object of the node's settings");
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (is_node_key(it.key())) {
        node_keys[it.key()] = it.value();
      } else {
        unknown += (unknown.empty() ? "" : ", ") + std::string("node.") + it.key();
      }
    }
  }
  if (auto b = j.find("buy");
      b != j.end() && b->is_object() && b->contains("upload_while_buying")) {
    node_keys["upload_while_buying"] = b->at("upload_while_buying");
  }
  if (!unknown.empty()) {
    throw ConfigError("config: unknown key" +
                      std::string(unknown.find(',') != std::string::npos ? "s: " : ": ") + unknown);
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (auto k = daemon_keys().find(it.key()); k != daemon_keys().end()) {
      k->second(c, it.value(), it.key());
    }
  }
  try {
    node_settings_table().load(c.node, node_keys);
  } catch (const base::SettingsError& e) {
    throw ConfigError(std::string("config: ") + e.what());
  }
  if (node_keys.contains("credit")) c.node.sell.credit_explicit = true;
  const auto data = default_data_dir();
  if (c.download_dir.empty()) c.download_dir = data / "downloads";
  if (c.state_dir.empty()) c.state_dir = data / "state";
  c.node.session.dht_state_file = c.state_dir / "dht.dat";
  // The peer port is the daemon's key; the table's listen_port follows it (or gives it, when
  // only listen_port was written).
  if (node_keys.contains("listen_port") && !j.contains("peer_port")) {
    c.peer_port = c.node.session.listen_port;
  }
  c.node.session.listen_port = c.peer_port;
  return c;
}

DaemonConfig load_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > (std::size_t(4) << 20)) throw ConfigError(file.string() + ": too big");
  auto doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) throw ConfigError(file.string() + ": not valid JSON");
  try {
    return parse_config(doc);
  } catch (const ConfigError& e) {
    throw ConfigError(file.string() + ": " + e.what());
  }
}

nlohmann::json dump_config(const DaemonConfig& c) {
  json j;
  j["download_dir"] = c.download_dir.string();
  j["state_dir"] = c.state_dir.string();
  j["watch_dir"] = c.watch_dir.string();
  j["peer_port"] = c.peer_port;
  j["rpc_bind"] = c.rpc_bind;
  j["rpc_port"] = c.rpc_port;
  j["rpc_username"] = c.rpc_username;
  j["rpc_password"] = c.rpc_password;
  j["rpc_enabled"] = c.rpc_enabled;
  j["port_forwarding"] = c.port_forwarding;
  j["rpc_whitelist"] = c.rpc_whitelist;
  j["rpc_host_whitelist"] = c.rpc_host_whitelist;
  j["ratio_limit"] = c.ratio_limit ? json(*c.ratio_limit) : json(nullptr);
  j["idle_seeding_limit"] =
      c.idle_seeding_limit ? json(c.idle_seeding_limit->count()) : json(nullptr);
  j["limit_action"] = c.limit_action;
  j["max_active_downloads"] = c.node.session.max_active_downloads;
  j["max_active_seeds"] = c.node.session.max_active_seeds;
  j["watch_interval"] = c.watch_interval.count();
  j["state_interval"] = c.state_interval.count();
  j["sell"] = {{"enabled", c.sell.enabled},
               {"keystore", c.sell.keystore.string()},
               {"password_file", c.sell.password_file.string()},
               {"network", c.sell.network},
               {"node", c.sell.node},
               {"token", c.sell.token},
               {"price", c.sell.price},
               {"credit", c.sell.credit}};
  j["buy"] = {{"enabled", c.buy.enabled},
              {"keystore", c.buy.keystore.string()},
              {"password_file", c.buy.password_file.string()},
              {"network", c.buy.network},
              {"node", c.buy.node},
              {"token", c.buy.token},
              {"max_price", c.buy.max_price},
              {"budget_per_torrent", c.buy.budget_per_torrent},
              {"budget_per_day", c.buy.budget_per_day},
              {"upload_while_buying", c.node.buy.upload_while_buying}};
  json node = node_settings_table().dump(c.node);
  // listen_port is peer_port's.
  node.erase("listen_port");
  // A credit in the file counts as the user's own choice (see parse_config).
  if (!c.node.sell.credit_explicit) node.erase("credit");
  j["node"] = std::move(node);
  return j;
}

}  // namespace bttnode::daemon
