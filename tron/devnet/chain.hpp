#pragma once
// The devnet ledger: genesis, blocks, pending transactions and the world state, with
// java-tron's checks on broadcast. Not thread-safe: the server serializes access.
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "tron/devnet/genesis.hpp"
#include "tron/devnet/trc20.hpp"
#include "tron/proto/api.pb.h"
#include "tron/proto/contract.pb.h"
#include "tron/proto/tron.pb.h"

namespace tron::devnet {

// java-tron's ContractValidateException: the message is what the node reports.
struct ContractValidateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct BroadcastOutcome {
  protocol::Return::response_code code = protocol::Return::SUCCESS;
  std::string message;  // plain text; the HTTP layer hex-encodes it as java-tron does
  Hash32 txid{};
  bool ok() const { return code == protocol::Return::SUCCESS; }
};

// The contract of a transaction, decoded. Exactly one of the pointers is set.
struct DecodedContract {
  protocol::Transaction::Contract::ContractType type{};
  std::optional<protocol::TransferContract> transfer;
  std::optional<protocol::TransferAssetContract> transfer_asset;
  std::optional<protocol::TriggerSmartContract> trigger;
  Address owner;

  // Throws ContractValidateError for a type the devnet does not run or a bad parameter.
  static DecodedContract decode(const protocol::Transaction::Contract& c);
};

Hash32 transaction_id(const protocol::Transaction& tx);

class Chain {
 public:
  explicit Chain(Genesis genesis);

  const Genesis& genesis() const { return genesis_; }
  const ChainParams& params() const { return genesis_.params; }

  // java-tron's Wallet.broadcastTransaction: checks in its order, then runs the transaction
  // against the pending state. Accepted transactions wait for the next seal().
  BroadcastOutcome broadcast(const protocol::Transaction& tx);
  // Seals pending transactions into a new block stamped max(now_ms, head + 1).
  const protocol::Block& seal(std::int64_t now_ms);

  std::int64_t head_number() const { return static_cast<std::int64_t>(blocks_.size()) - 1; }
  const protocol::Block& head() const { return blocks_.back(); }
  std::int64_t head_timestamp() const { return head().block_header().raw_data().timestamp(); }
  const protocol::Block* block(std::int64_t number) const;
  const protocol::Block* block_by_id(const Hash32& id) const;
  const Hash32& block_id(std::int64_t number) const { return ids_.at(number); }
  std::size_t pending_count() const { return pending_.size(); }
  std::size_t transaction_count() const { return tx_index_.size(); }

  // The solidified block trails the head by `blocks` (java-tron's mainnet: 19, as 2/3 of its 27
  // witnesses must build on a block); 0 makes the head solid at once.
  void set_solid_lag(std::int64_t blocks);
  std::int64_t solid_lag() const { return solid_lag_; }
  // The newest solidified block: what /walletsolidity/ answers as of.
  std::int64_t solid_number() const {
    return head_number() - static_cast<std::int64_t>(snapshots_.size()) + 1;
  }

  // solid=false: the state with pending transactions applied (what /wallet/ reads);
  // solid=true: the state as of the solidified block (/walletsolidity/).
  const WorldState& state(bool solid = false) const { return solid ? snapshots_.front() : state_; }

  // Only transactions already in a block are found; with solid=true only those in a
  // solidified block.
  const protocol::Transaction* find_transaction(const Hash32& txid, bool solid = false) const;
  // A transaction accepted but not sealed yet (java-tron's pending pool), or null.
  const protocol::Transaction* find_pending(const Hash32& txid) const;
  std::vector<Hash32> pending_ids() const;
  const protocol::TransactionInfo* find_info(const Hash32& txid, bool solid = false) const;

  // An unsigned transaction referencing the head block, expiring 60 s after it, as java-tron's
  // createtransaction / transferasset / triggersmartcontract build them.
  protocol::Transaction make_transaction(protocol::Transaction::Contract::ContractType type,
                                         const google::protobuf::Message& parameter,
                                         std::int64_t now_ms, std::int64_t fee_limit = 0) const;
  // The actuator checks java-tron runs when it builds a transfer (pending state).
  void validate_contract(const DecodedContract& c) const;
  // A view call against the pending state (solid=false) or the solidified one. Throws
  // ContractValidateError if `contract` is not the built-in token.
  CallOutcome constant_call(const Address& owner, const Address& contract, const Bytes& data,
                            std::int64_t call_value, bool solid = false) const;

  // The whole chain for a state file, and back. from_state_json throws std::invalid_argument
  // when the file belongs to another genesis or is damaged.
  nlohmann::json to_state_json() const;
  static Chain from_state_json(Genesis genesis, const nlohmann::json& j);

 private:
  struct Pending {
    protocol::Transaction tx;
    protocol::TransactionInfo info;
  };
  struct Location {
    std::int64_t block;
    int index;
  };

  void append_block(protocol::Block block, std::vector<protocol::TransactionInfo> infos);
  std::int64_t head_slot() const;
  bool tapos_ok(const protocol::Transaction::raw& raw) const;
  std::optional<std::string> check_signature(const protocol::Transaction& tx,
                                             const Hash32& txid) const;

  Genesis genesis_;
  WorldState state_;
  // The state after each of the last solid_lag_ + 1 blocks, oldest (the solidified one) first.
  std::deque<WorldState> snapshots_;
  std::int64_t solid_lag_ = 0;
  std::vector<protocol::Block> blocks_;
  std::vector<Hash32> ids_;
  std::unordered_map<std::string, Location> tx_index_;  // txid bytes -> place in a block
  std::unordered_map<std::string, protocol::TransactionInfo> infos_;
  std::vector<Pending> pending_;
  std::unordered_set<std::string> pending_ids_;
};

}  // namespace tron::devnet
