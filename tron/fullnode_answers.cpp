#include "tron/fullnode_answers.hpp"

#include <algorithm>

#include "tron/abi.hpp"
#include "tron/json_bounded.hpp"

namespace tron::answers {

using nlohmann::json;

namespace {

constexpr std::string_view kInvalid = "INVALID_ANSWER";
constexpr std::size_t kMiB = 1u << 20;

[[noreturn]] void invalid(std::string_view path, const std::string& why) {
  throw NodeError(std::string(kInvalid), std::string(path) + ": " + why);
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

}  // namespace

std::size_t size_limit(std::string_view path) {
  if (path == "/wallet/getnowblock" || path == "/wallet/getblockbynum" ||
      path == "/wallet/getblockbyid" || path == "/wallet/getblockbylatestnum" ||
      path == "/wallet/getblockbylimitnext") {
    return 8 * kMiB;
  }
  return kMiB;
}

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

json parse_answer(std::string_view path, unsigned status, std::string_view reason,
                  std::string_view body, std::size_t max_bytes) {
  json answer;
  std::string why;
  try {
    answer = parse_json_bounded(body, max_bytes, kMaxDepth);
  } catch (const JsonLimitError& e) {
    why = e.what();
    answer = json(json::value_t::discarded);
  }
  if (status != 200) {
    std::string message(reason);
    if (answer.is_object() && answer.contains("Error") && answer["Error"].is_string()) {
      message = answer["Error"].get<std::string>();
    } else if (!body.empty()) {
      message += ": " + excerpt(body);
    }
    throw NodeError("HTTP " + std::to_string(status), std::string(path) + ": " + message);
  }
  if (answer.is_discarded()) invalid(path, why + ": " + excerpt(body));
  if (!answer.is_object()) invalid(path, "answer is not a JSON object: " + excerpt(body));
  if (auto it = answer.find("Error"); it != answer.end()) {
    // The depth bound keeps dump() shallow; the excerpt keeps the message short.
    throw NodeError("ERROR",
                    std::string(path) + ": " +
                        (it->is_string() ? excerpt(it->get<std::string>()) : excerpt(it->dump())));
  }
  return answer;
}

// The block id, number and timestamp of a block answer, checked against each other: the id is
// 32 bytes whose first 8 are the number.
BlockRef block(std::string_view path, const json& answer) {
  BlockRef ref;
  ref.id = get_hex(path, answer, "blockID");
  if (ref.id.size() != 32) invalid(path, "blockID is not 32 bytes");
  const json& raw = get_object(path, get_object(path, answer, "block_header"), "raw_data");
  ref.number = get_non_negative(path, raw, "number");
  ref.timestamp = get_non_negative(path, raw, "timestamp");
  std::uint64_t id_number = 0;
  for (int i = 0; i < 8; ++i) id_number = id_number << 8 | ref.id[i];
  if (id_number != static_cast<std::uint64_t>(ref.number)) {
    invalid(path, "blockID does not start with the block number " + std::to_string(ref.number));
  }
  return ref;
}

AccountBalances account(std::string_view path, const json& answer, const Address& address) {
  AccountBalances out;
  if (answer.empty()) return out;  // java-tron's answer for an account that does not exist
  std::string echoed = get_string(path, answer, "address");
  if (!echoed.empty() && !same_hex(echoed, address.to_hex())) {
    invalid(path, "answer is for account " + excerpt(echoed) + ", not " + address.to_hex());
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

std::map<std::string, std::int64_t> chain_parameters(std::string_view path, const json& answer) {
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

Bytes constant_result(std::string_view path, const json& answer,
                      std::string_view function_selector) {
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
  if (auto ret = tx.find("ret");
      ret != tx.end() && ret->is_array() && !ret->empty() && (*ret)[0].is_object()) {
    contract_ret = get_string(path, (*ret)[0], "contractRet");
  }
  auto ok_it = result.find("result");
  bool ok = ok_it != result.end() && ok_it->is_boolean() && ok_it->get<bool>();
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

BroadcastResult broadcast(std::string_view path, const json& answer, const std::string& txid,
                          bool retried) {
  BroadcastResult out;
  out.txid = get_string(path, answer, "txid");
  if (!out.txid.empty() && !same_hex(out.txid, txid)) {
    invalid(path, "node names the transaction " + excerpt(out.txid) + ", but its txID is " + txid);
  }
  out.txid = txid;
  auto ok_it = answer.find("result");
  out.ok = ok_it != answer.end() && ok_it->is_boolean() && ok_it->get<bool>();
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

std::optional<json> transaction(std::string_view path, json answer, const std::string& txid_hex) {
  if (answer.empty()) return std::nullopt;
  if (!same_hex(get_string(path, answer, "txID"), txid_hex)) {
    invalid(path, "answer is for transaction " + excerpt(get_string(path, answer, "txID")) +
                      ", not " + txid_hex);
  }
  return answer;
}

std::optional<TxInfo> transaction_info(std::string_view path, json answer,
                                       const std::string& txid_hex) {
  if (answer.empty()) return std::nullopt;
  if (!same_hex(get_string(path, answer, "id"), txid_hex)) {
    invalid(path, "answer is for transaction " + excerpt(get_string(path, answer, "id")) +
                      ", not " + txid_hex);
  }
  TxInfo info;
  info.block_number = get_non_negative(path, answer, "blockNumber");
  info.block_timestamp = get_non_negative(path, answer, "blockTimeStamp");
  info.fee = get_non_negative(path, answer, "fee");
  info.contract_result = get_string(path, get_object(path, answer, "receipt"), "result");
  info.res_message = decode_message(get_string(path, answer, "resMessage"));
  std::string result = get_string(path, answer, "result");
  info.success =
      result != "FAILED" && (info.contract_result.empty() || info.contract_result == "SUCCESS");
  info.raw = std::move(answer);
  return info;
}

}  // namespace tron::answers
