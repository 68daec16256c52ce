#pragma once
// What the payment executor needs from a TRON chain. FullNodeChain implements it over a
// full node's HTTP API; tests implement it with a fake chain.
//
// Methods may throw (e.g. tron::NodeError when the node cannot be reached); the executor
// treats a throw as "unknown" and never as a fact about the chain.
#include <cstdint>
#include <optional>
#include <string>

#include "tron/address.hpp"
#include "tron/hashes.hpp"
#include "tron/hex.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"

namespace wallet {

struct BroadcastOutcome {
  bool accepted = false;  // the node took the transaction
  std::string code;       // "SUCCESS", "DUP_TRANSACTION_ERROR", "TAPOS_ERROR", ...
  std::string message;
};

inline constexpr const char* kDuplicateCode = "DUP_TRANSACTION_ERROR";

struct TxStatus {
  std::int64_t block_number = 0;
  bool success = false;  // false: in a block but failed (e.g. a TRC-20 revert)
  std::string message;
  std::optional<std::int64_t> fee;  // TRX (sun) it burned, when the chain says
};

class Chain {
 public:
  virtual ~Chain() = default;
  // TAPOS reference and expiration for a new transaction.
  virtual tron::TxTiming timing() = 0;
  // Timestamp (ms) of the newest block: the clock expirations are judged by.
  virtual std::int64_t head_block_time() = 0;
  virtual BroadcastOutcome broadcast(const tron::Bytes& signed_tx) = 0;
  // nullopt while the transaction is not in a block.
  virtual std::optional<TxStatus> lookup(const tron::Hash32& txid) = 0;
  // Balance in base units of the token.
  virtual tron::U256 balance(const tron::Address& owner, const tron::Token& token) = 0;
};

}  // namespace wallet
