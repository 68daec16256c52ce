#include "node/daemon/rpc_payments.hpp"

#include <filesystem>
#include <set>

#include "base/hex.hpp"
#include "node/daemon/rpc_methods.hpp"
#include "tron/abi.hpp"
#include "wallet/earnings.hpp"
#include "wallet/keystore.hpp"
#include "wallet/ledger.hpp"

namespace bttnode::daemon {

using json = nlohmann::json;

namespace {

std::string hex_of(const DaemonTorrent& t) {
  return base::to_hex(t.torrent().info_hash());
}

FieldContext::Money* money_of(const DaemonTorrent& t, FieldContext& c) {
  if (!c.money) {
    c.money.emplace();
    for (const auto& path : ledger_paths(c.daemon.config())) {
      try {
        wallet::Ledger ledger(path);
        for (const auto& cr : ledger.credits({})) {
          if (!cr.info_hash) continue;
          auto& m = (*c.money)[*cr.info_hash];
          m.earned[cr.token.to_string()] += cr.amount;
          m.payers.insert(cr.from.to_base58());
        }
        wallet::PaymentFilter f;
        f.states = {wallet::PaymentState::Confirmed};
        for (const auto& p : ledger.payments(f)) {
          if (!p.info_hash) continue;
          (*c.money)[*p.info_hash].spent[p.token.to_string()] += p.amount;
        }
      } catch (const std::exception&) {
        // A ledger that cannot be read now (locked, damaged): the figures of this run below.
      }
    }
  }
  auto it = c.money->find(hex_of(t));
  return it == c.money->end() ? nullptr : &it->second;
}

std::string pick(const std::map<std::string, tron::U256>& sums, const std::string& token) {
  if (sums.empty()) return "0";
  auto it = sums.find(token);
  if (it == sums.end()) it = sums.begin();
  return tron::abi::to_decimal(it->second);
}

json sums_json(const wallet::TokenSums& s) {
  return {{"earned", tron::abi::to_decimal(s.earned)},
          {"spent", tron::abi::to_decimal(s.spent)},
          {"pending", tron::abi::to_decimal(s.pending)},
          {"fees_sun", s.fees},
          {"credits", s.credits},
          {"confirmed", s.confirmed},
          {"failed", s.failed}};
}

}  // namespace

std::vector<std::string> ledger_paths(const DaemonConfig& c) {
  std::vector<std::string> out;
  // A configured wallet's ledger is read even while selling or buying is off: it holds the
  // earnings of earlier runs.
  auto add = [&](const std::filesystem::path& keystore) {
    if (keystore.empty()) return;
    std::string p = keystore.string() + ".ledger.db";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) return;  // opening would create it
    for (const auto& o : out) {
      if (std::filesystem::equivalent(o, p, ec)) return;
    }
    out.push_back(p);
  };
  add(c.sell.keystore);
  add(c.buy.keystore);
  return out;
}

std::string token_of(const DaemonTorrent& t) {
  if (t.entry->seller) return t.entry->seller->settings().token.to_string();
  if (t.entry->buyer) return t.entry->buyer->settings().token.to_string();
  return "";
}

json earned_field(const DaemonTorrent& t, FieldContext& c) {
  if (auto* m = money_of(t, c)) return pick(m->earned, token_of(t));
  if (t.entry->seller) return tron::abi::to_decimal(t.entry->seller->earned());
  return "0";
}

json spent_field(const DaemonTorrent& t, FieldContext& c) {
  if (auto* m = money_of(t, c)) return pick(m->spent, token_of(t));
  if (t.entry->buyer) return tron::abi::to_decimal(t.entry->buyer->paid());
  return "0";
}

json payers_field(const DaemonTorrent& t, FieldContext& c) {
  if (auto* m = money_of(t, c)) return m->payers.size();
  return 0;
}

json earnings_report(Daemon& d, const json& args) {
  std::optional<tron::Token> only;
  if (auto it = args.find("token"); it != args.end() && it->is_string()) {
    try {
      only = tron::Token::parse(it->get<std::string>());
    } catch (const std::exception& e) {
      throw RpcError(std::string("invalid argument \"token\": ") + e.what());
    }
  }
  std::optional<std::set<std::string>> hashes;
  if (args.contains("ids")) {
    IdSelection sel = parse_ids(args, d);
    hashes.emplace();
    for (int id : sel.ids) {
      if (auto* t = d.find(id)) hashes->insert(base::to_hex(t->torrent().info_hash()));
    }
  }
  std::vector<wallet::Payment> payments;
  std::vector<wallet::Credit> credits;
  std::vector<std::string> read;
  for (const auto& path : ledger_paths(d.config())) {
    try {
      wallet::Ledger ledger(path);
      wallet::PaymentFilter pf;
      wallet::CreditFilter cf;
      pf.token = cf.token = only;
      for (auto& p : ledger.payments(pf)) {
        if (!hashes || (p.info_hash && hashes->count(*p.info_hash))) payments.push_back(p);
      }
      for (auto& c : ledger.credits(cf)) {
        if (!hashes || (c.info_hash && hashes->count(*c.info_hash))) credits.push_back(c);
      }
      read.push_back(path);
    } catch (const std::exception& e) {
      throw RpcError("cannot read the ledger " + path + ": " + e.what());
    }
  }
  json out = wallet::to_json(wallet::summarize_earnings(payments, credits, only));
  // Each torrent's daemon id beside its info hash, for the remotes that speak in ids.
  for (auto& t : out["torrents"]) {
    t["id"] = nullptr;
    if (!t["info_hash"].is_string()) continue;
    p2p::InfoHash ih{};
    if (base::from_hex_into(t["info_hash"].get<std::string>(), ih)) {
      if (auto* dt = d.find(ih)) {
        t["id"] = dt->id;
        t["name"] = dt->torrent().name();
      }
    }
  }
  // What this run credited and paid, which a ledger not configured would miss.
  json live = json::array();
  for (const auto& t : d.torrents()) {
    if (hashes && !hashes->count(base::to_hex(t->torrent().info_hash()))) continue;
    if (!t->entry->seller && !t->entry->buyer) continue;
    json e = {{"id", t->id},
              {"info_hash", base::to_hex(t->torrent().info_hash())},
              {"token", token_of(*t)}};
    if (t->entry->seller) {
      e["earned"] = tron::abi::to_decimal(t->entry->seller->earned());
      e["credits"] = t->entry->seller->payments();
    }
    if (t->entry->buyer) {
      e["spent"] = tron::abi::to_decimal(t->entry->buyer->paid());
      e["payments"] = t->entry->buyer->payments();
      e["pending"] = t->entry->buyer->pending();
    }
    live.push_back(std::move(e));
  }
  out["this_run"] = std::move(live);
  out["ledgers"] = read;
  return {{"result", "success"}, {"arguments", std::move(out)}};
}

json wallet_report(Daemon& d) {
  const DaemonConfig& c = d.config();
  json out = json::object();
  auto one = [&](const char* role, bool enabled, const std::filesystem::path& keystore,
                 const std::string& token, const std::string& network) {
    if (!enabled) return;
    json w = {{"keystore", keystore.string()}, {"token", token}, {"network", network}};
    try {
      w["address"] = wallet::keystore_address(keystore).to_base58();
    } catch (const std::exception& e) {
      w["address"] = nullptr;
      w["error"] = e.what();
    }
    std::string ledger = keystore.string() + ".ledger.db";
    std::error_code ec;
    w["ledger"] = std::filesystem::is_regular_file(ledger, ec) ? json(ledger) : json(nullptr);
    if (w["ledger"].is_string()) {
      try {
        wallet::Ledger l(ledger);
        auto e = wallet::summarize_earnings(l.payments({}), l.credits({}));
        json totals = json::object();
        for (const auto& [tok, sums] : e.totals) totals[tok] = sums_json(sums);
        w["totals"] = std::move(totals);
      } catch (const std::exception& ex) {
        w["error"] = std::string("cannot read the ledger: ") + ex.what();
      }
    }
    out[role] = std::move(w);
  };
  one("sell", c.sell.enabled, c.sell.keystore, c.sell.token, c.sell.network);
  one("buy", c.buy.enabled, c.buy.keystore, c.buy.token, c.buy.network);
  if (auto daily = d.daily_budget(); daily && out.contains("buy")) {
    // Base units of the buying token, for the UTC day; budget_per_day 0: no daily limit.
    out["buy"]["budget_per_day"] = tron::abi::to_decimal(daily->per_day());
    out["buy"]["spent_today"] = tron::abi::to_decimal(daily->spent_today());
    out["buy"]["left_today"] =
        daily->limited() ? json(tron::abi::to_decimal(daily->left_today())) : json(nullptr);
  }
  return {{"result", "success"}, {"arguments", std::move(out)}};
}

namespace {

bool selling(const DaemonTorrent& t) {
  return t.entry->seller && t.entry->seller->sells(hex_of(t));
}

}  // namespace

json sell_field(const DaemonTorrent& t, FieldContext&) {
  return selling(t);
}

json price_field(const DaemonTorrent& t, FieldContext&) {
  if (!selling(t)) return nullptr;
  return tron::abi::to_decimal(t.entry->seller->price_for(hex_of(t)));
}

json max_price_field(const DaemonTorrent& t, FieldContext&) {
  if (!t.entry->buyer) return nullptr;
  return tron::abi::to_decimal(t.entry->buyer->settings().max_price);
}

json budget_field(const DaemonTorrent& t, FieldContext&) {
  if (!t.entry->buyer) return nullptr;
  auto b = t.entry->buyer->budget_limit();
  return b ? json(tron::abi::to_decimal(*b)) : json(nullptr);
}

json overrides_field(const DaemonTorrent& t, FieldContext&) {
  return overrides_to_json(t.pay);
}

json terms_of(const DaemonTorrent& t) {
  json e = {{"id", t.id},
            {"hashString", base::to_hex(t.torrent().info_hash())},
            {"overrides", overrides_to_json(t.pay)}};
  if (selling(t)) {
    const auto* m = t.torrent().metainfo();
    const auto s = t.entry->seller->settings_for(m ? m->piece_length : 0, hex_of(t));
    e["sell"] = {{"token", s.token.to_string()},
                 {"price_per_mib", tron::abi::to_decimal(s.price)},
                 {"payout", s.addr.to_base58()},
                 {"chain", s.chain},
                 {"credit", s.credit},
                 {"max_credit", s.max_credit},
                 {"min_settle", tron::abi::to_decimal(s.min_settle)},
                 {"confirmations", s.confirmations}};
  } else {
    e["sell"] = nullptr;
  }
  if (t.entry->buyer) {
    const auto& b = t.entry->buyer->settings();
    const auto budget = t.entry->buyer->budget_limit();
    e["buy"] = {{"token", b.token.to_string()},
                {"max_price_per_mib", tron::abi::to_decimal(b.max_price)},
                {"budget", budget ? json(tron::abi::to_decimal(*budget)) : json(nullptr)},
                {"payer", b.addr.to_base58()},
                {"chain", b.chain}};
  } else {
    e["buy"] = nullptr;
  }
  return e;
}

}  // namespace bttnode::daemon
