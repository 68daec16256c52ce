#include "tron/fullnode_client.hpp"

#include <algorithm>
#include <mutex>
#include <thread>

#include "tron/abi.hpp"
#include "tron/http_connection.hpp"
#include "tron/http_url.hpp"

namespace tron {

using nlohmann::json;

namespace {

constexpr std::string_view kInvalid = "INVALID_ANSWER";
constexpr std::chrono::milliseconds kMaxBackoff{30'000};

// A short printable excerpt of an answer, for error messages.
std::string excerpt(std::string_view text) {
  constexpr std::size_t kMax = 200;
  std::string out;
  for (char c : text.substr(0, kMax)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  if (text.size() > kMax) out += "...";
  return out;
}

[[noreturn]] void invalid(std::string_view path, const std::string& why) {
  throw NodeError(std::string(kInvalid), std::string(path) + ": " + why);
}

// java-tron prints bytes fields (Return.message, resMessage) as hex. Text comes back as text;
// anything that is not hex of printable UTF-8 is returned as it was.
std::string decode_message(const std::string& text) {
  if (text.empty() || text.size() % 2 != 0) return text;
  Bytes bytes;
  try {
    bytes = from_hex(text);
  } catch (const std::invalid_argument&) {
    return text;
  }
  // Printable text only: no control bytes, and well-formed UTF-8.
  for (std::size_t i = 0; i < bytes.size();) {
    std::uint8_t b = bytes[i];
    std::size_t extra = b < 0x80 ? 0 : (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : 3;
    if (b < 0x80) {
      if ((b < 0x20 && b != '\n' && b != '\t' && b != '\r') || b == 0x7f) return text;
    } else if (b < 0xc2 || b > 0xf4 || i + extra >= bytes.size()) {
      return text;
    }
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((bytes[i + k] & 0xc0) != 0x80) return text;
    }
    i += 1 + extra;
  }
  return std::string(bytes.begin(), bytes.end());
}

std::int64_t get_i64(std::string_view path, const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return 0;  // java-tron omits default values
  // is_number_integer() holds for unsigned numbers too, so those are checked first.
  if (it->is_number_unsigned()) {
    if (it->get<std::uint64_t>() <= INT64_MAX) {
      return static_cast<std::int64_t>(it->get<std::uint64_t>());
    }
  } else if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  }
  invalid(path, std::string("'") + key + "' is not a 64-bit integer");
}

std::int64_t get_non_negative(std::string_view path, const json& object, const char* key) {
  std::int64_t value = get_i64(path, object, key);
  if (value < 0) invalid(path, std::string("'") + key + "' is negative");
  return value;
}

std::string get_string(std::string_view path, const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return {};
  if (!it->is_string()) invalid(path, std::string("'") + key + "' is not a string");
  return it->get<std::string>();
}

const json& get_object(std::string_view path, const json& object, const char* key) {
  static const json kEmpty = json::object();
  auto it = object.find(key);
  if (it == object.end()) return kEmpty;
  if (!it->is_object()) invalid(path, std::string("'") + key + "' is not an object");
  return *it;
}

Bytes get_hex(std::string_view path, const json& object, const char* key) {
  try {
    return from_hex(get_string(path, object, key));
  } catch (const std::invalid_argument&) {
    invalid(path, std::string("'") + key + "' is not hex");
  }
}

bool same_hex(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The block id, number and timestamp of a block answer, checked against each other: the id is
// 32 bytes whose first 8 are the number.
BlockRef parse_block(std::string_view path, const json& block) {
  BlockRef ref;
  ref.id = get_hex(path, block, "blockID");
  if (ref.id.size() != 32) invalid(path, "blockID is not 32 bytes");
  const json& raw = get_object(path, get_object(path, block, "block_header"), "raw_data");
  ref.number = get_non_negative(path, raw, "number");
  ref.timestamp = get_non_negative(path, raw, "timestamp");
  std::uint64_t id_number = 0;
  for (int i = 0; i < 8; ++i) id_number = id_number << 8 | ref.id[i];
  if (id_number != static_cast<std::uint64_t>(ref.number)) {
    invalid(path, "blockID does not start with the block number " + std::to_string(ref.number));
  }
  return ref;
}

}  // namespace

struct FullNodeClient::Impl {
  FullNodeOptions options;
  HttpConnection connection;
  HttpHeaders headers;
  std::mutex mutex;  // one request at a time on the one connection

  explicit Impl(FullNodeOptions o)
      : options(std::move(o)), connection(HttpUrl::parse(options.url), options.ca_file) {
    if (options.retries < 0) throw std::invalid_argument("retries must not be negative");
    if (options.timeout.count() <= 0) throw std::invalid_argument("timeout must be positive");
    if (!options.api_key.empty()) headers.emplace_back("TRON-PRO-API-KEY", options.api_key);
  }

  // Sends with retries on transport errors. `retried` tells whether an earlier attempt failed
  // in transit (so the node may have seen the request already).
  json post(std::string_view path, const json& body, bool* retried = nullptr) {
    std::string target = connection.url().prefix + std::string(path);
    std::string text = body.dump();
    std::lock_guard lock(mutex);
    HttpResponse response;
    auto delay = options.backoff;
    for (int attempt = 0;; ++attempt) {
      try {
        response = connection.post(target, text, headers, options.timeout);
        break;
      } catch (const HttpTransportError& e) {
        if (e.kind == HttpTransportError::Kind::Malformed) invalid(path, e.what());
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

    json answer = json::parse(response.body, nullptr, false);
    if (response.status != 200) {
      std::string message = response.reason;
      if (answer.is_object() && answer.contains("Error") && answer["Error"].is_string()) {
        message = answer["Error"].get<std::string>();
      } else if (!response.body.empty()) {
        message += ": " + excerpt(response.body);
      }
      throw NodeError("HTTP " + std::to_string(response.status), std::string(path) + ": " + message);
    }
    if (answer.is_discarded()) invalid(path, "answer is not JSON: " + excerpt(response.body));
    if (!answer.is_object()) invalid(path, "answer is not a JSON object: " + excerpt(response.body));
    if (auto it = answer.find("Error"); it != answer.end()) {
      throw NodeError("ERROR", std::string(path) + ": " +
                                   (it->is_string() ? it->get<std::string>() : it->dump()));
    }
    return answer;
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
  return parse_block(path, impl_->post(path, json::object()));
}

json FullNodeClient::block_by_number(std::int64_t number) {
  constexpr std::string_view path = "/wallet/getblockbynum";
  if (number < 0) throw std::invalid_argument("block number must not be negative");
  json block = impl_->post(path, {{"num", number}});
  if (block.empty()) return block;  // no such block yet
  BlockRef ref = parse_block(path, block);
  if (ref.number != number) {
    invalid(path, "asked for block " + std::to_string(number) + ", got " +
                      std::to_string(ref.number));
  }
  return block;
}

AccountBalances FullNodeClient::account(const Address& address) {
  constexpr std::string_view path = "/wallet/getaccount";
  json answer = impl_->post(path, {{"address", address.to_hex()}});
  AccountBalances out;
  if (answer.empty()) return out;  // java-tron's answer for an account that does not exist
  std::string echoed = get_string(path, answer, "address");
  if (!echoed.empty() && !same_hex(echoed, address.to_hex())) {
    invalid(path, "answer is for account " + echoed + ", not " + address.to_hex());
  }
  out.exists = true;
  out.trx = get_non_negative(path, answer, "balance");
  if (auto it = answer.find("assetV2"); it != answer.end()) {
    if (!it->is_array()) invalid(path, "'assetV2' is not an array");
    for (const json& entry : *it) {
      if (!entry.is_object()) invalid(path, "an 'assetV2' entry is not an object");
      std::string key = get_string(path, entry, "key");
      if (key.empty()) invalid(path, "an 'assetV2' entry has no key");
      out.trc10[key] = get_non_negative(path, entry, "value");
    }
  }
  return out;
}

json FullNodeClient::account_resource(const Address& address) {
  return impl_->post("/wallet/getaccountresource", {{"address", address.to_hex()}});
}

std::map<std::string, std::int64_t> FullNodeClient::chain_parameters() {
  constexpr std::string_view path = "/wallet/getchainparameters";
  json answer = impl_->post(path, json::object());
  auto it = answer.find("chainParameter");
  if (it == answer.end() || !it->is_array()) invalid(path, "no 'chainParameter' array");
  std::map<std::string, std::int64_t> out;
  for (const json& entry : *it) {
    if (!entry.is_object()) invalid(path, "a 'chainParameter' entry is not an object");
    std::string key = get_string(path, entry, "key");
    if (key.empty()) invalid(path, "a 'chainParameter' entry has no key");
    out[key] = get_i64(path, entry, "value");
  }
  return out;
}

Bytes FullNodeClient::trigger_constant(const Address& owner, const Address& contract,
                                       std::string_view function_selector,
                                       const Bytes& parameter) {
  constexpr std::string_view path = "/wallet/triggerconstantcontract";
  json body = {{"owner_address", owner.to_hex()},
               {"contract_address", contract.to_hex()},
               {"function_selector", std::string(function_selector)}};
  if (!parameter.empty()) body["parameter"] = to_hex(parameter);
  json answer = impl_->post(path, body);

  const json& result = get_object(path, answer, "result");
  if (result.empty()) invalid(path, "no 'result' in the answer");
  Bytes output;
  if (auto it = answer.find("constant_result"); it != answer.end()) {
    if (!it->is_array()) invalid(path, "'constant_result' is not an array");
    if (!it->empty()) {
      if (!(*it)[0].is_string()) invalid(path, "'constant_result' holds a non-string");
      try {
        output = from_hex((*it)[0].get<std::string>());
      } catch (const std::invalid_argument&) {
        invalid(path, "'constant_result' is not hex");
      }
    }
  }
  // A revert shows as result.result false with a code, or as the transaction's contractRet.
  std::string contract_ret;
  const json& tx = get_object(path, answer, "transaction");
  if (auto ret = tx.find("ret"); ret != tx.end() && ret->is_array() && !ret->empty() &&
                                 (*ret)[0].is_object()) {
    contract_ret = get_string(path, (*ret)[0], "contractRet");
  }
  bool ok = result.value("result", false) == true;
  if (!ok || (!contract_ret.empty() && contract_ret != "SUCCESS")) {
    std::string code = get_string(path, result, "code");
    if (code.empty()) code = contract_ret.empty() ? "CONTRACT_EXE_ERROR" : contract_ret;
    std::string message = decode_message(get_string(path, result, "message"));
    if (auto reason = abi::decode_revert_reason(output)) {
      message += (message.empty() ? "" : ": ") + *reason;
    }
    if (message.empty()) message = "call of " + std::string(function_selector) + " failed";
    throw NodeError(code, message);
  }
  if (!answer.contains("constant_result")) invalid(path, "no 'constant_result' in the answer");
  return output;
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
  BroadcastResult out;
  out.txid = get_string(path, answer, "txid");
  if (!out.txid.empty() && !same_hex(out.txid, txid)) {
    invalid(path, "node names the transaction " + excerpt(out.txid) + ", but its txID is " + txid);
  }
  out.txid = txid;
  out.ok = answer.value("result", false) == true;
  out.code = get_string(path, answer, "code");
  out.message = decode_message(get_string(path, answer, "message"));
  if (out.ok) {
    out.code = "SUCCESS";
  } else if (out.code.empty() || out.code == "SUCCESS") {
    invalid(path, "neither success nor an error code: " + excerpt(answer.dump()));
  } else if (retried && out.code == "DUP_TRANSACTION_ERROR") {
    // An earlier attempt reached the node and only its answer was lost.
    out.ok = true;
    out.code = "SUCCESS";
    out.message = "accepted on an earlier attempt whose answer was lost";
  }
  return out;
}

std::optional<json> FullNodeClient::transaction_by_id(const Hash32& txid) {
  constexpr std::string_view path = "/wallet/gettransactionbyid";
  std::string id = to_hex(txid);
  json answer = impl_->post(path, {{"value", id}});
  if (answer.empty()) return std::nullopt;
  if (!same_hex(get_string(path, answer, "txID"), id)) {
    invalid(path, "answer is for transaction " + excerpt(get_string(path, answer, "txID")) +
                      ", not " + id);
  }
  return answer;
}

std::optional<TxInfo> FullNodeClient::transaction_info_by_id(const Hash32& txid) {
  constexpr std::string_view path = "/wallet/gettransactioninfobyid";
  std::string id = to_hex(txid);
  json answer = impl_->post(path, {{"value", id}});
  if (answer.empty()) return std::nullopt;
  if (!same_hex(get_string(path, answer, "id"), id)) {
    invalid(path, "answer is for transaction " + excerpt(get_string(path, answer, "id")) +
                      ", not " + id);
  }
  TxInfo info;
  info.block_number = get_non_negative(path, answer, "blockNumber");
  info.block_timestamp = get_non_negative(path, answer, "blockTimeStamp");
  info.fee = get_non_negative(path, answer, "fee");
  info.contract_result = get_string(path, get_object(path, answer, "receipt"), "result");
  info.res_message = decode_message(get_string(path, answer, "resMessage"));
  std::string result = get_string(path, answer, "result");
  info.success = result != "FAILED" &&
                 (info.contract_result.empty() || info.contract_result == "SUCCESS");
  info.raw = std::move(answer);
  return info;
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
