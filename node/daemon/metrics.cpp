#include "node/daemon/metrics.hpp"

#include <set>
#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "base/hex.hpp"
#include "node/daemon/daemon.hpp"

namespace bttnode::daemon {

namespace {

// Label values in Prometheus style: "too many peers" -> "too_many_peers".
std::string label_of(std::string text) {
  for (auto& c : text) {
    if (c == ' ') c = '_';
  }
  return text;
}

std::string state_name(p2p::TorrentState s) {
  return label_of(p2p::to_string(s));
}

double as_double(const pay::U256& v) {
  return v.convert_to<double>();
}

}  // namespace

const std::vector<std::string>& metric_state_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int s = 0; s <= int(p2p::TorrentState::Error); ++s) {
      v.push_back(state_name(p2p::TorrentState(s)));
    }
    return v;
  }();
  return names;
}

MetricsSnapshot collect_metrics(Daemon& daemon, std::size_t max_torrents) {
  return collect_metrics(daemon.node(), daemon.torrents(), max_torrents);
}

MetricsSnapshot collect_metrics(Node& node,
                                const std::vector<std::unique_ptr<DaemonTorrent>>& torrents,
                                std::size_t max_torrents) {
  MetricsSnapshot m;
  const auto& counters = node.session().counters();
  m.uploaded = counters.bytes_up;
  m.downloaded = counters.bytes_down;
  m.hash_failures = counters.hash_failures;
  m.bans = counters.bans;
  for (std::size_t r = 0; r < p2p::kNumCloseReasons; ++r) {
    m.closed[label_of(p2p::to_string(p2p::CloseReason(r)))] = counters.connections_closed[r];
  }
  for (const auto& name : metric_state_names()) m.states[name] = 0;

  // A seller or buyer service may serve many torrents: each is counted once.
  std::set<const pay::SellerService*> sellers;
  std::set<const pay::BuyerService*> buyers;
  for (const auto& dt : torrents) {
    if (!dt->entry || !dt->entry->torrent) continue;
    const auto& t = *dt->entry->torrent;
    ++m.states[state_name(t.state())];
    m.peers += t.num_peers();
    if (m.torrents.size() < max_torrents) {
      const auto c = t.counters();
      m.torrents.push_back({base::to_hex(t.info_hash()), t.name(),
                            std::uint64_t(dt->uploaded_before + c.payload_up),
                            std::uint64_t(dt->downloaded_before + c.payload_down)});
    }
    if (const auto* s = dt->entry->seller.get()) sellers.insert(s);
    if (const auto* b = dt->entry->buyer.get()) buyers.insert(b);
  }
  for (const auto* s : sellers) {
    m.earned[s->settings().token.to_string()] += as_double(s->earned());
    m.settlements_received += std::uint64_t(s->payments());
    m.payers += std::size_t(s->bound_payers());
  }
  for (const auto* b : buyers) {
    m.spent[b->settings().token.to_string()] += as_double(b->paid());
    m.settlements_sent += std::uint64_t(b->payments());
  }
  return m;
}

std::string render_metrics(const MetricsSnapshot& m) {
  using namespace prometheus;
  Registry registry;
  auto counter = [&](const std::string& name, const std::string& help) -> Family<Counter>& {
    return BuildCounter().Name(name).Help(help).Register(registry);
  };
  auto gauge = [&](const std::string& name, const std::string& help) -> Family<Gauge>& {
    return BuildGauge().Name(name).Help(help).Register(registry);
  };

  auto& up = counter("bttnode_uploaded_bytes_total",
                     "Payload bytes uploaded: the session's this run (no labels), a torrent's "
                     "over every run (info_hash, name)");
  auto& down = counter("bttnode_downloaded_bytes_total",
                       "Payload bytes downloaded: the session's this run (no labels), a "
                       "torrent's over every run (info_hash, name)");
  up.Add({}).Increment(double(m.uploaded));
  down.Add({}).Increment(double(m.downloaded));
  for (const auto& t : m.torrents) {
    up.Add({{"info_hash", t.info_hash}, {"name", t.name}}).Increment(double(t.uploaded));
    down.Add({{"info_hash", t.info_hash}, {"name", t.name}}).Increment(double(t.downloaded));
  }

  auto& states = gauge("bttnode_torrents", "Torrents by state");
  for (const auto& [state, n] : m.states) states.Add({{"state", state}}).Set(double(n));
  gauge("bttnode_peers", "Connected peers, every torrent").Add({}).Set(double(m.peers));
  gauge("bttnode_payers", "Connected peers bound to a paying address")
      .Add({})
      .Set(double(m.payers));

  auto& earned = counter("bttnode_earned_total",
                         "Payments credited to us this run, in base units of the token");
  for (const auto& [token, v] : m.earned) earned.Add({{"token", token}}).Increment(v);
  auto& spent =
      counter("bttnode_spent_total", "Payments we made this run, in base units of the token");
  for (const auto& [token, v] : m.spent) spent.Add({{"token", token}}).Increment(v);

  auto& settlements =
      counter("bttnode_settlements_total",
              "Settlements this run: credited to us (seller) or paid by us (buyer)");
  settlements.Add({{"role", "seller"}}).Increment(double(m.settlements_received));
  settlements.Add({{"role", "buyer"}}).Increment(double(m.settlements_sent));
  counter("bttnode_hash_failures_total", "Pieces that failed their hash check")
      .Add({})
      .Increment(double(m.hash_failures));
  counter("bttnode_bans_total", "Peers banned").Add({}).Increment(double(m.bans));
  auto& closed = counter("bttnode_connections_closed_total", "Peer connections closed, by reason");
  for (const auto& [reason, n] : m.closed) closed.Add({{"reason", reason}}).Increment(double(n));

  std::ostringstream out;
  TextSerializer().Serialize(out, registry.Collect());
  return out.str();
}

Route metrics_route(Daemon& daemon, std::size_t max_torrents) {
  return [&daemon,
          max_torrents](const base::http::Request& req) -> std::optional<base::http::Response> {
    namespace http = boost::beast::http;
    if (req.target() != "/metrics" && !req.target().starts_with("/metrics?")) return std::nullopt;
    base::http::Response res;
    if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      return res;
    }
    res.result(http::status::ok);
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.body() = render_metrics(collect_metrics(daemon, max_torrents));
    return res;
  };
}

}  // namespace bttnode::daemon
