#pragma once
// Shared helpers of the devnet tests: the genesis, its public test keys and signed transfers.
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tron/devnet/chain.hpp"
#include "tron/devnet/genesis.hpp"
#include "tron/keys.hpp"
#include "tron/proto/contract.pb.h"

namespace tron::devnet::testing {

inline const std::string kGenesisPath =
    std::string(BTTNODE_SOURCE_DIR) + "/configs/devnet-genesis.json";

inline Genesis test_genesis() { return Genesis::load(kGenesisPath); }

// The public test key of a genesis account ("alice", "bob", ...).
inline PrivateKey key_of(const std::string& name) {
  std::ifstream in(kGenesisPath);
  nlohmann::json g = nlohmann::json::parse(in);
  for (const auto& a : g["accounts"]) {
    if (a["name"] == name) return PrivateKey::from_hex(a["private_key"].get<std::string>());
  }
  throw std::invalid_argument("no account " + name);
}

inline std::string raw(const Address& a) { return std::string(a.raw().begin(), a.raw().end()); }

inline void sign(protocol::Transaction& tx, const PrivateKey& key) {
  Signature s = key.sign_digest(transaction_id(tx));
  tx.add_signature(std::string(s.begin(), s.end()));
}

inline protocol::Transaction trx_transfer(const Chain& chain, const PrivateKey& from,
                                          const Address& to, std::int64_t amount,
                                          std::int64_t now_ms = 1) {
  protocol::TransferContract c;
  c.set_owner_address(raw(from.address()));
  c.set_to_address(raw(to));
  c.set_amount(amount);
  auto tx = chain.make_transaction(protocol::Transaction::Contract::TransferContract, c, now_ms);
  sign(tx, from);
  return tx;
}

inline protocol::Transaction trc10_transfer(const Chain& chain, const PrivateKey& from,
                                            const Address& to, std::int64_t amount,
                                            const std::string& asset = "1002000") {
  protocol::TransferAssetContract c;
  c.set_owner_address(raw(from.address()));
  c.set_to_address(raw(to));
  c.set_amount(amount);
  c.set_asset_name(asset);
  auto tx =
      chain.make_transaction(protocol::Transaction::Contract::TransferAssetContract, c, 1);
  sign(tx, from);
  return tx;
}

inline protocol::Transaction trc20_transfer(const Chain& chain, const PrivateKey& from,
                                            const Address& to, const U256& amount,
                                            std::int64_t fee_limit = 100'000'000) {
  protocol::TriggerSmartContract c;
  c.set_owner_address(raw(from.address()));
  c.set_contract_address(raw(chain.state().token.contract));
  Bytes data = {0xa9, 0x05, 0x9c, 0xbb};
  Bytes to_word(32, 0);
  std::copy(to.evm().begin(), to.evm().end(), to_word.begin() + 12);
  data.insert(data.end(), to_word.begin(), to_word.end());
  Bytes amount_word = abi_word(amount);
  data.insert(data.end(), amount_word.begin(), amount_word.end());
  c.set_data(std::string(data.begin(), data.end()));
  auto tx = chain.make_transaction(protocol::Transaction::Contract::TriggerSmartContract, c, 1,
                                   fee_limit);
  sign(tx, from);
  return tx;
}

inline Address fresh_address() { return PrivateKey::generate().address(); }

}  // namespace tron::devnet::testing
