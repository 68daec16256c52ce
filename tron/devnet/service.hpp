#pragma once
// The java-tron HTTP API over a Chain: routes /wallet/* and /walletsolidity/* requests to
// handlers and renders java-tron's answers. Socket-free, so every reply can be tested without
// a network; the server feeds it requests from many connections at once (it locks).
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "tron/devnet/chain.hpp"

namespace tron::devnet {

struct ApiReply {
  int status = 200;
  std::string body;
};

class Service {
 public:
  using Clock = std::function<std::int64_t()>;  // ms since the epoch
  Service(Chain chain, Clock clock);

  // method "GET" or "POST"; target is the path with an optional ?query.
  ApiReply handle(const std::string& method, const std::string& target, const std::string& body);

  // Seals the pending transactions into a block; returns its number.
  std::int64_t seal();
  std::string state_json() const;  // the chain as a state file holds it
  std::int64_t head_number() const;
  std::size_t pending_count() const;
  void set_listen_port(int port) { listen_port_ = port; }

 private:
  struct Request {
    nlohmann::json params;  // body object or query parameters
    bool visible = false;
    bool solid = false;
  };
  using Handler = nlohmann::json (Service::*)(const Request&);
  struct Route {
    Handler handler;
    bool get;       // java-tron answers GET on this path
    bool solidity;  // also served under /walletsolidity/
  };
  static const std::map<std::string, Route>& routes();

  nlohmann::json get_now_block(const Request&);
  nlohmann::json get_block_by_num(const Request&);
  nlohmann::json get_block_by_id(const Request&);
  nlohmann::json get_block(const Request&);
  nlohmann::json get_block_by_latest_num(const Request&);
  nlohmann::json get_block_by_limit_next(const Request&);
  nlohmann::json get_account(const Request&);
  nlohmann::json get_account_resource(const Request&);
  nlohmann::json get_account_net(const Request&);
  nlohmann::json get_chain_parameters(const Request&);
  nlohmann::json get_asset_issue_by_id(const Request&);
  nlohmann::json get_asset_issue_list(const Request&);
  nlohmann::json create_transaction(const Request&);
  nlohmann::json transfer_asset(const Request&);
  nlohmann::json trigger_smart_contract(const Request&);
  nlohmann::json trigger_constant_contract(const Request&);
  nlohmann::json estimate_energy(const Request&);
  nlohmann::json get_contract(const Request&);
  nlohmann::json get_contract_info(const Request&);
  nlohmann::json broadcast_transaction(const Request&);
  nlohmann::json broadcast_hex(const Request&);
  nlohmann::json get_transaction_by_id(const Request&);
  nlohmann::json get_transaction_from_pending(const Request&);
  nlohmann::json get_transaction_list_from_pending(const Request&);
  nlohmann::json get_pending_size(const Request&);
  nlohmann::json get_transaction_info_by_id(const Request&);
  nlohmann::json get_transaction_info_by_block_num(const Request&);
  nlohmann::json get_node_info(const Request&);
  nlohmann::json get_bandwidth_prices(const Request&);
  nlohmann::json get_energy_prices(const Request&);

  // triggersmartcontract / triggerconstantcontract / estimateenergy share their parsing.
  struct Trigger {
    protocol::TriggerSmartContract contract;
    std::int64_t fee_limit = 0;
  };
  Trigger parse_trigger(const Request& r, bool constant) const;
  // A read-only call of the trigger's contract, as triggerconstantcontract and estimateenergy run
  // it.
  CallOutcome constant_call_of(const Trigger& t, bool solid) const;
  // The newest block a request sees: the head, or the solidified block under /walletsolidity/.
  std::int64_t top(const Request& r) const;
  const protocol::Block* block_upto(const Request& r, std::int64_t n) const;

  mutable std::mutex mu_;
  Chain chain_;
  Clock clock_;
  int listen_port_ = 0;
};

}  // namespace tron::devnet
