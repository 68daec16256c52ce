#pragma once
// A client of a TRON full node's HTTP API (java-tron /wallet/...), over HTTP or HTTPS.
// Transport errors are retried with backoff; errors the node itself answers are not, and
// carry the node's own code and message.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "tron/address.hpp"
#include "tron/transaction.hpp"

namespace tron {

struct NodeError : std::runtime_error {
  // The node's code ("SIGERROR", "TAPOS_ERROR", "CONTRACT_VALIDATE_ERROR", ...), "HTTP <status>"
  // for an HTTP-level refusal, or "TRANSPORT" when the node could not be reached.
  std::string code;
  bool transport = false;
  NodeError(std::string code, const std::string& message, bool transport = false)
      : std::runtime_error(code + ": " + message), code(std::move(code)), transport(transport) {}
};

struct FullNodeOptions {
  std::string url;      // http://host:port or https://host[:port], optional path prefix
  std::string api_key;  // sent as TRON-PRO-API-KEY when set
  std::chrono::milliseconds timeout{10'000};
  int retries = 3;  // extra attempts after a transport error
  std::chrono::milliseconds backoff{200};  // doubled after each failed attempt
  std::string ca_file;  // extra trusted CA certificates (PEM) besides the system store
};

struct BlockRef {
  std::int64_t number = 0;
  Bytes id;  // 32 bytes
  std::int64_t timestamp = 0;
};

struct AccountBalances {
  bool exists = false;
  std::int64_t trx = 0;                          // sun
  std::map<std::string, std::int64_t> trc10;  // asset id -> base units
};

struct BroadcastResult {
  bool ok = false;
  std::string code;     // "SUCCESS" or the node's error code
  std::string message;  // decoded to text
  std::string txid;
};

struct TxInfo {
  std::int64_t block_number = 0;
  std::int64_t block_timestamp = 0;
  std::int64_t fee = 0;
  bool success = false;         // result is not FAILED and the contract did not revert
  std::string contract_result;  // receipt.result, e.g. "SUCCESS", "REVERT"
  std::string res_message;      // decoded to text
  nlohmann::json raw;           // the node's whole answer
};

// One kept-alive connection per client. Calls from several threads are safe but take turns
// on that connection; for parallel requests, use one client per thread.
class FullNodeClient {
 public:
  explicit FullNodeClient(FullNodeOptions options);
  ~FullNodeClient();
  FullNodeClient(const FullNodeClient&) = delete;
  FullNodeClient& operator=(const FullNodeClient&) = delete;

  // POSTs JSON to a path such as "/wallet/getnowblock" and returns the parsed answer.
  // Throws NodeError: TRANSPORT after the retries, HTTP <status>, or the node's "Error" field.
  nlohmann::json post(std::string_view path, const nlohmann::json& body);

  BlockRef now_block();
  nlohmann::json block_by_number(std::int64_t number);
  AccountBalances account(const Address& address);
  nlohmann::json account_resource(const Address& address);
  std::map<std::string, std::int64_t> chain_parameters();
  // Calls a view function; returns constant_result[0] as bytes. Throws NodeError on a revert.
  Bytes trigger_constant(const Address& owner, const Address& contract,
                         std::string_view function_selector, const Bytes& parameter);
  U256 trc20_balance(const Address& contract, const Address& owner);
  int trc20_decimals(const Address& contract);
  // Sends a signed transaction. A refusal by the node is a result with ok=false, not a throw.
  BroadcastResult broadcast_hex(const Bytes& signed_transaction);
  // nullopt until the transaction is in a block (the node answers {}).
  std::optional<nlohmann::json> transaction_by_id(const Hash32& txid);
  std::optional<TxInfo> transaction_info_by_id(const Hash32& txid);
  // TAPOS from the node's current block, expiration `window` after its timestamp.
  TxTiming timing(std::chrono::milliseconds window = std::chrono::seconds(60));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tron
