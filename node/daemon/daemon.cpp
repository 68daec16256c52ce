// The daemon over the node runtime. The state folder's layout is in state_store.hpp. Every
// change a user makes is written at once; the totals (uploaded, downloaded, seconds) on the
// state timer and at shutdown; the engine writes the resume data itself (on pause, stop and
// as pieces verify), and a missing or stale resume file means a recheck, which finds every
// piece on disk: a kill -9 loses no verified piece.
#include "node/daemon/daemon.hpp"

#include <algorithm>
#include <atomic>
#include <ctime>
#include <iostream>
#include <set>
#include <tuple>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "base/hex.hpp"
#include "node/cli/args.hpp"
#include "node/cli/network_options.hpp"
#include "node/cli/password.hpp"
#include "node/cli/torrent_cli_common.hpp"
#include "node/daemon/limits.hpp"
#include "node/daemon/state_store.hpp"
#include "node/daemon/watch_folder.hpp"
#include "node/pay/daily_budget.hpp"
#include "node/pay/options.hpp"
#include "p2p/metainfo/magnet.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "tron/amount.hpp"
#include "wallet/keystore.hpp"
#include "wallet/ledger.hpp"

namespace bttnode::daemon {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::int64_t DaemonTorrent::uploaded_ever() const {
  return uploaded_before + (entry && entry->torrent ? entry->torrent->counters().payload_up : 0);
}

std::int64_t DaemonTorrent::downloaded_ever() const {
  return downloaded_before +
         (entry && entry->torrent ? entry->torrent->counters().payload_down : 0);
}

namespace {

std::int64_t unix_now() {
  return std::int64_t(std::time(nullptr));
}

std::string hex_of(const p2p::InfoHash& ih) {
  return base::to_hex(ih);
}

void say(const std::string& line) {
  std::cout << line << std::endl;
}

// The daemon's own keys that set_setting takes (besides the node's settings table).
const std::set<std::string>& daemon_setting_keys() {
  static const std::set<std::string> k = {"ratio_limit", "idle_seeding_limit", "limit_action",
                                          "download_dir"};
  return k;
}

[[noreturn]] void refuse_arg(const char* name, const std::string& why) {
  throw DaemonError(std::string("invalid argument \"") + name + "\": " + why);
}

}  // namespace

struct Daemon::Impl {
  Daemon& d;
  StatePaths paths;
  int next_id = 1;
  p2p::EventBus::Subscription events;
  boost::asio::steady_timer tick_timer, state_timer;
  std::unique_ptr<WatchFolder> watch;
  std::shared_ptr<pay::SellerService> seller;  // every torrent's, when selling
  std::optional<PayWallet> buy_wallet;
  std::optional<BuyOptions> buy_options;
  std::optional<tron::PrivateKey> buy_key;
  std::shared_ptr<pay::DailyBudget> daily;  // every buying torrent's, for the UTC day
  // What names amounts in the selling token (a torrent's own price).
  std::optional<tron::Network> sell_network;
  tron::DecimalsLookup sell_decimals;
  json runtime_settings = json::object();
  struct Live {
    std::int64_t last_bytes = -1;
    Clock::time_point seeding_since{};
    Clock::time_point last_change{};
    // Digests of the record as last written, and of the same without its seconds: the
    // records themselves, kept for every torrent, cost more than a KiB each.
    std::size_t written = 0;
    std::size_t written_key = 0;
    std::string hex;
  };
  std::map<int, Live> live;
  // Torrents running in the node, by info-hash: events name torrents this way, many a second.
  std::map<p2p::InfoHash, DaemonTorrent*> by_hash;
  bool shutting_down = false;

  explicit Impl(Daemon& daemon)
      : d(daemon), tick_timer(daemon.node_.io()), state_timer(daemon.node_.io()) {}

  void write_daemon_file() {
    write_file_atomic(paths.daemon_file(), json{{"next_id", next_id}}.dump(2) + "\n",
                      kStateFilePerms, Sync::Later);
    sync_soon();
  }

  // Seeding and downloading seconds grow every second for every active torrent: the state
  // timer does not rewrite thousands of records for them alone (they are written with any
  // other change, and at shutdown), so a kill -9 loses at most the seconds since then.
  enum class Write { IfChanged, IfMoreThanSecondsChanged, Always };
  static std::size_t digest(const std::string& text) { return std::hash<std::string>{}(text); }
  void write_record(DaemonTorrent& t, Write when = Write::IfChanged) {
    Live& l = live[t.id];
    json j = record_to_json(t, l.hex);
    std::string text = j.dump(2) + "\n";
    const std::size_t text_digest = digest(text);
    if (when != Write::Always && text_digest == l.written) return;
    j.erase("seconds_seeding");
    j.erase("seconds_downloading");
    const std::size_t key_digest = digest(j.dump());
    if (when == Write::IfMoreThanSecondsChanged && key_digest == l.written_key) return;
    write_file_atomic(paths.record(l.hex), text, kStateFilePerms, Sync::Later);
    l.written = text_digest;
    l.written_key = key_digest;
    sync_soon();
  }

  // State files are written at once without a sync each (a thousand torrents would take a
  // thousand syncs per save); one sync of the state folder on the disk thread follows.
  std::shared_ptr<std::atomic<bool>> sync_pending = std::make_shared<std::atomic<bool>>(false);
  void sync_soon() {
    if (sync_pending->exchange(true)) return;
    d.node_.session().disk_pool().post([root = paths.root, pending = sync_pending] {
      pending->store(false);
      sync_state_folder(root);
    });
  }

  void setup_payments() {
    const DaemonConfig& c = d.config_;
    auto wallet_words = [](const auto& p) {
      std::vector<std::string> w = {"--keystore", p.keystore.string()};
      if (!p.node.empty()) {
        w.insert(w.end(), {"--node", p.node});
      }
      if (!p.network.empty()) w.insert(w.end(), {"--network", p.network});
      if (!p.token.empty()) w.insert(w.end(), {"--token", p.token});
      return w;
    };
    auto password_args = [](const fs::path& file) {
      return file.empty() ? Args() : Args::from_words({"--password-file", file.string()});
    };
    try {
      if (c.sell.enabled) {
        auto w = wallet_words(c.sell);
        if (!c.sell.price.empty()) w.insert(w.end(), {"--price", c.sell.price});
        if (!c.sell.credit.empty()) w.insert(w.end(), {"--credit", c.sell.credit});
        Args args = Args::from_words(w);
        auto wallet = parse_pay_wallet(args, d.node_.settings());
        pay::SellerSettings sell = parse_sell_options(args, &*wallet, d.node_.settings().sell);
        if (auto password = given_password(password_args(c.sell.password_file))) {
          sell.addr = wallet::verified_keystore_address(wallet->keystore, *password);
        } else {
          sell.addr = wallet::keystore_address(wallet->keystore);
          say("warning: payout address " + sell.addr.to_base58() +
              " is not verified (no sell.password_file)");
        }
        seller = d.node_.make_seller(SellTerms{sell, wallet->node, wallet->ledger});
        sell_network = wallet->network;
        sell_decimals = node_decimals_lookup(wallet->node);
        say("selling at " + sell.price.str() + " " + sell.token.to_string() + " per MiB to " +
            sell.addr.to_base58());
      }
      if (c.buy.enabled) {
        auto w = wallet_words(c.buy);
        if (!c.buy.max_price.empty()) w.insert(w.end(), {"--max-price", c.buy.max_price});
        if (!c.buy.budget_per_torrent.empty()) {
          w.insert(w.end(), {"--budget", c.buy.budget_per_torrent});
        }
        Args args = Args::from_words(w);
        buy_wallet = parse_pay_wallet(args, d.node_.settings());
        buy_options = parse_buy_options(args, &*buy_wallet, d.node_.settings().buy);
        buy_key = open_pay_key(password_args(c.buy.password_file), *buy_wallet);
        daily = open_daily_budget(c.buy, buy_options->settings.token);
      }
    } catch (const std::exception& e) {
      throw DaemonError(std::string("payments: ") + e.what());
    }
  }

  // What the buying wallet's ledger paid since UTC midnight counts against the day.
  std::shared_ptr<pay::DailyBudget> open_daily_budget(const BuyConfig& b,
                                                      const tron::Token& token) {
    pay::U256 per_day = 0;
    if (!b.budget_per_day.empty()) {
      try {
        per_day = tron::parse_token_amount(b.budget_per_day, token, buy_wallet->network,
                                           node_decimals_lookup(buy_wallet->node));
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(std::string("buy.budget_per_day: ") + e.what());
      }
    }
    wallet::Ledger ledger(buy_wallet->ledger);
    auto daily = std::make_shared<pay::DailyBudget>(token, per_day, ledger);
    if (daily->limited()) {
      say("daily budget " + per_day.str() + " of " + token.to_string() + ": " +
          daily->spent_today().str() + " spent today (UTC), " + daily->left_today().str() +
          " left");
    }
    return daily;
  }

  // A torrent's own terms in base units, checked; DaemonError naming the argument otherwise.
  struct ResolvedPay {
    pay::SellerService::TorrentTerms sell;
    std::optional<pay::U256> max_price;
    std::optional<std::optional<pay::U256>> budget;  // set: the torrent's own (inner: none)
  };
  ResolvedPay resolve_pay(const PayOverrides& p, std::int64_t piece_length,
                          const std::string& hex) const {
    ResolvedPay r;
    auto amount = [&](const char* name, const std::string& text, const tron::Token& token,
                      const tron::Network& network, const tron::DecimalsLookup& lookup) {
      try {
        return tron::parse_token_amount(text, token, network, lookup);
      } catch (const std::exception& e) {
        refuse_arg(name, e.what());
      }
    };
    if (p.sell || p.price) {
      if (!seller)
        refuse_arg(p.sell ? kSellArg : kPriceArg, "this daemon does not sell (sell.enabled)");
      r.sell.sell = p.sell.value_or(true);
    }
    if (p.price) {
      r.sell.price =
          amount(kPriceArg, *p.price, seller->settings().token, *sell_network, sell_decimals);
      if (*r.sell.price == 0) {
        refuse_arg(kPriceArg, "a price of 0 sells nothing; give bttnodeSell false to seed it free");
      }
      if (piece_length > 0) {
        if (auto why = seller->check_terms(piece_length, hex, r.sell.price)) {
          refuse_arg(kPriceArg, "these terms cannot work: " + *why);
        }
      }
    }
    if (p.max_price || p.budget) {
      if (!buy_options) {
        refuse_arg(p.max_price ? kMaxPriceArg : kBudgetArg,
                   "this daemon does not buy (buy.enabled)");
      }
    }
    const tron::Token* buy_token = buy_options ? &buy_options->settings.token : nullptr;
    if (p.max_price) {
      r.max_price = amount(kMaxPriceArg, *p.max_price, *buy_token, buy_wallet->network,
                           node_decimals_lookup(buy_wallet->node));
    }
    if (p.budget) {
      auto b = amount(kBudgetArg, *p.budget, *buy_token, buy_wallet->network,
                      node_decimals_lookup(buy_wallet->node));
      r.budget = b == 0 ? std::optional<pay::U256>() : std::optional<pay::U256>(b);  // 0: none
    }
    return r;
  }

  static std::int64_t piece_length_of(const DaemonTorrent& t) {
    const p2p::Metainfo* m = t.entry && t.entry->torrent ? t.entry->torrent->metainfo() : nullptr;
    return m ? m->piece_length : 0;
  }

  // Gives the torrent's own terms to its running payment services.
  void apply_pay(DaemonTorrent& t, const ResolvedPay& r) {
    if (!t.entry) return;
    if (t.entry->seller) t.entry->seller->set_torrent_terms(live[t.id].hex, r.sell);
    if (auto* b = t.entry->buyer.get()) {
      b->set_max_price(r.max_price.value_or(buy_options->settings.max_price));
      b->set_budget(r.budget.value_or(buy_options->budget));
    }
  }

  // The record's terms, or the session's for any that no longer fit (another token).
  ResolvedPay saved_pay(const DaemonTorrent& t, std::int64_t piece_length) {
    try {
      return resolve_pay(t.pay, piece_length, live[t.id].hex);
    } catch (const std::exception& e) {
      say("torrent " + std::to_string(t.id) + ": its own payment terms are not used: " + e.what());
      return {};
    }
  }

  // Starts t in the node: its metainfo (or magnet), folder, resume file, payment services.
  void start_in_node(DaemonTorrent& t, std::optional<p2p::Metainfo> meta) {
    TorrentRequest req;
    p2p::AddTorrentParams& params = req.params;
    if (meta) {
      params.metainfo = std::move(meta);
    } else {
      auto link = p2p::parse_magnet(t.magnet);
      params.info_hash = link.info_hash;
      params.name = link.display_name;
      for (auto& tr : link.trackers) params.trackers.push_back({tr});
      for (auto& pe : link.peers) {
        try {
          for (auto& ep : resolve_peer(d.node_.io(), pe)) params.peers.push_back(ep);
        } catch (const std::exception&) {
          // A bad x.pe in a link is skipped.
        }
      }
    }
    params.save_path = t.download_dir;
    params.resume_file = paths.resume_file(live[t.id].hex);
    const ResolvedPay own = saved_pay(t, params.metainfo ? params.metainfo->piece_length : 0);
    req.seller = seller;
    if (seller) seller->set_torrent_terms(live[t.id].hex, own.sell);
    if (buy_options) {
      req.buy = BuyTerms{buy_options->settings,
                         own.budget.value_or(buy_options->budget),
                         *buy_key,
                         buy_wallet->node,
                         buy_wallet->ledger,
                         daily};
      if (own.max_price) req.buy->settings.max_price = *own.max_price;
    }
    t.entry = &d.node_.add_torrent(std::move(req));
    by_hash[t.entry->torrent->info_hash()] = &t;
    if (t.paused) {
      t.entry->torrent->pause();
    } else {
      t.start_date = unix_now();
    }
    apply_rate_limits(t);
  }

  // The torrent's own limits, its bandwidth priority under the session's, and whether the
  // session's hold it at all.
  void apply_rate_limits(DaemonTorrent& t) {
    if (!t.entry) return;
    p2p::Torrent& tor = *t.entry->torrent;
    tor.set_rate_limits(t.options.upload_limited ? t.options.upload_limit : 0,
                        t.options.download_limited ? t.options.download_limit : 0);
    tor.set_bandwidth_priority(t.options.bandwidth_priority);
    tor.set_honors_session_limits(t.options.honors_session_limits);
  }

  // Takes t out of the node (its counters folded into the totals), keeping the record.
  void stop_in_node(DaemonTorrent& t, bool delete_files) {
    if (!t.entry) return;
    const auto c = t.entry->torrent->counters();
    t.uploaded_before += c.payload_up;
    t.downloaded_before += c.payload_down;
    t.corrupt_before += c.failed_down;
    const auto ih = t.entry->torrent->info_hash();
    t.entry = nullptr;
    by_hash.erase(ih);
    d.node_.remove_torrent(ih, delete_files);
  }

  std::optional<p2p::Metainfo> saved_metainfo(const std::string& hex) {
    auto data = read_file(paths.metainfo(hex), 64u << 20);
    if (!data) return std::nullopt;
    return p2p::parse_metainfo(*data);
  }

  void load_state() {
    if (auto text = read_file(paths.daemon_file(), 1 << 20)) {
      auto j = json::parse(*text, nullptr, false);
      if (j.is_object() && j.value("next_id", 0) > 0) next_id = j["next_id"].get<int>();
    }
    if (auto text = read_file(paths.settings_file(), 1 << 20)) {
      auto j = json::parse(*text, nullptr, false);
      if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
          if (!it.value().is_string()) continue;
          try {
            apply_setting(it.key(), it.value().get<std::string>());
            runtime_settings[it.key()] = it.value();
          } catch (const std::exception& e) {
            say("settings.json: " + it.key() + ": " + e.what() + " (ignored)");
          }
        }
      }
    }
    std::vector<std::unique_ptr<DaemonTorrent>> loaded;
    std::error_code ec;
    for (auto it = fs::directory_iterator(paths.torrents(), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->path().extension() != ".json") continue;
      auto text = read_file(it->path(), 1 << 20);
      if (!text) continue;
      auto j = json::parse(*text, nullptr, false);
      auto t = std::make_unique<DaemonTorrent>();
      try {
        std::string hex = record_from_json(j, *t);
        if (it->path().stem() != hex) throw DaemonError("record names another torrent");
        live[t->id].hex = hex;
        live[t->id].written = digest(*text);
        j.erase("seconds_seeding");
        j.erase("seconds_downloading");
        live[t->id].written_key = digest(j.dump());
        loaded.push_back(std::move(t));
      } catch (const std::exception& e) {
        say("state: " + it->path().filename().string() + ": " + e.what() + " (skipped)");
      }
    }
    // The queue order as it was, then ids.
    std::sort(loaded.begin(), loaded.end(), [](const auto& a, const auto& b) {
      return std::tie(a->queue_position, a->id) < std::tie(b->queue_position, b->id);
    });
    for (auto& t : loaded) {
      next_id = std::max(next_id, t->id + 1);
      const std::string hex = live[t->id].hex;
      try {
        auto meta = saved_metainfo(hex);
        if (!meta && t->magnet.empty()) throw DaemonError("no metainfo and no magnet link");
        start_in_node(*t, std::move(meta));
      } catch (const std::exception& e) {
        say("state: torrent " + std::to_string(t->id) + " (" + hex + "): " + e.what() +
            " (skipped)");
        live.erase(t->id);
        continue;
      }
      d.torrents_.push_back(std::move(t));
    }
    std::sort(d.torrents_.begin(), d.torrents_.end(),
              [](const auto& a, const auto& b) { return a->id < b->id; });
    renumber_queue();
    write_daemon_file();
  }

  // The session starts queued torrents in its own order: it follows queue_position.
  void sync_queue() {
    std::vector<DaemonTorrent*> q;
    for (auto& t : d.torrents_) q.push_back(t.get());
    std::sort(q.begin(), q.end(),
              [](auto* a, auto* b) { return a->queue_position < b->queue_position; });
    std::vector<const p2p::Torrent*> order;
    order.reserve(q.size());
    for (auto* t : q) order.push_back(&t->torrent());
    d.node_.session().reorder_queue(order);
  }

  void renumber_queue() {
    std::vector<DaemonTorrent*> q;
    for (auto& t : d.torrents_) q.push_back(t.get());
    std::stable_sort(q.begin(), q.end(), [](auto* a, auto* b) {
      return std::tie(a->queue_position, a->id) < std::tie(b->queue_position, b->id);
    });
    for (std::size_t i = 0; i < q.size(); ++i) q[i]->queue_position = int(i);
  }

  void apply_setting(const std::string& key, const std::string& value) {
    DaemonConfig& c = d.config_;
    if (daemon_setting_keys().count(key)) {
      json v = json::parse(value, nullptr, false);
      if (v.is_discarded()) v = value;  // a bare word: "stop"
      json j = {{key, v}};
      try {
        DaemonConfig parsed = parse_config(j);
        if (key == "ratio_limit") c.ratio_limit = parsed.ratio_limit;
        if (key == "idle_seeding_limit") c.idle_seeding_limit = parsed.idle_seeding_limit;
        if (key == "limit_action") c.limit_action = parsed.limit_action;
        if (key == "download_dir") c.download_dir = parsed.download_dir;
      } catch (const ConfigError& e) {
        throw DaemonError(e.what());
      }
      return;
    }
    try {
      d.node_.set(key, value);
      node_settings_table().set(c.node, key, value, true);
    } catch (const base::SettingsError& e) {
      throw DaemonError(e.what());
    }
  }

  void on_event(const p2p::Event& e) {
    std::visit(
        [&](const auto& ev) {
          using E = std::decay_t<decltype(ev)>;
          DaemonTorrent* t = d.find(ev.info_hash);
          if (!t) return;
          live[t->id].last_change = Clock::now();
          if constexpr (std::is_same_v<E, p2p::event::MetadataReceived>) {
            save_magnet_metainfo(*t);
          } else if constexpr (std::is_same_v<E, p2p::event::TorrentFinished>) {
            if (t->done_date == 0) t->done_date = unix_now();
            say("torrent " + std::to_string(t->id) + " complete: " + t->torrent().name());
            write_record(*t);
          } else if constexpr (std::is_same_v<E, p2p::event::TorrentStateChanged>) {
            if (ev.to == p2p::TorrentState::Seeding) live[t->id].seeding_since = Clock::now();
          } else if constexpr (std::is_same_v<E, p2p::event::TorrentError>) {
            say("torrent " + std::to_string(t->id) + " error: " + ev.message);
          }
        },
        e);
  }

  void save_magnet_metainfo(DaemonTorrent& t) {
    const p2p::Metainfo* m = t.torrent().metainfo();
    if (!m || t.magnet.empty()) return;
    p2p::Metainfo copy = *m;
    try {
      auto link = p2p::parse_magnet(t.magnet);
      for (auto& tr : link.trackers) copy.trackers.push_back({tr});
    } catch (const std::exception&) {
    }
    try {
      write_file_atomic(paths.metainfo(live[t.id].hex), p2p::encode_metainfo(copy));
      t.magnet.clear();
      write_record(t);
      say("torrent " + std::to_string(t.id) + " metadata received: " + copy.name);
    } catch (const std::exception& e) {
      say("torrent " + std::to_string(t.id) + ": cannot save its metainfo: " + e.what());
    }
  }

  // Ratio and idle limits, activity and seconds; every second.
  void tick() {
    const auto now = Clock::now();
    std::vector<std::pair<int, std::string>> reached;
    for (auto& tp : d.torrents_) {
      DaemonTorrent& t = *tp;
      if (!t.entry) continue;
      Live& l = live[t.id];
      const p2p::Torrent& p = t.torrent();
      const auto c = p.counters();
      const std::int64_t bytes = c.payload_up + c.payload_down;
      if (l.last_bytes >= 0 && bytes != l.last_bytes) {
        t.activity_date = unix_now();
        l.last_change = now;
      }
      l.last_bytes = bytes;
      const auto state = p.state();
      if (state == p2p::TorrentState::Seeding) {
        ++t.seconds_seeding_before;
        if (l.seeding_since == Clock::time_point{}) l.seeding_since = now;
      } else if (state == p2p::TorrentState::Downloading ||
                 state == p2p::TorrentState::FetchingMetadata) {
        ++t.seconds_downloading_before;
      }
      if (state != p2p::TorrentState::Seeding || t.paused) continue;
      // Idle since the last payload moved, or since seeding began.
      auto since = l.seeding_since;
      if (t.activity_date > 0) {
        auto ago = std::chrono::seconds(std::max<std::int64_t>(0, unix_now() - t.activity_date));
        since = std::max(since, now - ago);
      }
      const auto idle_for = std::chrono::duration_cast<std::chrono::seconds>(now - since);
      if (auto why =
              reached_limit(t.options, d.config_, t.uploaded_ever(), p.total_size(), idle_for)) {
        reached.emplace_back(t.id, *why);
      }
    }
    for (const auto& [id, why] : reached) {
      DaemonTorrent* t = d.find(id);
      if (!t) continue;
      const bool remove = d.config_.limit_action == "remove";
      say("torrent " + std::to_string(id) + " reached its " + why + ": " +
          (remove ? "removed" : "stopped"));
      try {
        if (remove) {
          d.remove(id, false);
        } else {
          d.stop(id);
        }
      } catch (const std::exception& e) {
        say("torrent " + std::to_string(id) + ": " + e.what());
      }
    }
  }

  void schedule_tick() {
    tick_timer.expires_after(std::chrono::seconds(1));
    tick_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || shutting_down) return;
      tick();
      schedule_tick();
    });
  }

  void schedule_state() {
    state_timer.expires_after(d.config_.state_interval);
    state_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec || shutting_down) return;
      try {
        for (auto& t : d.torrents_) write_record(*t, Write::IfMoreThanSecondsChanged);
      } catch (const std::exception& e) {
        say(std::string("state: ") + e.what());
      }
      schedule_state();
    });
  }
};

Daemon::Daemon(Node& node, DaemonConfig config)
    : node_(node), config_(std::move(config)), impl_(std::make_unique<Impl>(*this)) {
  impl_->paths.root = config_.state_dir;
  std::error_code ec;
  for (const auto& dir : {impl_->paths.torrents(), impl_->paths.resume()}) {
    fs::create_directories(dir, ec);
    if (ec) throw DaemonError("state folder " + dir.string() + ": " + ec.message());
  }
  fs::permissions(config_.state_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  fs::create_directories(config_.download_dir, ec);
  if (ec)
    throw DaemonError("download folder " + config_.download_dir.string() + ": " + ec.message());
  impl_->setup_payments();
  impl_->events =
      node_.session().events().subscribe([this](const p2p::Event& e) { impl_->on_event(e); });
  impl_->load_state();
  impl_->schedule_tick();
  impl_->schedule_state();
  if (!config_.watch_dir.empty()) {
    impl_->watch = std::make_unique<WatchFolder>(
        node_.io(), config_.watch_dir, config_.watch_interval,
        [this](AddRequest r) { add(std::move(r)); }, say);
    impl_->watch->start();
  }
}

Daemon::~Daemon() = default;

namespace {

// The torrent `id`, running in the node; DaemonError otherwise.
DaemonTorrent& running(Daemon& d, int id) {
  DaemonTorrent* t = d.find(id);
  if (!t) throw DaemonError("no torrent " + std::to_string(id));
  if (!t->entry) throw DaemonError("torrent " + std::to_string(id) + " could not be restarted");
  return *t;
}

}  // namespace

DaemonTorrent* Daemon::find(int id) {
  auto it = std::lower_bound(torrents_.begin(), torrents_.end(), id,
                             [](const auto& t, int v) { return t->id < v; });
  return it != torrents_.end() && (*it)->id == id ? it->get() : nullptr;
}

DaemonTorrent* Daemon::find(const p2p::InfoHash& ih) {
  auto it = impl_->by_hash.find(ih);
  return it == impl_->by_hash.end() ? nullptr : it->second;
}

std::pair<DaemonTorrent*, bool> Daemon::add(AddRequest request) {
  if (impl_->shutting_down) throw DaemonError("the daemon is shutting down");
  std::optional<p2p::Metainfo> meta;
  p2p::InfoHash ih{};
  if (!request.metainfo.empty()) {
    try {
      meta = p2p::parse_metainfo(request.metainfo);
    } catch (const std::exception& e) {
      throw DaemonError(std::string("invalid or corrupt torrent file: ") + e.what());
    }
    ih = meta->info_hash;
  } else if (!request.magnet.empty()) {
    try {
      ih = p2p::parse_magnet(request.magnet).info_hash;
    } catch (const std::exception& e) {
      throw DaemonError(std::string("bad magnet link: ") + e.what());
    }
  } else {
    throw DaemonError("no metainfo and no magnet link");
  }
  if (DaemonTorrent* t = find(ih)) return {t, true};
  auto t = std::make_unique<DaemonTorrent>();
  t->download_dir = request.download_dir ? fs::absolute(*request.download_dir).lexically_normal()
                                         : config_.download_dir;
  std::error_code ec;
  fs::create_directories(t->download_dir, ec);
  if (ec) throw DaemonError("cannot make " + t->download_dir.string() + ": " + ec.message());
  t->id = impl_->next_id++;
  impl_->write_daemon_file();  // the id is spent even if what follows fails
  t->paused = request.paused;
  t->options.labels = request.labels;
  t->added_date = unix_now();
  t->queue_position = int(torrents_.size());
  if (!meta) t->magnet = request.magnet;
  const std::string hex = hex_of(ih);
  impl_->live[t->id].hex = hex;
  try {
    if (meta) {
      write_file_atomic(impl_->paths.metainfo(hex), request.metainfo, kStateFilePerms, Sync::Later);
    }
    impl_->start_in_node(*t, std::move(meta));
  } catch (const std::invalid_argument& e) {
    impl_->live.erase(t->id);
    fs::remove(impl_->paths.metainfo(hex), ec);
    throw DaemonError(e.what());
  } catch (const DaemonError&) {
    impl_->live.erase(t->id);
    fs::remove(impl_->paths.metainfo(hex), ec);
    throw;
  } catch (const std::exception& e) {
    impl_->live.erase(t->id);
    fs::remove(impl_->paths.metainfo(hex), ec);
    throw DaemonError(e.what());
  }
  DaemonTorrent* ref = t.get();
  torrents_.push_back(std::move(t));  // ids only grow: the vector stays in id order
  impl_->write_record(*ref, Impl::Write::Always);
  say("added torrent " + std::to_string(ref->id) + ": " + ref->torrent().name() + " (" + hex + ")");
  return {ref, false};
}

void Daemon::remove(int id, bool delete_data) {
  DaemonTorrent* t = find(id);
  if (!t) throw DaemonError("no torrent " + std::to_string(id));
  const std::string hex = impl_->live[id].hex;
  if (impl_->seller) impl_->seller->set_torrent_terms(hex, {});
  impl_->stop_in_node(*t, delete_data);
  std::error_code ec;
  fs::remove(impl_->paths.record(hex), ec);
  fs::remove(impl_->paths.metainfo(hex), ec);
  fs::remove(impl_->paths.resume_file(hex), ec);
  impl_->live.erase(id);
  std::erase_if(torrents_, [t](const auto& p) { return p.get() == t; });
  impl_->renumber_queue();
}

void Daemon::start(int id, bool now) {
  DaemonTorrent* t = &running(*this, id);
  if (now) queue_move({id}, QueueMove::Top);
  t->paused = false;
  t->start_date = unix_now();
  t->torrent().resume();
  impl_->write_record(*t);
}

void Daemon::stop(int id) {
  DaemonTorrent* t = &running(*this, id);
  t->paused = true;
  t->torrent().pause();
  impl_->live[id].last_change = Clock::now();
  impl_->write_record(*t);
}

void Daemon::verify(int id) {
  DaemonTorrent* t = &running(*this, id);
  if (!t->torrent().has_metadata()) {
    throw DaemonError("the metadata of torrent " + std::to_string(id) + " is not here yet");
  }
  t->torrent().force_recheck();
  impl_->live[id].last_change = Clock::now();
}

void Daemon::reannounce(int id) {
  DaemonTorrent* t = &running(*this, id);
  t->torrent().force_reannounce();
}

void Daemon::set_options(int id, const TorrentOptions& options) {
  DaemonTorrent* t = &running(*this, id);
  if (options.upload_limit < 0 || options.download_limit < 0 || options.ratio_limit < 0 ||
      options.idle_limit.count() < 0) {
    throw DaemonError("limits cannot be negative");
  }
  t->options = options;
  impl_->apply_rate_limits(*t);
  impl_->write_record(*t);
}

void Daemon::check_pay_overrides(int id, const PayOverrides& pay) {
  DaemonTorrent* t = &running(*this, id);
  impl_->resolve_pay(pay, Impl::piece_length_of(*t), impl_->live[id].hex);
}

void Daemon::set_pay_overrides(int id, const PayOverrides& pay) {
  DaemonTorrent* t = &running(*this, id);
  auto resolved = impl_->resolve_pay(pay, Impl::piece_length_of(*t), impl_->live[id].hex);
  t->pay = pay;
  impl_->apply_pay(*t, resolved);
  impl_->write_record(*t);
}

void Daemon::set_location(int id, const fs::path& dir_in, bool move) {
  DaemonTorrent* t = &running(*this, id);
  const fs::path dir = fs::absolute(dir_in).lexically_normal();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw DaemonError("cannot make " + dir.string() + ": " + ec.message());
  if (dir == t->download_dir) return;
  if (move && t->torrent().has_metadata()) {
    if (t->torrent().moving()) throw DaemonError("its files are being moved already");
    // The files move on the disk thread; the record follows when they are there.
    std::weak_ptr<p2p::Torrent> weak = t->entry->torrent;
    t->torrent().move_storage(dir, [this, id, dir, weak](const std::string& error) {
      DaemonTorrent* moved = find(id);
      if (!moved || !moved->entry || weak.lock() != moved->entry->torrent) return;
      if (!error.empty()) {
        say("torrent " + std::to_string(id) + ": cannot move its files to " + dir.string() + ": " +
            error);
        return;
      }
      moved->download_dir = dir;
      impl_->write_record(*moved);
      say("torrent " + std::to_string(id) + " moved to " + dir.string());
    });
    return;
  }
  // Pointed elsewhere without moving: the files there are checked.
  const std::string hex = impl_->live[id].hex;
  auto meta = impl_->saved_metainfo(hex);
  impl_->stop_in_node(*t, false);
  t->download_dir = dir;
  fs::remove(impl_->paths.resume_file(hex), ec);
  impl_->start_in_node(*t, std::move(meta));
  impl_->write_record(*t);
  impl_->sync_queue();
}

void Daemon::queue_move(const std::vector<int>& ids, QueueMove how) {
  std::vector<DaemonTorrent*> q;
  for (auto& t : torrents_) q.push_back(t.get());
  std::sort(q.begin(), q.end(),
            [](auto* a, auto* b) { return a->queue_position < b->queue_position; });
  std::set<int> moving(ids.begin(), ids.end());
  auto is_moving = [&](DaemonTorrent* t) { return moving.count(t->id) > 0; };
  switch (how) {
    case QueueMove::Top:
      std::stable_partition(q.begin(), q.end(), is_moving);
      break;
    case QueueMove::Bottom:
      std::stable_partition(q.begin(), q.end(), [&](auto* t) { return !is_moving(t); });
      break;
    case QueueMove::Up:
      for (std::size_t i = 1; i < q.size(); ++i) {
        if (is_moving(q[i]) && !is_moving(q[i - 1])) std::swap(q[i], q[i - 1]);
      }
      break;
    case QueueMove::Down:
      for (std::size_t i = q.size(); i-- > 1;) {
        if (is_moving(q[i - 1]) && !is_moving(q[i])) std::swap(q[i], q[i - 1]);
      }
      break;
  }
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q[i]->queue_position != int(i)) {
      q[i]->queue_position = int(i);
      impl_->write_record(*q[i]);
    }
  }
  impl_->sync_queue();
}

void Daemon::set_setting(const std::string& key, const std::string& value) {
  impl_->apply_setting(key, value);
  impl_->runtime_settings[key] = value;
  write_file_atomic(impl_->paths.settings_file(), impl_->runtime_settings.dump(2) + "\n");
}

void Daemon::save_state() {
  for (auto& t : torrents_) impl_->write_record(*t);
}

void Daemon::shutdown(std::function<void()> done) {
  if (impl_->shutting_down) return;
  impl_->shutting_down = true;
  impl_->tick_timer.cancel();
  impl_->state_timer.cancel();
  if (impl_->watch) impl_->watch->stop();
  // What every paying seeder is owed, settled with a bound that keeps the whole shutdown
  // within 10 s (the announces take up to 5 s after it).
  auto pending = std::make_shared<int>(1);
  auto timer = std::make_shared<boost::asio::steady_timer>(node_.io());
  auto finish = std::make_shared<std::function<void()>>();
  *finish = [this, done, timer, fired = std::make_shared<bool>(false)]() mutable {
    if (*fired) return;
    *fired = true;
    timer->cancel();
    try {
      save_state();
      sync_state_folder(impl_->paths.root);
    } catch (const std::exception& e) {
      say(std::string("state: ") + e.what());
    }
    say("stopping: announcing to trackers");
    node_.stop([done] {
      if (done) done();
    });
  };
  auto one_done = [pending, finish] {
    if (--*pending == 0) (*finish)();
  };
  for (auto& t : torrents_) {
    if (t->entry && t->entry->buyer) {
      ++*pending;
      node_.settle(*t->entry, one_done);
    }
  }
  const auto bound =
      std::min<std::chrono::seconds>(node_.settings().settle_on_exit, std::chrono::seconds(3));
  timer->expires_after(bound);
  timer->async_wait([finish](const boost::system::error_code& ec) {
    if (!ec) (*finish)();
  });
  one_done();
}

std::shared_ptr<pay::DailyBudget> Daemon::daily_budget() const {
  return impl_->daily;
}

std::vector<int> Daemon::recently_active(std::chrono::seconds window) const {
  std::vector<int> out;
  const auto now = Clock::now();
  for (const auto& t : torrents_) {
    auto it = impl_->live.find(t->id);
    if (it == impl_->live.end()) continue;
    if (it->second.last_change != Clock::time_point{} && now - it->second.last_change <= window) {
      out.push_back(t->id);
    }
  }
  return out;
}

}  // namespace bttnode::daemon
