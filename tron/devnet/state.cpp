#include "tron/devnet/state.hpp"

#include <stdexcept>

namespace tron::devnet {

using nlohmann::json;

std::string u256_to_string(const U256& v) {
  return v.str();
}

U256 u256_from_string(const std::string& s) {
  if (s.empty() || s.size() > 78 || s.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("not a decimal uint256: '" + s + "'");
  }
  boost::multiprecision::cpp_int wide(s);
  if (wide > boost::multiprecision::cpp_int(std::numeric_limits<U256>::max())) {
    throw std::invalid_argument("uint256 out of range: " + s);
  }
  return U256(wide);
}

json Account::to_state_json() const {
  json j = {{"address", address.to_hex()},
            {"balance", balance},
            {"free_net_usage", free_net_usage},
            {"latest_consume_free_time", latest_consume_free_time},
            {"staked_for_bandwidth", staked_for_bandwidth},
            {"staked_for_energy", staked_for_energy},
            {"net_usage", net_usage},
            {"latest_consume_time", latest_consume_time},
            {"energy_usage", energy_usage},
            {"latest_consume_time_for_energy", latest_consume_time_for_energy},
            {"create_time", create_time},
            {"latest_operation_time", latest_operation_time},
            {"is_contract", is_contract}};
  j["assets"] = json::object();
  for (const auto& [id, amount] : assets) j["assets"][id] = amount;
  return j;
}

Account Account::from_state_json(const json& j) {
  Account a;
  a.address = Address::from_string(j.at("address").get<std::string>());
  a.balance = j.at("balance").get<std::int64_t>();
  a.free_net_usage = j.value("free_net_usage", std::int64_t{0});
  a.latest_consume_free_time = j.value("latest_consume_free_time", std::int64_t{0});
  a.staked_for_bandwidth = j.value("staked_for_bandwidth", std::int64_t{0});
  a.staked_for_energy = j.value("staked_for_energy", std::int64_t{0});
  a.net_usage = j.value("net_usage", std::int64_t{0});
  a.latest_consume_time = j.value("latest_consume_time", std::int64_t{0});
  a.energy_usage = j.value("energy_usage", std::int64_t{0});
  a.latest_consume_time_for_energy = j.value("latest_consume_time_for_energy", std::int64_t{0});
  a.create_time = j.value("create_time", std::int64_t{0});
  a.latest_operation_time = j.value("latest_operation_time", std::int64_t{0});
  a.is_contract = j.value("is_contract", false);
  if (j.contains("assets")) {
    for (const auto& [id, amount] : j.at("assets").items())
      a.assets[id] = amount.get<std::int64_t>();
  }
  return a;
}

std::int64_t WorldState::total_net_weight() const {
  std::int64_t sum = 0;
  for (const auto& [a, acct] : accounts) sum += acct.staked_for_bandwidth / 1'000'000;
  return sum;
}

std::int64_t WorldState::total_energy_weight() const {
  std::int64_t sum = 0;
  for (const auto& [a, acct] : accounts) sum += acct.staked_for_energy / 1'000'000;
  return sum;
}

json WorldState::to_state_json() const {
  json j;
  j["accounts"] = json::array();
  for (const auto& [addr, acct] : accounts) j["accounts"].push_back(acct.to_state_json());
  json balances = json::object();
  for (const auto& [addr, amount] : token.balances)
    balances[addr.to_hex()] = u256_to_string(amount);
  j["trc20_balances"] = std::move(balances);
  j["trc20_total_supply"] = u256_to_string(token.total_supply);
  return j;
}

// Asset and token metadata come from the genesis file; only balances are state.
WorldState WorldState::from_state_json(const json& j) {
  WorldState s;
  for (const auto& a : j.at("accounts")) {
    Account acct = Account::from_state_json(a);
    s.accounts[acct.address] = std::move(acct);
  }
  for (const auto& [addr, amount] : j.at("trc20_balances").items()) {
    s.token.balances[Address::from_string(addr)] = u256_from_string(amount.get<std::string>());
  }
  s.token.total_supply = u256_from_string(j.at("trc20_total_supply").get<std::string>());
  return s;
}

}  // namespace tron::devnet
