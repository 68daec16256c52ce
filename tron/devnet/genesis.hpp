#pragma once
// The devnet's genesis file (configs/devnet-genesis.json): chain identity, chain parameters,
// the block-producing witness, the TRC-10 asset, the built-in TRC-20 token and funded accounts.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tron/devnet/params.hpp"
#include "tron/devnet/state.hpp"
#include "tron/hex.hpp"
#include "tron/keys.hpp"

namespace tron::devnet {

struct Genesis {
  std::string chain_name = "bttnode-devnet";
  std::int64_t timestamp = 0;  // ms, block 0
  Bytes parent_hash = Bytes(32, 0);
  std::optional<PrivateKey> witness;  // signs the devnet's blocks
  ChainParams params;
  WorldState state;  // accounts, asset, token with their initial balances

  // Throws std::invalid_argument naming the offending field.
  static Genesis from_json(const nlohmann::json& j);
  static Genesis load(const std::string& path);
  // A hash of the canonical JSON, recorded in state files so a state is never loaded over a
  // different genesis.
  std::string fingerprint() const { return fingerprint_; }

 private:
  std::string fingerprint_;
};

}  // namespace tron::devnet
