#include "wallet/earnings.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <sstream>
#include <tuple>
#include <utility>

#include "tron/abi.hpp"

namespace wallet {

namespace {

std::string lower(std::string text) {
  for (auto& ch : text) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return text;
}

// Group keys that sort present values by text and put the missing one last.
using Key = std::pair<bool, std::string>;  // {missing, value}
Key key_of(const std::optional<std::string>& value) {
  if (!value || value->empty()) return {true, ""};
  return {false, lower(*value)};
}
std::optional<std::string> value_of(const Key& key) {
  if (key.first) return std::nullopt;
  return key.second;
}

void add_credit(TokenSums& sums, const Credit& c) {
  sums.earned += c.amount;
  ++sums.credits;
}

void add_fee(TokenSums& sums, const Payment& p) {
  if (!p.fee) {
    // A payment refused before signing never reached the chain: it has no fee to know.
    if (p.block_number) ++sums.fees_unknown;
    return;
  }
  const std::int64_t fee = std::max<std::int64_t>(*p.fee, 0);
  sums.fees = fee > INT64_MAX - sums.fees ? INT64_MAX : sums.fees + fee;
}

void add_payment(TokenSums& sums, const Payment& p) {
  if (p.state == PaymentState::Confirmed || p.state == PaymentState::Failed) add_fee(sums, p);
  switch (p.state) {
    case PaymentState::Confirmed:
      sums.spent += p.amount;
      ++sums.confirmed;
      break;
    case PaymentState::Failed:
      ++sums.failed;
      break;
    default: {
      sums.pending += p.amount;
      auto& s = sums.pending_by_state[p.state];
      ++s.count;
      s.amount += p.amount;
    }
  }
}

struct PeerAcc {
  SumsByToken sums;
  std::vector<Credit> credits;
  std::vector<Payment> payments;
};

struct TorrentAcc {
  SumsByToken sums;
  std::map<Key, PeerAcc> peers;
};

std::string dec(const tron::U256& value) {
  return tron::abi::to_decimal(value);
}

nlohmann::json sums_json(const SumsByToken& by_token) {
  auto out = nlohmann::json::object();
  for (const auto& [token, s] : by_token) {
    auto states = nlohmann::json::object();
    for (const auto& [state, sum] : s.pending_by_state) {
      states[to_string(state)] = {{"count", sum.count}, {"amount", dec(sum.amount)}};
    }
    out[token] = {{"earned", dec(s.earned)},
                  {"spent", dec(s.spent)},
                  {"fees_sun", std::to_string(s.fees)},
                  {"fees_trx", tron::abi::format_units(s.fees, 6)},
                  {"fees_unknown", s.fees_unknown},
                  {"pending", dec(s.pending)},
                  {"credits", s.credits},
                  {"confirmed", s.confirmed},
                  {"failed", s.failed},
                  {"pending_by_state", states}};
  }
  return out;
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json credit_json(const Credit& c) {
  return {{"txid", c.txid},
          {"token", c.token.to_string()},
          {"amount", dec(c.amount)},
          {"from", c.from.to_base58()},
          {"to", c.to.to_base58()},
          {"block", or_null(c.block_number)},
          {"time", format_utc_ms(c.credited_at)},
          {"time_ms", c.credited_at}};
}

nlohmann::json payment_json(const Payment& p) {
  return {{"id", p.id},
          {"txid", or_null(p.txid)},
          {"token", p.token.to_string()},
          {"amount", dec(p.amount)},
          {"from", p.from.to_base58()},
          {"to", p.to.to_base58()},
          {"state", to_string(p.state)},
          {"debt_key", p.debt_key},
          {"attempt", p.attempt},
          {"block", or_null(p.block_number)},
          {"fee_sun", or_null(p.fee)},
          {"fail_reason", or_null(p.fail_reason)},
          {"error", or_null(p.error)},
          {"time", format_utc_ms(p.created_at)},
          {"time_ms", p.created_at}};
}

// Rows of cells printed in columns; `right` marks the columns aligned to the right.
class Table {
 public:
  explicit Table(std::vector<bool> right) : right_(std::move(right)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }

  void print(std::ostream& out, const std::string& indent) const {
    std::vector<std::size_t> width(right_.size(), 0);
    for (const auto& row : rows_) {
      for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
        width[i] = std::max(width[i], row[i].size());
      }
    }
    for (const auto& row : rows_) {
      std::string line = indent;
      for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
        if (i > 0) line += "  ";
        const std::string pad(width[i] - row[i].size(), ' ');
        line += right_[i] ? pad + row[i] : row[i] + pad;
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out << line << "\n";
    }
  }

 private:
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

void print_sums(std::ostream& out, const SumsByToken& by_token, const std::string& indent) {
  Table t({false, true, true, true, true, true});
  t.add({"token", "earned", "spent", "fees TRX", "pending", "failed"});
  for (const auto& [token, s] : by_token) {
    std::string fees = tron::abi::format_units(s.fees, 6);
    if (s.fees_unknown > 0) fees += "+?";  // some landed payments have no fee on record
    t.add({token, dec(s.earned), dec(s.spent), fees, dec(s.pending), std::to_string(s.failed)});
  }
  t.print(out, indent);
  for (const auto& [token, s] : by_token) {
    if (s.pending_by_state.empty()) continue;
    out << indent << "pending " << token << ":";
    const char* sep = " ";
    for (const auto& [state, sum] : s.pending_by_state) {
      out << sep << sum.count << " " << to_string(state) << " (" << dec(sum.amount) << ")";
      sep = ", ";
    }
    out << "\n";
  }
}

// One word, so the columns stay easy to read by tools: "failed:expired".
std::string state_text(const Payment& p) {
  std::string text = to_string(p.state);
  if (p.state == PaymentState::Failed && p.fail_reason) text += ":" + *p.fail_reason;
  return text;
}

}  // namespace

std::string format_utc_ms(std::int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (!::gmtime_r(&seconds, &tm)) return std::to_string(ms) + "ms";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Earnings summarize_earnings(const std::vector<Payment>& payments,
                            const std::vector<Credit>& credits,
                            const std::optional<tron::Token>& only) {
  Earnings result;
  std::map<Key, TorrentAcc> torrents;
  for (const auto& c : credits) {
    if (only && !(c.token == *only)) continue;
    const std::string token = c.token.to_string();
    auto& torrent = torrents[key_of(c.info_hash)];
    auto& peer = torrent.peers[key_of(c.peer)];
    add_credit(result.totals[token], c);
    add_credit(torrent.sums[token], c);
    add_credit(peer.sums[token], c);
    peer.credits.push_back(c);
  }
  for (const auto& p : payments) {
    if (only && !(p.token == *only)) continue;
    const std::string token = p.token.to_string();
    auto& torrent = torrents[key_of(p.info_hash)];
    auto& peer = torrent.peers[key_of(p.peer)];
    add_payment(result.totals[token], p);
    add_payment(torrent.sums[token], p);
    add_payment(peer.sums[token], p);
    peer.payments.push_back(p);
  }
  for (auto& [tkey, tacc] : torrents) {
    TorrentEarnings torrent;
    torrent.info_hash = value_of(tkey);
    torrent.sums = std::move(tacc.sums);
    for (auto& [pkey, pacc] : tacc.peers) {
      PeerEarnings peer;
      peer.peer = value_of(pkey);
      peer.sums = std::move(pacc.sums);
      peer.credits = std::move(pacc.credits);
      peer.payments = std::move(pacc.payments);
      // Oldest first, whatever order the lists came in.
      std::stable_sort(peer.credits.begin(), peer.credits.end(),
                       [](const Credit& a, const Credit& b) {
                         return std::tie(a.credited_at, a.txid) < std::tie(b.credited_at, b.txid);
                       });
      std::stable_sort(peer.payments.begin(), peer.payments.end(),
                       [](const Payment& a, const Payment& b) {
                         return std::tie(a.created_at, a.id) < std::tie(b.created_at, b.id);
                       });
      torrent.peers.push_back(std::move(peer));
    }
    result.torrents.push_back(std::move(torrent));
  }
  return result;
}

nlohmann::json to_json(const Earnings& earnings) {
  auto torrents = nlohmann::json::array();
  for (const auto& t : earnings.torrents) {
    auto peers = nlohmann::json::array();
    for (const auto& p : t.peers) {
      auto credits = nlohmann::json::array();
      for (const auto& c : p.credits) credits.push_back(credit_json(c));
      auto payments = nlohmann::json::array();
      for (const auto& pay : p.payments) payments.push_back(payment_json(pay));
      peers.push_back({{"peer", or_null(p.peer)},
                       {"totals", sums_json(p.sums)},
                       {"credits", credits},
                       {"payments", payments}});
    }
    torrents.push_back(
        {{"info_hash", or_null(t.info_hash)}, {"totals", sums_json(t.sums)}, {"peers", peers}});
  }
  return {{"totals", sums_json(earnings.totals)}, {"torrents", torrents}};
}

std::string to_text(const Earnings& earnings) {
  std::ostringstream out;
  if (earnings.torrents.empty()) {
    out << "no payments or credits\n";
    return out.str();
  }
  out << "totals (token base units; fees in TRX)\n";
  print_sums(out, earnings.totals, "  ");
  for (const auto& t : earnings.torrents) {
    out << "\n" << (t.info_hash ? "torrent " + *t.info_hash : std::string("other")) << "\n";
    print_sums(out, t.sums, "  ");
    for (const auto& p : t.peers) {
      out << "  peer " << p.peer.value_or("-") << "\n";
      print_sums(out, p.sums, "    ");
      if (!p.credits.empty()) {
        out << "    credits\n";
        Table table({false, true, false, false, false, false});
        table.add({"txid", "amount", "token", "from", "block", "time"});
        for (const auto& c : p.credits) {
          table.add({c.txid, dec(c.amount), c.token.to_string(), c.from.to_base58(),
                     c.block_number ? std::to_string(*c.block_number) : "-",
                     format_utc_ms(c.credited_at)});
        }
        table.print(out, "      ");
      }
      if (!p.payments.empty()) {
        out << "    payments\n";
        Table table({false, true, false, false, false, false, true, false});
        table.add({"txid", "amount", "token", "to", "state", "block", "fee sun", "debt"});
        for (const auto& pay : p.payments) {
          table.add({pay.txid.value_or("-"), dec(pay.amount), pay.token.to_string(),
                     pay.to.to_base58(), state_text(pay),
                     pay.block_number ? std::to_string(*pay.block_number) : "-",
                     pay.fee ? std::to_string(*pay.fee) : "-", pay.debt_key});
        }
        table.print(out, "      ");
      }
    }
  }
  return out.str();
}

}  // namespace wallet
