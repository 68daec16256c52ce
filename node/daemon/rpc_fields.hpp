#pragma once
// torrent-get's fields by Transmission's names (and bttnode's own), each a function of one
// torrent. Integers are JSON integers and ratios JSON reals, as Transmission's clients
// look them up.
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "node/daemon/daemon.hpp"
#include "p2p/torrent/accounting.hpp"

namespace bttnode::daemon {

// What one torrent-get computes once for all its torrents.
struct FieldContext {
  Daemon& daemon;
  std::time_t now;
  // From the payment ledgers, read on the first payment field asked for. Keyed by hex
  // info hash; amounts in the token's base units.
  struct Money {
    std::map<std::string, tron::U256> earned, spent;  // by token
    std::set<std::string> payers;                     // addresses that paid
  };
  std::optional<std::map<std::string, Money>> money;
};

using FieldGetter = nlohmann::json (*)(const DaemonTorrent&, FieldContext&);
// nullptr for a name it does not know (Transmission leaves those out).
FieldGetter field_getter(std::string_view name);

std::string torrent_name(const DaemonTorrent& t);
std::int64_t left_until_done(const DaemonTorrent& t);
// Transmission's ratio: uploaded over downloaded (or over the data had, for a torrent added
// complete); -1 none, -2 infinite.
double upload_ratio(const DaemonTorrent& t);
std::string magnet_link(const DaemonTorrent& t);
// One entry of `peers`, as Transmission gives it (flagStr, isUTP, isEncrypted...).
nlohmann::json peer_fields(const p2p::PeerStats& p);

}  // namespace bttnode::daemon
