#include "node/cli/torrent_cli_common.hpp"

#include <cstdio>
#include <type_traits>
#include <variant>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "node/cli/args.hpp"
#include "p2p/session/session.hpp"
#include "p2p/storage/resume_data.hpp"
#include "p2p/torrent/torrent.hpp"

namespace bttnode {

NodeSettings node_settings_from(const Args& args) {
  const auto& table = node_settings_table();
  NodeSettings settings;
  if (auto path = args.get("config")) {
    std::ifstream in(*path);
    if (!in) throw UsageError("--config: cannot read " + *path);
    std::stringstream text;
    text << in.rdbuf();
    auto doc = nlohmann::json::parse(text.str(), nullptr, false);
    if (doc.is_discarded()) throw UsageError("--config " + *path + ": not valid JSON");
    try {
      table.load(settings, doc);
    } catch (const base::SettingsError& e) {
      throw UsageError("--config " + *path + ": " + e.what());
    }
    // A first credit set in the config is the user's, as --credit is.
    if (doc.contains("credit")) settings.sell.credit_explicit = true;
  }
  for (const auto& e : table.entries()) {
    if (auto v = args.get(e.info.name)) {
      try {
        table.set(settings, e.info.name, *v);
      } catch (const base::SettingsError& err) {
        throw UsageError(std::string("--") + err.what());
      }
    }
  }
  if (args.has("no-utp")) settings.session.enable_utp = false;
  if (args.has("no-dht")) settings.session.enable_dht = false;
  if (args.has("no-lsd")) settings.session.enable_lsd = false;
  if (auto nodes = args.all("dht-bootstrap"); !nodes.empty()) {
    std::string joined;
    for (const auto& n : nodes) joined += (joined.empty() ? "" : ",") + n;
    settings.session.dht_bootstrap = joined;
  }
  // Beside the resume data; one file per fixed port, so a seeder and a downloader running
  // side by side keep node ids of their own.
  const auto port = settings.session.listen_port;
  settings.session.dht_state_file =
      p2p::default_state_dir() /
      (port ? "dht-" + std::to_string(port) + ".dat" : std::string("dht.dat"));
  return settings;
}

std::uint16_t parse_port(const std::string& text) {
  std::size_t used = 0;
  int v = -1;
  try {
    v = std::stoi(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || v < 0 || v > 65535) throw UsageError("bad port '" + text + "'");
  return std::uint16_t(v);
}

std::vector<boost::asio::ip::tcp::endpoint> resolve_peer(boost::asio::io_context& io,
                                                         const std::string& text) {
  std::string host, port;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw UsageError("bad peer address '" + text + "' (want [V6]:PORT)");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      throw UsageError("bad peer address '" + text + "' (want HOST:PORT)");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  parse_port(port);
  boost::asio::ip::tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto results = resolver.resolve(host, port, ec);
  if (ec) throw UsageError("cannot resolve peer '" + text + "': " + ec.message());
  std::vector<boost::asio::ip::tcp::endpoint> out;
  for (const auto& r : results) out.push_back(r.endpoint());
  return out;
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", b, units[u]);
  return buf;
}

p2p::EventBus::Subscription watch_torrent(p2p::Session& session, const p2p::InfoHash& ih,
                                          TorrentWatch w) {
  return session.events().subscribe([ih, w = std::move(w)](const p2p::Event& e) {
    std::visit(
        [&](const auto& ev) {
          using E = std::decay_t<decltype(ev)>;
          if (ev.info_hash != ih) return;
          if constexpr (std::is_same_v<E, p2p::event::TorrentFinished>) {
            if (w.on_complete) w.on_complete();
          } else if constexpr (std::is_same_v<E, p2p::event::TorrentError>) {
            if (w.on_error) w.on_error(ev.message);
          } else if constexpr (std::is_same_v<E, p2p::event::PeerBanned>) {
            if (w.on_ban) w.on_ban(ev.peer, ev.reason);
          } else if constexpr (std::is_same_v<E, p2p::event::MetadataReceived>) {
            if (w.on_metadata) w.on_metadata();
          } else if constexpr (std::is_same_v<E, p2p::event::TorrentStateChanged>) {
            bool running =
                ev.to == p2p::TorrentState::Downloading || ev.to == p2p::TorrentState::Seeding;
            if (ev.from == p2p::TorrentState::Checking && running && w.on_checked) w.on_checked();
          }
        },
        e);
  });
}

std::string status_line(const p2p::Torrent& t, bool bar) {
  char buf[256];
  if (t.state() == p2p::TorrentState::Checking) {
    std::snprintf(buf, sizeof buf, "checking %d/%d pieces", t.checked_pieces(), t.num_pieces());
    return buf;
  }
  if (!t.has_metadata()) {
    std::snprintf(buf, sizeof buf, "fetching metadata, %zu peers", t.num_peers());
    return buf;
  }
  double frac = t.num_pieces() ? double(t.num_have()) / t.num_pieces() : 1.0;
  std::string out;
  if (bar) {
    int width = 30;
    int fill = int(frac * width);
    out = "[" + std::string(std::size_t(fill), '#') + std::string(std::size_t(width - fill), ' ') +
          "] ";
  }
  std::snprintf(buf, sizeof buf, "%5.1f%% %s/%s down %s/s up %s/s peers %zu", frac * 100,
                human_bytes(double(t.bytes_done())).c_str(),
                human_bytes(double(t.total_size())).c_str(), human_bytes(t.download_rate()).c_str(),
                human_bytes(t.upload_rate()).c_str(), t.num_peers());
  return out + buf;
}

}  // namespace bttnode
