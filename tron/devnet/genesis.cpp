#include "tron/devnet/genesis.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tron/hashes.hpp"

namespace tron::devnet {

using nlohmann::json;

namespace {

std::int64_t int_field(const json& j, const char* name, std::int64_t fallback) {
  if (!j.contains(name)) return fallback;
  const auto& v = j.at(name);
  if (!v.is_number_integer())
    throw std::invalid_argument(std::string(name) + " must be an integer");
  return v.get<std::int64_t>();
}

std::string str_field(const json& j, const char* name, const std::string& fallback = "") {
  if (!j.contains(name)) return fallback;
  if (!j.at(name).is_string()) throw std::invalid_argument(std::string(name) + " must be a string");
  return j.at(name).get<std::string>();
}

U256 u256_field(const json& j, const char* name) {
  if (!j.contains(name)) return 0;
  const auto& v = j.at(name);
  if (v.is_number_unsigned()) return U256(v.get<std::uint64_t>());
  if (v.is_string()) return u256_from_string(v.get<std::string>());
  throw std::invalid_argument(std::string(name) + " must be a decimal string or an integer");
}

Address address_field(const json& j, const char* name) {
  return Address::from_string(str_field(j, name));
}

}  // namespace

Genesis Genesis::from_json(const json& j) {
  if (!j.is_object()) throw std::invalid_argument("genesis must be a JSON object");
  Genesis g;
  g.chain_name = str_field(j, "chain_name", g.chain_name);
  g.timestamp = int_field(j, "timestamp", 0);
  if (j.contains("parent_hash")) {
    g.parent_hash = from_hex(str_field(j, "parent_hash"));
    if (g.parent_hash.size() != 32) throw std::invalid_argument("parent_hash must be 32 bytes");
  }
  if (!j.contains("witness")) throw std::invalid_argument("genesis needs a witness");
  g.witness = PrivateKey::from_hex(str_field(j.at("witness"), "private_key"));
  g.params = ChainParams::from_json(j.value("chain_parameters", json::object()));

  const json& t10 = j.at("trc10");
  AssetIssue& a = g.state.asset;
  a.id = str_field(t10, "id");
  if (a.id.empty() || a.id.find_first_not_of("0123456789") != std::string::npos) {
    throw std::invalid_argument("trc10.id must be ASCII digits");
  }
  a.name = str_field(t10, "name");
  a.abbr = str_field(t10, "abbr");
  a.description = str_field(t10, "description");
  a.url = str_field(t10, "url");
  a.owner = address_field(t10, "owner_address");
  a.precision = static_cast<int>(int_field(t10, "precision", 0));
  a.total_supply = int_field(t10, "total_supply", 0);
  a.start_time = int_field(t10, "start_time", 0);
  a.end_time = int_field(t10, "end_time", 0);

  const json& t20 = j.at("trc20");
  Trc20Token& tok = g.state.token;
  tok.contract = address_field(t20, "contract_address");
  tok.name = str_field(t20, "name");
  tok.symbol = str_field(t20, "symbol");
  tok.decimals = static_cast<int>(int_field(t20, "decimals", 18));
  tok.total_supply = u256_field(t20, "total_supply");

  U256 assigned = 0;
  for (const auto& entry : j.at("accounts")) {
    Account acct;
    if (entry.contains("address")) {
      acct.address = address_field(entry, "address");
    } else {
      acct.address = PrivateKey::from_hex(str_field(entry, "private_key")).address();
    }
    if (entry.contains("private_key") &&
        PrivateKey::from_hex(str_field(entry, "private_key")).address() != acct.address) {
      throw std::invalid_argument("account " + acct.address.to_base58() +
                                  ": private_key does not match address");
    }
    acct.balance = int_field(entry, "trx", 0);
    // TRX staked for resources (Stake 2.0), apart from the balance, in sun.
    acct.staked_for_bandwidth = int_field(entry, "staked_for_bandwidth", 0);
    acct.staked_for_energy = int_field(entry, "staked_for_energy", 0);
    if (acct.staked_for_bandwidth < 0 || acct.staked_for_energy < 0) {
      throw std::invalid_argument("stakes must be >= 0");
    }
    std::int64_t trc10 = int_field(entry, "trc10", 0);
    if (acct.balance < 0 || trc10 < 0) throw std::invalid_argument("balances must be >= 0");
    if (trc10 > 0) acct.assets[a.id] = trc10;
    acct.create_time = g.timestamp;
    U256 trc20 = u256_field(entry, "trc20");
    if (trc20 > 0) {
      tok.balances[acct.address] = trc20;
      assigned += trc20;
    }
    if (!g.state.accounts.emplace(acct.address, acct).second) {
      throw std::invalid_argument("account listed twice: " + acct.address.to_base58());
    }
  }
  if (assigned > tok.total_supply) {
    throw std::invalid_argument("trc20 balances exceed trc20.total_supply");
  }
  // The rest of the supply sits with the token contract itself, so totalSupply adds up.
  if (tok.total_supply > assigned) tok.balances[tok.contract] += tok.total_supply - assigned;
  // The token contract is an account of type Contract.
  Account& contract = g.state.accounts[tok.contract];
  contract.address = tok.contract;
  contract.is_contract = true;
  contract.create_time = g.timestamp;

  std::string canonical = j.dump();
  g.fingerprint_ = to_hex(sha256(as_bytes(canonical)));
  return g;
}

Genesis Genesis::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read genesis file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) throw std::invalid_argument("genesis file " + path + " is not valid JSON");
  try {
    return from_json(j);
  } catch (const json::exception& e) {
    throw std::invalid_argument("genesis file " + path + ": " + e.what());
  }
}

}  // namespace tron::devnet
