#include "tron/devnet/profile.hpp"

#include <stdexcept>

namespace tron::devnet {

ChainParams mainnet_params() {
  ChainParams p;
  p.transaction_fee = 1000;
  p.free_net_limit = 600;
  p.create_account_fee = 100'000;
  p.create_new_account_fee_in_system_contract = 1'000'000;
  p.energy_fee = 100;
  p.max_fee_limit = 15'000'000'000;
  p.total_net_limit = 43'200'000'000;
  p.total_energy_limit = 180'000'000'000;
  p.maintenance_time_interval = 21'600'000;
  p.asset_issue_fee = 1'024'000'000;
  p.create_new_account_bandwidth_rate = 1;
  p.allow_tvm_transfer_trc10 = 1;
  return p;
}

Profile profile_named(const std::string& name) {
  Profile p;
  p.name = name;
  if (name == "devnet") return p;
  if (name == "mainnet") {
    p.block_ms = 3000;
    p.solid_lag = 19;
    p.params = mainnet_params();
    return p;
  }
  throw std::invalid_argument("unknown profile '" + name + "' (devnet or mainnet)");
}

}  // namespace tron::devnet
