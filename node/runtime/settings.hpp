#pragma once
// Every setting of a node in one struct and one table: the session's (p2p), btt_pay's, and
// the node's own. A config file (--config), the command line and the control API read the
// same table; the defaults are the member initialisers.
#include <chrono>

#include "base/settings.hpp"
#include "node/pay/buyer.hpp"
#include "node/pay/seller.hpp"
#include "node/pay/verifier.hpp"
#include "p2p/session/session.hpp"

namespace bttnode {

struct NodeSettings {
  // A node finds peers on its local network too and dials uTP first (a library session does
  // neither by default).
  p2p::SessionSettings session = [] {
    p2p::SessionSettings s;
    s.enable_lsd = true;
    s.enable_utp = true;
    return s;
  }();
  pay::SellerSettings sell;
  pay::BuyerSettings buy;
  pay::VerifierOptions verifier;
  // Requests to the full node for payments: payments are retried by the payment layer itself,
  // so each request is kept short.
  std::chrono::milliseconds chain_timeout{5000};
  int chain_retries = 1;
  // After a download, how long the payments owed to seeders may take before the node leaves.
  std::chrono::seconds settle_on_exit{45};
};

const base::SettingsTable<NodeSettings>& node_settings_table();

// The settings a command's flags may set: `names` picked from the table.
std::vector<const base::SettingsTable<NodeSettings>::Entry*> node_settings(
    std::initializer_list<const char*> names);

}  // namespace bttnode
