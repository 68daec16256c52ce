#pragma once
// The devnet's world state: TRON accounts (TRX, TRC-10 balances, free bandwidth windows), the
// TRC-10 asset it knows and the built-in TRC-20 token's ledger.
#include <cstdint>
#include <map>
#include <string>

#include <boost/multiprecision/cpp_int.hpp>
#include <nlohmann/json.hpp>

#include "tron/address.hpp"

namespace tron::devnet {

using U256 = boost::multiprecision::uint256_t;

struct Account {
  Address address;
  std::int64_t balance = 0;                    // sun
  std::map<std::string, std::int64_t> assets;  // TRC-10 id -> base units
  std::int64_t free_net_usage = 0;             // bytes, decayed over the 24 h window
  std::int64_t latest_consume_free_time = 0;   // slot (ms / 3000) of the last free use
  // TRX staked (Stake 2.0, sun) for bandwidth and for energy, and the staked resources used.
  std::int64_t staked_for_bandwidth = 0;
  std::int64_t staked_for_energy = 0;
  std::int64_t net_usage = 0;                       // bytes, decayed over 24 h
  std::int64_t latest_consume_time = 0;             // slot of the last staked bandwidth use
  std::int64_t energy_usage = 0;                    // energy, decayed over 24 h
  std::int64_t latest_consume_time_for_energy = 0;  // slot
  std::int64_t create_time = 0;                     // ms
  std::int64_t latest_operation_time = 0;           // ms
  bool is_contract = false;

  nlohmann::json to_state_json() const;
  static Account from_state_json(const nlohmann::json& j);
};

struct AssetIssue {
  std::string id;  // "1002000"
  std::string name, abbr, description, url;
  Address owner;
  int precision = 0;
  std::int64_t total_supply = 0;
  std::int64_t trx_num = 1, num = 1;
  std::int64_t start_time = 0, end_time = 0;
};

struct Trc20Token {
  Address contract;
  std::string name, symbol;
  int decimals = 18;
  U256 total_supply = 0;
  std::map<Address, U256> balances;  // zero balances are erased

  U256 balance_of(const Address& a) const {
    auto it = balances.find(a);
    return it == balances.end() ? U256(0) : it->second;
  }
};

struct WorldState {
  std::map<Address, Account> accounts;
  AssetIssue asset;
  Trc20Token token;

  const Account* find(const Address& a) const {
    auto it = accounts.find(a);
    return it == accounts.end() ? nullptr : &it->second;
  }
  // java-tron's TotalNetWeight / TotalEnergyWeight: whole TRX staked for each, network-wide.
  std::int64_t total_net_weight() const;
  std::int64_t total_energy_weight() const;
  nlohmann::json to_state_json() const;
  static WorldState from_state_json(const nlohmann::json& j);
};

// U256 as decimal text and back (throws std::invalid_argument).
std::string u256_to_string(const U256& v);
U256 u256_from_string(const std::string& s);

}  // namespace tron::devnet
