#include "wallet/fullnode_chain.hpp"

#include <algorithm>

namespace wallet {

tron::TxTiming FullNodeChain::timing() {
  return client_.timing(window_);
}

std::int64_t FullNodeChain::head_block_time() {
  return client_.now_block().timestamp;
}

BroadcastOutcome FullNodeChain::broadcast(const tron::Bytes& signed_tx) {
  tron::BroadcastResult r = client_.broadcast_hex(signed_tx);
  return {r.ok, r.code, r.message};
}

std::optional<TxStatus> FullNodeChain::lookup(const tron::Hash32& txid) {
  std::optional<tron::TxInfo> info = client_.transaction_info_by_id(txid);
  if (!info) return std::nullopt;
  std::string message = info->contract_result;
  if (!info->res_message.empty()) {
    message += (message.empty() ? "" : ": ") + info->res_message;
  }
  // java-tron leaves `fee` out when nothing was burned, which the client reads as 0.
  return TxStatus{info->block_number, info->success, message, info->fee};
}

tron::U256 FullNodeChain::balance(const tron::Address& owner, const tron::Token& token) {
  switch (token.kind) {
    case tron::Token::Kind::Trx:
      return std::max<std::int64_t>(0, client_.account(owner).trx);
    case tron::Token::Kind::Trc10: {
      auto acc = client_.account(owner);
      auto it = acc.trc10.find(token.asset_id);
      return it == acc.trc10.end() ? 0 : std::max<std::int64_t>(0, it->second);
    }
    case tron::Token::Kind::Trc20:
      return client_.trc20_balance(token.contract, owner);
  }
  return 0;
}

}  // namespace wallet
