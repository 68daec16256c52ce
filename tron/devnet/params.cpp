#include "tron/devnet/params.hpp"

#include <stdexcept>
#include <utility>

namespace tron::devnet {

namespace {

// (name, member) pairs in the order java-tron lists them.
using Member = std::int64_t ChainParams::*;
const std::vector<std::pair<const char*, Member>>& table() {
  static const std::vector<std::pair<const char*, Member>> t = {
      {"getMaintenanceTimeInterval", &ChainParams::maintenance_time_interval},
      {"getCreateAccountFee", &ChainParams::create_account_fee},
      {"getTransactionFee", &ChainParams::transaction_fee},
      {"getAssetIssueFee", &ChainParams::asset_issue_fee},
      {"getCreateNewAccountFeeInSystemContract",
       &ChainParams::create_new_account_fee_in_system_contract},
      {"getCreateNewAccountBandwidthRate", &ChainParams::create_new_account_bandwidth_rate},
      {"getEnergyFee", &ChainParams::energy_fee},
      {"getTotalEnergyLimit", &ChainParams::total_energy_limit},
      {"getAllowTvmTransferTrc10", &ChainParams::allow_tvm_transfer_trc10},
      {"getFreeNetLimit", &ChainParams::free_net_limit},
      {"getTotalNetLimit", &ChainParams::total_net_limit},
      {"getMaxFeeLimit", &ChainParams::max_fee_limit},
  };
  return t;
}

}  // namespace

ChainParams ChainParams::from_json(const nlohmann::json& j) {
  ChainParams p;
  if (j.is_null()) return p;
  if (!j.is_object()) throw std::invalid_argument("chain parameters must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    bool found = false;
    for (const auto& [name, member] : table()) {
      if (key != name) continue;
      if (!value.is_number_integer()) {
        throw std::invalid_argument("chain parameter " + key + " must be an integer");
      }
      p.*member = value.get<std::int64_t>();
      found = true;
    }
    if (!found) throw std::invalid_argument("unknown chain parameter: " + key);
  }
  if (p.transaction_fee < 0 || p.free_net_limit < 0 || p.energy_fee <= 0 ||
      p.max_fee_limit < 0 || p.create_account_fee < 0 ||
      p.create_new_account_fee_in_system_contract < 0) {
    throw std::invalid_argument("chain parameters out of range (fees >= 0, getEnergyFee > 0)");
  }
  return p;
}

nlohmann::json ChainParams::to_chain_parameters() const {
  auto list = nlohmann::json::array();
  for (const auto& [name, member] : table()) {
    nlohmann::json entry = {{"key", name}};
    if (this->*member != 0) entry["value"] = this->*member;
    list.push_back(std::move(entry));
  }
  return list;
}

nlohmann::json ChainParams::to_json() const {
  auto j = nlohmann::json::object();
  for (const auto& [name, member] : table()) j[name] = this->*member;
  return j;
}

}  // namespace tron::devnet
