#pragma once
// Chain parameters of the devnet, named as java-tron's /wallet/getchainparameters names them.
// Every fee and limit the devnet applies is read from here.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tron::devnet {

struct ChainParams {
  std::int64_t transaction_fee = 1000;  // getTransactionFee: sun per bandwidth byte
  std::int64_t free_net_limit = 600;    // getFreeNetLimit: free bytes per account per day
  std::int64_t create_account_fee = 100'000;  // getCreateAccountFee: bandwidth-stage fee, sun
  std::int64_t create_new_account_fee_in_system_contract = 1'000'000;  // sun
  std::int64_t energy_fee = 100;  // getEnergyFee: sun per energy unit
  std::int64_t max_fee_limit = 15'000'000'000;  // getMaxFeeLimit: sun
  std::int64_t total_net_limit = 43'200'000'000;
  std::int64_t total_energy_limit = 180'000'000'000;
  std::int64_t maintenance_time_interval = 21'600'000;
  std::int64_t asset_issue_fee = 1'024'000'000;
  std::int64_t create_new_account_bandwidth_rate = 1;
  std::int64_t allow_tvm_transfer_trc10 = 1;

  // Reads known keys from {"getTransactionFee": 1000, ...}; unknown keys are an error so a
  // typo in the genesis file does not pass silently. Throws std::invalid_argument.
  static ChainParams from_json(const nlohmann::json& j);
  // The list as getchainparameters answers it: [{"key": ..., "value": ...}], zero values
  // without "value" (proto3 JSON leaves defaults out).
  nlohmann::json to_chain_parameters() const;
  nlohmann::json to_json() const;  // {"getTransactionFee": 1000, ...}
};

}  // namespace tron::devnet
