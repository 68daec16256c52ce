#pragma once
// bttnode's payment data over the RPC: torrent-get's bttnode* fields and the
// bttnode-earnings, bttnode-wallet and bttnode-terms methods. Figures come from the payment
// ledgers of the daemon's sell and buy wallets (KEYSTORE.ledger.db, read only), so they hold
// across restarts; amounts are decimal strings of the token's base units (they may not fit
// in a JSON number).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "node/daemon/daemon.hpp"
#include "node/daemon/rpc_fields.hpp"

namespace bttnode::daemon {

// The ledgers of the configured wallets that exist (one when both use the same keystore),
// whether selling and buying are on or not.
std::vector<std::string> ledger_paths(const DaemonConfig& c);

// The token the torrent is sold or bought in ("trx", "trc10:ID", "trc20:ADDRESS"), or "".
std::string token_of(const DaemonTorrent& t);
nlohmann::json earned_field(const DaemonTorrent& t, FieldContext& c);
nlohmann::json spent_field(const DaemonTorrent& t, FieldContext& c);
nlohmann::json payers_field(const DaemonTorrent& t, FieldContext& c);

// {"result":"success","arguments":{...}} answers. earnings: args "ids" narrows it to those
// torrents; "token" to one token.
nlohmann::json earnings_report(Daemon& d, const nlohmann::json& args);
nlohmann::json wallet_report(Daemon& d);
nlohmann::json terms_of(const DaemonTorrent& t);

// A torrent's terms as peers that connect now get them, in base units of the token (null
// where it is not sold or bought, or has no budget), and the torrent's own terms (null where
// the session's hold): torrent-get's bttnodeSell, bttnodePrice, bttnodeMaxPrice,
// bttnodeBudget and bttnodeOverrides.
nlohmann::json sell_field(const DaemonTorrent& t, FieldContext& c);
nlohmann::json price_field(const DaemonTorrent& t, FieldContext& c);
nlohmann::json max_price_field(const DaemonTorrent& t, FieldContext& c);
nlohmann::json budget_field(const DaemonTorrent& t, FieldContext& c);
nlohmann::json overrides_field(const DaemonTorrent& t, FieldContext& c);

}  // namespace bttnode::daemon
