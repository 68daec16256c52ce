#include "node/daemon/rpc_methods.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <string_view>
#include <unordered_map>

#include <boost/asio/post.hpp>

#include "base/hex.hpp"
#include "node/daemon/rpc_fields.hpp"
#include "node/daemon/rpc_inputs.hpp"
#include "node/daemon/rpc_payments.hpp"
#include "p2p/metainfo/magnet.hpp"
#include "tron/abi.hpp"
#include "wallet/earnings.hpp"
#include "wallet/keystore.hpp"
#include "wallet/ledger.hpp"

namespace bttnode::daemon {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr int kRpcVersion = 16;
constexpr std::int64_t kSpeedUnit = 1000;  // Transmission's kB/s

// Reads an argument of the expected JSON type, or nothing when absent.
template <class T>
std::optional<T> arg(const json& args, const char* name) {
  auto it = args.find(name);
  if (it == args.end() || it->is_null()) return std::nullopt;
  if constexpr (std::is_same_v<T, bool>) {
    if (it->is_boolean()) return it->get<bool>();
    if (it->is_number_integer()) return it->get<std::int64_t>() != 0;  // Transmission takes 0/1
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (it->is_string()) return it->get<std::string>();
  } else if constexpr (std::is_same_v<T, double>) {
    if (it->is_number()) return it->get<double>();
  } else {
    if (it->is_number_integer()) return it->get<T>();
    if (it->is_number_float()) {
      double d = it->get<double>();
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<T>(d);
    }
  }
  throw RpcError(std::string("invalid argument \"") + name + "\": wrong type");
}

std::vector<std::string> string_list(const json& args, const char* name) {
  const auto& v = args.at(name);
  if (!v.is_array()) throw RpcError(std::string("invalid argument \"") + name + "\": want a list");
  std::vector<std::string> out;
  for (const auto& e : v) {
    if (!e.is_string()) {
      throw RpcError(std::string("invalid argument \"") + name + "\": want a list of strings");
    }
    if (e.get<std::string>().size() > 256 || out.size() >= 64) {
      throw RpcError(std::string("invalid argument \"") + name + "\": too long");
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::optional<p2p::InfoHash> parse_hash(std::string_view s) {
  p2p::InfoHash ih{};
  if (s.size() != 40 || !base::from_hex_into(s, ih)) return std::nullopt;
  return ih;
}

LimitMode parse_mode(std::int64_t v, const char* name) {
  if (v < 0 || v > 2) throw RpcError(std::string("invalid argument \"") + name + "\": 0, 1 or 2");
  return static_cast<LimitMode>(v);
}

std::string read_bounded(const fs::path& p, std::uint64_t limit) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) throw RpcError("invalid or corrupt torrent file");
  auto size = fs::file_size(p, ec);
  if (ec || size > limit) throw RpcError("invalid or corrupt torrent file: too large");
  std::ifstream in(p, std::ios::binary);
  std::string data(size, '\0');
  if (!in.read(data.data(), std::streamsize(size))) {
    throw RpcError("invalid or corrupt torrent file");
  }
  return data;
}

// The limits session-set and torrent-set both take, under their names in each, checked.
struct LimitArgs {
  std::optional<std::int64_t> up, down;  // kB/s
  std::optional<bool> up_on, down_on;
  std::optional<double> ratio;
  std::optional<std::int64_t> idle;  // minutes
};

struct LimitNames {
  const char* up;
  const char* down;
  const char* up_on;
  const char* down_on;
  const char* idle;
  std::int64_t idle_min;
};

LimitArgs limit_args(const json& args, const LimitNames& n) {
  LimitArgs l{arg<std::int64_t>(args, n.up),
              arg<std::int64_t>(args, n.down),
              arg<bool>(args, n.up_on),
              arg<bool>(args, n.down_on),
              arg<double>(args, "seedRatioLimit"),
              arg<std::int64_t>(args, n.idle)};
  for (auto* v : {&l.up, &l.down}) {
    if (*v && (**v < 0 || **v > 100'000'000)) throw RpcError("invalid argument: speed limit");
  }
  if (l.ratio && (*l.ratio < 0 || *l.ratio > 1e6)) {
    throw RpcError("invalid argument \"seedRatioLimit\"");
  }
  if (l.idle && (*l.idle < n.idle_min || *l.idle > 10'000'000)) {
    throw RpcError(std::string("invalid argument \"") + n.idle + "\"");
  }
  return l;
}

json success(json arguments = json::object()) {
  return {{"result", "success"}, {"arguments", std::move(arguments)}};
}

}  // namespace

int transmission_status(const DaemonTorrent& t) {
  const p2p::Torrent& tor = t.torrent();
  switch (tor.state()) {
    case p2p::TorrentState::Paused:
    case p2p::TorrentState::Error:
      return 0;
    case p2p::TorrentState::Checking:
      return 2;
    case p2p::TorrentState::FetchingMetadata:
    case p2p::TorrentState::Downloading:
      return t.paused ? 0 : 4;
    case p2p::TorrentState::Seeding:
      return t.paused ? 0 : 6;
    case p2p::TorrentState::Queued:
      if (t.paused) return 0;
      if (tor.wants_check()) return 1;
      return tor.is_seed() ? 5 : 3;
  }
  return 0;
}

IdSelection parse_ids(const json& args, Daemon& daemon) {
  IdSelection sel;
  auto it = args.find("ids");
  if (it == args.end() || it->is_null()) {
    sel.all = true;
    return sel;
  }
  auto one = [&](const json& v) {
    if (v.is_number_integer()) {
      sel.ids.push_back(
          static_cast<int>(std::clamp<std::int64_t>(v.get<std::int64_t>(), -1, 1 << 30)));
      return;
    }
    if (v.is_string()) {
      const auto& s = v.get_ref<const std::string&>();
      if (auto ih = parse_hash(s)) {
        if (auto* t = daemon.find(*ih)) sel.ids.push_back(t->id);
        return;
      }
    }
    throw RpcError(
        "invalid argument \"ids\": want an id, a hash string, a list of them or "
        "\"recently-active\"");
  };
  if (it->is_string() && it->get<std::string>() == "recently-active") {
    sel.recently_active = true;
    sel.ids = daemon.recently_active();
    return sel;
  }
  if (it->is_array()) {
    if (it->size() > 1'000'000) throw RpcError("invalid argument \"ids\": too many");
    for (const auto& v : *it) one(v);
  } else {
    one(*it);
  }
  return sel;
}

RpcMethods::RpcMethods(Daemon& daemon, Options options)
    : daemon_(daemon), options_(std::move(options)) {
  const auto& s = daemon_.node().settings().session;
  if (s.max_upload_rate > 0) speed_up_kbps_ = s.max_upload_rate / kSpeedUnit;
  if (s.max_download_rate > 0) speed_down_kbps_ = s.max_download_rate / kSpeedUnit;
}

namespace {

// Transmission's answer: "success" with the arguments, or what was wrong with none; the tag
// echoed either way.
template <class F>
json answer_of(const json& tag, F&& fn) {
  json answer;
  try {
    answer = fn();
  } catch (const RpcError& e) {
    answer = {{"result", e.what()}, {"arguments", json::object()}};
  } catch (const DaemonError& e) {
    answer = {{"result", e.what()}, {"arguments", json::object()}};
  } catch (const std::exception& e) {
    answer = {{"result", std::string("error: ") + e.what()}, {"arguments", json::object()}};
  }
  if (!tag.is_discarded()) answer["tag"] = tag;
  return answer;
}

json tag_of(const json& request) {
  auto tag = request.find("tag");
  return tag == request.end() ? json(json::value_t::discarded) : *tag;
}

json arguments_of(const json& request) {
  auto a = request.find("arguments");
  if (a == request.end() || a->is_null()) return json::object();
  if (!a->is_object()) throw RpcError("invalid argument: \"arguments\" is not an object");
  return *a;
}

}  // namespace

void RpcMethods::handle(const json& request, std::function<void(json)> reply) {
  auto m = request.find("method");
  if (m != request.end() && m->is_string() && *m == "torrent-add") {
    std::optional<PendingAdd> add;
    json refused = answer_of(tag_of(request), [&] {
      add = parse_add(arguments_of(request));
      return add->url.empty() ? add_now(std::move(add->request)) : json();
    });
    if (add && !add->url.empty()) return add_from_url(std::move(*add), tag_of(request), reply);
    return reply(std::move(refused));
  }
  reply(handle(request));
}

json RpcMethods::handle(const json& request) {
  return answer_of(tag_of(request), [&]() -> json {
    auto m = request.find("method");
    if (m == request.end() || !m->is_string()) {
      return {{"result", "no method name"}, {"arguments", json::object()}};
    }
    const json args = arguments_of(request);
    if (m->get<std::string>() == "torrent-add") {
      PendingAdd add = parse_add(args);
      if (!add.url.empty()) throw RpcError("torrent-add of a URL is answered later");
      return add_now(std::move(add.request));
    }
    return dispatch(m->get<std::string>(), args);
  });
}

void RpcMethods::add_from_url(PendingAdd add, json tag, std::function<void(json)> reply) {
  if (fetches_.size() >= kMaxFetches) {
    return reply(answer_of(tag, []() -> json {
      throw RpcError("too many torrent URLs being fetched at once; try again");
    }));
  }
  auto key = next_fetch_++;
  auto done = [this, key, request = std::move(add.request), tag, reply](
                  std::optional<std::string> error, std::string body) mutable {
    auto self = std::move(fetches_[key]);  // lives until this returns
    fetches_.erase(key);
    reply(answer_of(tag, [&] {
      if (error) throw RpcError(*error);
      request.metainfo = std::move(body);
      return add_now(std::move(request));
    }));
  };
  fetches_[key] = TorrentFetch::start(daemon_.node().io(), add.url, options_.fetch_timeout,
                                      options_.fetch_limit, std::move(done));
}

std::vector<DaemonTorrent*> RpcMethods::select(const json& args, IdSelection* out) {
  IdSelection sel = parse_ids(args, daemon_);
  std::vector<DaemonTorrent*> v;
  if (sel.all) {
    for (const auto& t : daemon_.torrents()) v.push_back(t.get());
  } else {
    std::set<int> seen;
    for (int id : sel.ids) {
      if (!seen.insert(id).second) continue;
      if (auto* t = daemon_.find(id)) v.push_back(t);
    }
    std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->id < b->id; });
  }
  if (out) *out = std::move(sel);
  return v;
}

json RpcMethods::dispatch(const std::string& method, const json& args) {
  auto each = [&](auto fn) {
    std::vector<int> ids;
    for (auto* t : select(args)) ids.push_back(t->id);
    for (int id : ids) fn(id);
    return success();
  };
  if (method == "session-get") return session_get(args);
  if (method == "session-set") return session_set(args);
  if (method == "session-stats") return session_stats();
  if (method == "torrent-get") return torrent_get(args);
  if (method == "torrent-set") return torrent_set(args);
  if (method == "torrent-remove") return torrent_remove(args);
  if (method == "torrent-start") return each([&](int id) { daemon_.start(id, false); });
  if (method == "torrent-start-now") return each([&](int id) { daemon_.start(id, true); });
  if (method == "torrent-stop") return each([&](int id) { daemon_.stop(id); });
  if (method == "torrent-verify") return each([&](int id) { daemon_.verify(id); });
  if (method == "torrent-reannounce") return each([&](int id) { daemon_.reannounce(id); });
  if (method == "torrent-set-location") {
    auto location = arg<std::string>(args, "location");
    if (!location || location->empty()) throw RpcError("missing argument \"location\"");
    if (!fs::path(*location).is_absolute()) {
      throw RpcError("invalid argument \"location\": want an absolute path");
    }
    bool move = arg<bool>(args, "move").value_or(false);
    return each([&](int id) { daemon_.set_location(id, *location, move); });
  }
  static const std::unordered_map<std::string, Daemon::QueueMove> kQueue = {
      {"queue-move-top", Daemon::QueueMove::Top},
      {"queue-move-up", Daemon::QueueMove::Up},
      {"queue-move-down", Daemon::QueueMove::Down},
      {"queue-move-bottom", Daemon::QueueMove::Bottom}};
  if (auto q = kQueue.find(method); q != kQueue.end()) {
    std::vector<int> ids;
    for (auto* t : select(args)) ids.push_back(t->id);
    daemon_.queue_move(ids, q->second);
    return success();
  }
  if (method == "free-space") {
    auto path = arg<std::string>(args, "path");
    if (!path) throw RpcError("missing argument \"path\"");
    std::error_code ec;
    auto space = fs::space(*path, ec);
    if (ec) throw RpcError("free-space: " + ec.message());
    return success({{"path", *path},
                    {"size-bytes", static_cast<std::int64_t>(space.available)},
                    {"total_size", static_cast<std::int64_t>(space.capacity)}});
  }
  if (method == "session-close") {
    auto close = options_.on_close;
    Daemon* d = &daemon_;
    // After this answer is on its way.
    boost::asio::post(daemon_.node().io(), [close, d] {
      if (close) return close();
      d->shutdown([d] { d->node().stop(); });
    });
    return success();
  }
  if (method == "port-test") return success({{"port-is-open", false}});
  if (method == "blocklist-update") return success({{"blocklist-size", 0}});
  if (method == "bttnode-earnings") return earnings(args);
  if (method == "bttnode-wallet") return wallet(args);
  if (method == "bttnode-terms") return terms(args);
  throw RpcError("method name not recognized");
}

json RpcMethods::session_get(const json& args) {
  const DaemonConfig& c = daemon_.config();
  const auto& s = daemon_.node().settings().session;
  std::error_code ec;
  auto space = fs::space(c.download_dir, ec);
  json a = {
      {"alt-speed-down", 50},
      {"alt-speed-enabled", false},
      {"alt-speed-time-begin", 540},
      {"alt-speed-time-day", 127},
      {"alt-speed-time-enabled", false},
      {"alt-speed-time-end", 1020},
      {"alt-speed-up", 50},
      {"blocklist-enabled", false},
      {"blocklist-size", 0},
      {"blocklist-url", ""},
      {"cache-size-mb", 4},
      {"config-dir", c.state_dir.string()},
      {"dht-enabled", false},
      {"download-dir", c.download_dir.string()},
      {"download-dir-free-space", ec ? std::int64_t(-1) : std::int64_t(space.available)},
      {"download-queue-enabled", s.max_active_downloads >= 0},
      {"download-queue-size", s.max_active_downloads >= 0 ? s.max_active_downloads : 5},
      {"encryption", "tolerated"},
      {"idle-seeding-limit",
       c.idle_seeding_limit ? std::int64_t(c.idle_seeding_limit->count()) : std::int64_t(30)},
      {"idle-seeding-limit-enabled", c.idle_seeding_limit.has_value()},
      {"incomplete-dir", c.download_dir.string()},
      {"incomplete-dir-enabled", false},
      {"lpd-enabled", s.enable_lsd},
      {"peer-limit-global", s.max_connections},
      {"peer-limit-per-torrent", s.max_connections_per_torrent},
      {"peer-port", int(daemon_.node().listen_port())},
      {"peer-port-random-on-start", false},
      {"pex-enabled", s.enable_pex},
      {"port-forwarding-enabled", c.port_forwarding},
      {"bttnode-port-mapping", daemon_.node().port_mapper()
                                   ? daemon_.node().port_mapper()->status().text()
                                   : std::string("none")},
      {"queue-stalled-enabled", false},
      {"queue-stalled-minutes", 30},
      {"rename-partial-files", false},
      {"rpc-version", kRpcVersion},
      {"rpc-version-minimum", 1},
      {"script-torrent-done-enabled", false},
      {"script-torrent-done-filename", ""},
      {"seed-queue-enabled", s.max_active_seeds >= 0},
      {"seed-queue-size", s.max_active_seeds >= 0 ? s.max_active_seeds : 10},
      {"seedRatioLimit", c.ratio_limit.value_or(2.0)},
      {"seedRatioLimited", c.ratio_limit.has_value()},
      {"session-id", options_.session_id},
      {"speed-limit-down-enabled", s.max_download_rate > 0},
      {"speed-limit-down",
       s.max_download_rate > 0 ? s.max_download_rate / kSpeedUnit : speed_down_kbps_},
      {"speed-limit-up-enabled", s.max_upload_rate > 0},
      {"speed-limit-up", s.max_upload_rate > 0 ? s.max_upload_rate / kSpeedUnit : speed_up_kbps_},
      {"start-added-torrents", true},
      {"trash-original-torrent-files", false},
      {"units",
       {{"memory-bytes", 1024},
        {"memory-units", {"KiB", "MiB", "GiB", "TiB"}},
        {"size-bytes", 1000},
        {"size-units", {"kB", "MB", "GB", "TB"}},
        {"speed-bytes", 1000},
        {"speed-units", {"kB/s", "MB/s", "GB/s", "TB/s"}}}},
      {"utp-enabled", false},
      {"version", "3.00 (bttnode)"},
  };
  auto fields = args.find("fields");
  if (fields != args.end() && fields->is_array() && !fields->empty()) {
    json only = json::object();
    for (const auto& f : *fields) {
      if (f.is_string() && a.contains(f.get<std::string>())) {
        only[f.get<std::string>()] = a[f.get<std::string>()];
      }
    }
    return success(std::move(only));
  }
  return success(std::move(a));
}

json RpcMethods::session_set(const json& args) {
  // Checked first, applied after: a request with one bad value changes nothing.
  auto [up, down, up_on, down_on, ratio, idle] =
      limit_args(args, {"speed-limit-up", "speed-limit-down", "speed-limit-up-enabled",
                        "speed-limit-down-enabled", "idle-seeding-limit", 1});
  auto ratio_on = arg<bool>(args, "seedRatioLimited");
  auto idle_on = arg<bool>(args, "idle-seeding-limit-enabled");
  auto dir = arg<std::string>(args, "download-dir");
  auto peers = arg<std::int64_t>(args, "peer-limit-global");
  auto per_torrent = arg<std::int64_t>(args, "peer-limit-per-torrent");
  auto pex = arg<bool>(args, "pex-enabled");
  if (dir && !fs::path(*dir).is_absolute()) {
    throw RpcError("invalid argument \"download-dir\": want an absolute path");
  }
  const auto& s = daemon_.node().settings().session;
  const DaemonConfig& c = daemon_.config();
  if (up) speed_up_kbps_ = *up;
  if (down) speed_down_kbps_ = *down;
  bool up_enabled = up_on.value_or(s.max_upload_rate > 0);
  bool down_enabled = down_on.value_or(s.max_download_rate > 0);
  if (up || up_on) {
    daemon_.set_setting(
        "max_upload_rate",
        std::to_string(up_enabled ? std::max<std::int64_t>(1, speed_up_kbps_ * kSpeedUnit) : 0));
  }
  if (down || down_on) {
    daemon_.set_setting(
        "max_download_rate",
        std::to_string(down_enabled ? std::max<std::int64_t>(1, speed_down_kbps_ * kSpeedUnit)
                                    : 0));
  }
  if (ratio || ratio_on) {
    bool on = ratio_on.value_or(c.ratio_limit.has_value());
    double value = ratio.value_or(c.ratio_limit.value_or(2.0));
    daemon_.set_setting("ratio_limit", on ? json(value).dump() : "null");
  }
  if (idle || idle_on) {
    bool on = idle_on.value_or(c.idle_seeding_limit.has_value());
    std::int64_t value = idle.value_or(c.idle_seeding_limit ? c.idle_seeding_limit->count() : 30);
    daemon_.set_setting("idle_seeding_limit", on ? std::to_string(value) : "null");
  }
  if (dir) daemon_.set_setting("download_dir", json(*dir).dump());
  if (peers) daemon_.set_setting("max_connections", std::to_string(*peers));
  if (per_torrent) daemon_.set_setting("max_connections_per_torrent", std::to_string(*per_torrent));
  if (pex) daemon_.set_setting("enable_pex", *pex ? "true" : "false");
  return success();
}

json RpcMethods::session_stats() {
  std::int64_t up = 0, down = 0, up_ever = 0, down_ever = 0, up_rate = 0, down_rate = 0;
  int active = 0, paused = 0;
  for (const auto& t : daemon_.torrents()) {
    auto counters = t->torrent().counters();
    up += counters.payload_up;
    down += counters.payload_down;
    up_ever += t->uploaded_before + counters.payload_up;
    down_ever += t->downloaded_before + counters.payload_down;
    up_rate += static_cast<std::int64_t>(t->torrent().upload_rate());
    down_rate += static_cast<std::int64_t>(t->torrent().download_rate());
    if (transmission_status(*t) == 0) {
      ++paused;
    } else {
      ++active;
    }
  }
  auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count();
  json current = {{"uploadedBytes", up},
                  {"downloadedBytes", down},
                  {"filesAdded", 0},
                  {"secondsActive", secs},
                  {"sessionCount", 1}};
  json cumulative = {{"uploadedBytes", up_ever},
                     {"downloadedBytes", down_ever},
                     {"filesAdded", std::int64_t(daemon_.torrents().size())},
                     {"secondsActive", secs},
                     {"sessionCount", 1}};
  return success({{"activeTorrentCount", active},
                  {"pausedTorrentCount", paused},
                  {"torrentCount", std::int64_t(daemon_.torrents().size())},
                  {"downloadSpeed", down_rate},
                  {"uploadSpeed", up_rate},
                  {"current-stats", current},
                  {"cumulative-stats", cumulative}});
}

json RpcMethods::torrent_get(const json& args) {
  auto fields_it = args.find("fields");
  if (fields_it == args.end() || !fields_it->is_array()) {
    throw RpcError("no fields specified");
  }
  std::vector<std::pair<std::string, FieldGetter>> getters;
  for (const auto& f : *fields_it) {
    if (!f.is_string()) throw RpcError("invalid argument \"fields\": want a list of names");
    const auto& name = f.get_ref<const std::string&>();
    if (auto g = field_getter(name)) getters.emplace_back(name, g);  // unknown: left out
  }
  IdSelection sel;
  auto torrents = select(args, &sel);
  FieldContext ctx{daemon_, std::time(nullptr), std::nullopt};
  const bool table = arg<std::string>(args, "format").value_or("objects") == "table";
  json list = json::array();
  if (table) {
    json header = json::array();
    for (const auto& [name, g] : getters) header.push_back(name);
    list.push_back(std::move(header));
  }
  for (auto* t : torrents) {
    if (table) {
      json row = json::array();
      for (const auto& [name, g] : getters) row.push_back(g(*t, ctx));
      list.push_back(std::move(row));
    } else {
      json o = json::object();
      for (const auto& [name, g] : getters) o[name] = g(*t, ctx);
      list.push_back(std::move(o));
    }
  }
  json out = {{"torrents", std::move(list)}};
  if (sel.recently_active) {
    auto now = std::chrono::steady_clock::now();
    while (!removed_.empty() && now - removed_.front().when > std::chrono::seconds(60)) {
      removed_.pop_front();
    }
    json removed = json::array();
    for (const auto& r : removed_) removed.push_back(r.id);
    out["removed"] = std::move(removed);
  }
  return success(std::move(out));
}

RpcMethods::PendingAdd RpcMethods::parse_add(const json& args) {
  PendingAdd add;
  AddRequest& req = add.request;
  auto filename = arg<std::string>(args, "filename");
  auto metainfo = arg<std::string>(args, "metainfo");
  if (metainfo) {
    auto decoded = decode_base64(*metainfo);
    if (!decoded) throw RpcError("invalid or corrupt torrent file: metainfo is not base64");
    req.metainfo = std::move(*decoded);
  } else if (filename) {
    const std::string& f = *filename;
    if (p2p::is_magnet_uri(f)) {
      req.magnet = f;
    } else if (f.starts_with("http://") || f.starts_with("https://")) {
      add.url = f;
    } else {
      req.metainfo = read_bounded(f, options_.fetch_limit);
    }
  } else {
    throw RpcError("no filename or metainfo specified");
  }
  if (auto dir = arg<std::string>(args, "download-dir")) {
    if (!fs::path(*dir).is_absolute()) {
      throw RpcError("invalid argument \"download-dir\": want an absolute path");
    }
    req.download_dir = *dir;
  }
  req.paused = arg<bool>(args, "paused").value_or(false);
  if (args.contains("labels")) req.labels = string_list(args, "labels");
  return add;
}

json RpcMethods::add_now(AddRequest req) {
  auto [t, duplicate] = daemon_.add(std::move(req));
  json who = {{"id", t->id},
              {"name", torrent_name(*t)},
              {"hashString", base::to_hex(t->torrent().info_hash())}};
  return success({{duplicate ? "torrent-duplicate" : "torrent-added", std::move(who)}});
}

json RpcMethods::torrent_set(const json& args) {
  auto torrents = select(args);
  // Every value is checked before any torrent changes.
  auto [up, down, up_on, down_on, ratio, idle] = limit_args(
      args,
      {"uploadLimit", "downloadLimit", "uploadLimited", "downloadLimited", "seedIdleLimit", 0});
  auto honors = arg<bool>(args, "honorsSessionLimits");
  auto ratio_mode = arg<std::int64_t>(args, "seedRatioMode");
  auto idle_mode = arg<std::int64_t>(args, "seedIdleMode");
  auto priority = arg<std::int64_t>(args, "bandwidthPriority");
  std::optional<std::vector<std::string>> labels;
  if (args.contains("labels")) labels = string_list(args, "labels");
  if (priority && (*priority < -1 || *priority > 1)) {
    throw RpcError("invalid argument \"bandwidthPriority\": -1, 0 or 1");
  }
  std::optional<LimitMode> rmode, imode;
  if (ratio_mode) rmode = parse_mode(*ratio_mode, "seedRatioMode");
  if (idle_mode) imode = parse_mode(*idle_mode, "seedIdleMode");
  // Each torrent's own payment terms with these arguments, checked against its tokens and
  // pieces.
  std::map<int, PayOverrides> pays;
  if (has_override_args(args)) {
    for (auto* t : torrents) {
      try {
        pays[t->id] = apply_override_args(t->pay, args);
      } catch (const std::invalid_argument& e) {
        throw RpcError(e.what());
      }
      daemon_.check_pay_overrides(t->id, pays[t->id]);
    }
  }
  for (auto* t : torrents) {
    TorrentOptions o = t->options;
    if (up) o.upload_limit = *up * kSpeedUnit;
    if (down) o.download_limit = *down * kSpeedUnit;
    if (up_on) o.upload_limited = *up_on;
    if (down_on) o.download_limited = *down_on;
    if (honors) o.honors_session_limits = *honors;
    if (ratio) o.ratio_limit = *ratio;
    if (rmode) o.ratio_mode = *rmode;
    if (idle) o.idle_limit = std::chrono::minutes(*idle);
    if (imode) o.idle_mode = *imode;
    if (priority) o.bandwidth_priority = static_cast<int>(*priority);
    if (labels) o.labels = *labels;
    daemon_.set_options(t->id, o);
    if (auto p = pays.find(t->id); p != pays.end()) daemon_.set_pay_overrides(t->id, p->second);
  }
  return success();
}

json RpcMethods::torrent_remove(const json& args) {
  bool delete_data = arg<bool>(args, "delete-local-data").value_or(false);
  std::vector<int> ids;
  for (auto* t : select(args)) ids.push_back(t->id);
  for (int id : ids) {
    daemon_.remove(id, delete_data);
    removed_.push_back({id, std::chrono::steady_clock::now()});
    if (removed_.size() > 10'000) removed_.pop_front();
  }
  return success();
}

json RpcMethods::earnings(const json& args) {
  return earnings_report(daemon_, args);
}

json RpcMethods::wallet(const json&) {
  return wallet_report(daemon_);
}

json RpcMethods::terms(const json& args) {
  json list = json::array();
  for (auto* t : select(args)) list.push_back(terms_of(*t));
  return success({{"torrents", std::move(list)}});
}

}  // namespace bttnode::daemon
