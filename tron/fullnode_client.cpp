#include "tron/fullnode_client.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

#include "base/http_client.hpp"
#include "tron/abi.hpp"
#include "tron/fullnode_answers.hpp"
#include "tron/http_url.hpp"

namespace tron {

using nlohmann::json;

namespace {

constexpr std::chrono::milliseconds kMaxBackoff{30'000};

[[noreturn]] void invalid(std::string_view path, const std::string& why) {
  throw NodeError("INVALID_ANSWER", std::string(path) + ": " + why);
}

}  // namespace

struct FullNodeClient::Impl {
  FullNodeOptions options;
  HttpUrl url;
  base::http::BlockingClient connection;
  std::mutex mutex;  // one request at a time on the one connection

  explicit Impl(FullNodeOptions o)
      : options(std::move(o)),
        url(HttpUrl::parse(options.url)),
        connection(url.url(), client_options(options)) {
    if (options.retries < 0) throw std::invalid_argument("retries must not be negative");
    if (options.timeout.count() <= 0) throw std::invalid_argument("timeout must be positive");
  }

  static base::http::ClientOptions client_options(const FullNodeOptions& o) {
    base::http::ClientOptions c;
    c.extra_ca_file = o.ca_file;
    return c;
  }

  base::http::Request request(const std::string& target, const std::string& body) const {
    namespace bhttp = boost::beast::http;
    base::http::Request r{bhttp::verb::post, target, 11};
    r.set(bhttp::field::content_type, "application/json");
    r.set(bhttp::field::accept, "application/json");
    if (!options.api_key.empty()) r.set("TRON-PRO-API-KEY", options.api_key);
    r.body() = body;
    return r;
  }

  // Sends with retries on transport errors. `retried` tells whether an earlier attempt failed
  // in transit (so the node may have seen the request already).
  json post(std::string_view path, const json& body, bool* retried = nullptr) {
    const std::size_t limit = answers::size_limit(path);
    std::string target = url.prefix + std::string(path);
    std::string text = body.dump();
    std::lock_guard lock(mutex);
    base::http::Response response;
    auto delay = options.backoff;
    for (int attempt = 0;; ++attempt) {
      try {
        response = connection.request(request(target, text), options.timeout, limit);
        break;
      } catch (const base::http::TransportError& e) {
        using Kind = base::http::TransportError::Kind;
        if (e.kind == Kind::Malformed || e.kind == Kind::TooLarge) {
          invalid(path, e.what());
        }
        if (!e.retryable()) throw NodeError("TRANSPORT", e.what(), true);
        if (attempt >= options.retries) {
          throw NodeError("TRANSPORT",
                          std::string(e.what()) + " (" + std::to_string(attempt + 1) +
                              (attempt == 0 ? " attempt)" : " attempts)"),
                          true);
        }
        if (retried) *retried = true;
        std::this_thread::sleep_for(delay);
        delay = std::min(delay * 2, kMaxBackoff);
      }
    }

    return answers::parse_answer(path, response.result_int(), std::string(response.reason()),
                                 response.body(), limit);
  }
};

FullNodeClient::FullNodeClient(FullNodeOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FullNodeClient::~FullNodeClient() = default;

json FullNodeClient::post(std::string_view path, const json& body) {
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument("a node API path starts with '/', e.g. /wallet/getnowblock");
  }
  return impl_->post(path, body);
}

BlockRef FullNodeClient::now_block() {
  constexpr std::string_view path = "/wallet/getnowblock";
  return answers::block(path, impl_->post(path, json::object()));
}

json FullNodeClient::block_by_number(std::int64_t number) {
  constexpr std::string_view path = "/wallet/getblockbynum";
  if (number < 0) throw std::invalid_argument("block number must not be negative");
  json block = impl_->post(path, {{"num", number}});
  if (block.empty()) return block;  // no such block yet
  BlockRef ref = answers::block(path, block);
  if (ref.number != number) {
    invalid(path,
            "asked for block " + std::to_string(number) + ", got " + std::to_string(ref.number));
  }
  return block;
}

AccountBalances FullNodeClient::account(const Address& address) {
  constexpr std::string_view path = "/wallet/getaccount";
  return answers::account(path, impl_->post(path, {{"address", address.to_hex()}}), address);
}

json FullNodeClient::account_resource(const Address& address) {
  return impl_->post("/wallet/getaccountresource", {{"address", address.to_hex()}});
}

std::map<std::string, std::int64_t> FullNodeClient::chain_parameters() {
  constexpr std::string_view path = "/wallet/getchainparameters";
  return answers::chain_parameters(path, impl_->post(path, json::object()));
}

Bytes FullNodeClient::trigger_constant(const Address& owner, const Address& contract,
                                       std::string_view function_selector, const Bytes& parameter) {
  constexpr std::string_view path = "/wallet/triggerconstantcontract";
  json body = {{"owner_address", owner.to_hex()},
               {"contract_address", contract.to_hex()},
               {"function_selector", std::string(function_selector)}};
  if (!parameter.empty()) body["parameter"] = to_hex(parameter);
  return answers::constant_result(path, impl_->post(path, body), function_selector);
}

U256 FullNodeClient::trc20_balance(const Address& contract, const Address& owner) {
  Bytes call = abi::encode_balance_of(owner);
  Bytes parameter(call.begin() + 4, call.end());  // the node adds the selector itself
  Bytes result = trigger_constant(owner, contract, "balanceOf(address)", parameter);
  if (result.size() != 32) {
    invalid("/wallet/triggerconstantcontract",
            "balanceOf returned " + std::to_string(result.size()) + " bytes, not 32");
  }
  return abi::decode_uint256(result);
}

int FullNodeClient::trc20_decimals(const Address& contract) {
  Bytes result = trigger_constant(Address(), contract, "decimals()", {});
  if (result.size() != 32) {
    invalid("/wallet/triggerconstantcontract",
            "decimals returned " + std::to_string(result.size()) + " bytes, not 32");
  }
  U256 value = abi::decode_uint256(result);
  if (value > 255) invalid("/wallet/triggerconstantcontract", "decimals is not a uint8");
  return static_cast<int>(value);
}

BroadcastResult FullNodeClient::broadcast_hex(const Bytes& signed_transaction) {
  constexpr std::string_view path = "/wallet/broadcasthex";
  protocol::Transaction parsed;
  if (!parsed.ParseFromArray(signed_transaction.data(),
                             static_cast<int>(signed_transaction.size())) ||
      !parsed.has_raw_data()) {
    throw std::invalid_argument("broadcast: the bytes are not a serialized transaction");
  }
  std::string raw = parsed.raw_data().SerializeAsString();
  std::string txid = to_hex(sha256(as_bytes(raw)));

  bool retried = false;
  json answer = impl_->post(path, {{"transaction", to_hex(signed_transaction)}}, &retried);
  return answers::broadcast(path, answer, txid, retried);
}

std::optional<json> FullNodeClient::transaction_by_id(const Hash32& txid) {
  constexpr std::string_view path = "/wallet/gettransactionbyid";
  std::string id = to_hex(txid);
  return answers::transaction(path, impl_->post(path, {{"value", id}}), id);
}

std::optional<TxInfo> FullNodeClient::transaction_info_by_id(const Hash32& txid) {
  constexpr std::string_view path = "/wallet/gettransactioninfobyid";
  std::string id = to_hex(txid);
  return answers::transaction_info(path, impl_->post(path, {{"value", id}}), id);
}

TxTiming FullNodeClient::timing(std::chrono::milliseconds window) {
  BlockRef block = now_block();
  // The local clock sets the timestamp, so that two equal payments made within one block
  // interval still differ; it never goes below the node's own time.
  std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  return TxTiming::from_block_id(block.id, std::max(now, block.timestamp),
                                 block.timestamp + window.count());
}

}  // namespace tron
