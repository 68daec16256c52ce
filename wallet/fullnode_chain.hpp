#pragma once
// The payment executor's chain, over a TRON full node's HTTP API.
#include <chrono>

#include "tron/fullnode_client.hpp"
#include "wallet/chain.hpp"

namespace wallet {

class FullNodeChain : public Chain {
 public:
  explicit FullNodeChain(tron::FullNodeClient& client,
                         std::chrono::milliseconds expiration_window = std::chrono::seconds(60))
      : client_(client), window_(expiration_window) {}

  tron::TxTiming timing() override;
  std::int64_t head_block_time() override;
  BroadcastOutcome broadcast(const tron::Bytes& signed_tx) override;
  std::optional<TxStatus> lookup(const tron::Hash32& txid) override;
  tron::U256 balance(const tron::Address& owner, const tron::Token& token) override;

 private:
  tron::FullNodeClient& client_;
  std::chrono::milliseconds window_;
};

}  // namespace wallet
