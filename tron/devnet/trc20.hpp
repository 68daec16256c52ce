#pragma once
// The devnet's built-in TRC-20 token, executed natively instead of by a VM: transfer,
// balanceOf, decimals, symbol, name, totalSupply, with Solidity's ABI, its Transfer event and
// Error(string) reverts, and energy figures close to a compiled OpenZeppelin ERC-20's.
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "tron/devnet/state.hpp"
#include "tron/hashes.hpp"
#include "tron/hex.hpp"

namespace tron::devnet {

struct VmLog {
  Address contract;
  std::vector<Hash32> topics;
  Bytes data;
};

struct CallOutcome {
  bool success = false;  // false: the call reverted
  Bytes output;          // return data, or revert data (Error(string) or empty)
  std::vector<VmLog> logs;
  std::int64_t energy = 0;  // energy the call uses
};

// Energy of a transfer to a holder with a balance, to a fresh holder, of a revert and of a view.
inline constexpr std::int64_t kTransferEnergy = 14'650;
inline constexpr std::int64_t kTransferNewHolderEnergy = 29'650;
inline constexpr std::int64_t kRevertEnergy = 580;
inline constexpr std::int64_t kViewEnergy = 540;

// keccak256("Transfer(address,address,uint256)")
Hash32 transfer_topic();

// Runs `data` from `caller`. With commit=false nothing changes (used to price a call before
// running it, and for constant calls); with commit=true a successful transfer moves balances.
CallOutcome trc20_call(Trc20Token& token, const Address& caller, const Bytes& data,
                       std::int64_t call_value, bool commit);

// Error(string) revert data, as Solidity's require(cond, reason) produces.
Bytes revert_reason(const std::string& reason);

// The token's ABI in java-tron's getcontract form ({"entrys": [...]}).
nlohmann::json trc20_abi();

// 32-byte big-endian word.
Bytes abi_word(const U256& v);

}  // namespace tron::devnet
