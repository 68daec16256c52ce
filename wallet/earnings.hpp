#pragma once
// A summary of the payment ledger: what the wallet earned (credits), spent (confirmed
// payments) and still has in flight, per token, then per torrent and per peer, with the
// transactions behind each figure. Pure: it reads only the lists it is given.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tron/token.hpp"
#include "wallet/ledger.hpp"

namespace wallet {

struct StateSum {
  std::size_t count = 0;
  tron::U256 amount = 0;
};

// Figures for one token, in its base units.
struct TokenSums {
  tron::U256 earned = 0;   // sum of credits
  tron::U256 spent = 0;    // sum of confirmed payments
  tron::U256 pending = 0;  // sum of planned, signed and broadcast payments
  // TRX (sun) burned as fees by the payments that landed, confirmed or failed in a block.
  // Fees are in TRX whatever the token moved.
  std::int64_t fees = 0;
  std::size_t fees_unknown = 0;  // landed payments with no fee recorded (older ledgers)
  std::size_t credits = 0;
  std::size_t confirmed = 0;
  std::size_t failed = 0;
  std::map<PaymentState, StateSum> pending_by_state;  // only in-flight states
};

// Keyed by the token as the ledger writes it ("trx", "trc10:ID", "trc20:<base58>").
using SumsByToken = std::map<std::string, TokenSums>;

struct PeerEarnings {
  std::optional<std::string> peer;  // hex peer id, lower case; none: not tied to a peer
  SumsByToken sums;
  std::vector<Credit> credits;    // oldest first
  std::vector<Payment> payments;  // oldest first, every attempt, failed ones too
};

struct TorrentEarnings {
  std::optional<std::string> info_hash;  // hex, lower case; none: "other" (e.g. wallet send)
  SumsByToken sums;
  std::vector<PeerEarnings> peers;  // by peer id, the one without a peer last
};

struct Earnings {
  SumsByToken totals;
  std::vector<TorrentEarnings> torrents;  // by info hash, "other" last
};

// Groups and sums; when `only` is set, entries of other tokens are left out.
Earnings summarize_earnings(const std::vector<Payment>& payments,
                            const std::vector<Credit>& credits,
                            const std::optional<tron::Token>& only = std::nullopt);

// One object: {"totals": {token: sums (with "fees_sun")}, "torrents": [{"info_hash", "totals",
// "peers": [{"peer", "totals", "credits": [...], "payments": [...]}]}]}; amounts are decimal
// strings, since they may not fit in a JSON number; a missing info hash or peer is null.
nlohmann::json to_json(const Earnings& earnings);

// The same content as aligned plain text, ending with a newline.
std::string to_text(const Earnings& earnings);

// "2026-11-24T13:50:59Z" for a time in ms since the epoch.
std::string format_utc_ms(std::int64_t ms);

}  // namespace wallet
