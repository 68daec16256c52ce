#pragma once
// How the devnet behaves as a chain: its block interval, how far the solidified block trails
// the head, and whether the genesis file's chain parameters or TRON mainnet's apply.
#include <cstdint>
#include <optional>
#include <string>

#include "tron/devnet/params.hpp"

namespace tron::devnet {

struct Profile {
  std::string name;
  std::int64_t block_ms = 3000;
  std::int64_t solid_lag = 0;         // blocks between the head and the solidified block
  std::optional<ChainParams> params;  // set: replaces the genesis file's chain parameters
};

// TRON mainnet's chain parameters as /wallet/getchainparameters reports them (energy at 100 sun
// since proposal 104 of August 2025; 210 sun before, 420 before September 2024).
ChainParams mainnet_params();

// "devnet": the genesis file's parameters, 3 s blocks, every block solid at once (the default);
// "mainnet": mainnet's parameters, 3 s blocks, the solidified block 19 behind the head, as on
// mainnet, where a block is solid once 19 of the 27 witnesses built on it.
// Throws std::invalid_argument for another name.
Profile profile_named(const std::string& name);

}  // namespace tron::devnet
