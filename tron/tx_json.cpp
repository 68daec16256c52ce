#include "tron/tx_json.hpp"

#include <limits>
#include <optional>
#include <set>
#include <stdexcept>

#include "tron/address.hpp"
#include "tron/base58.hpp"
#include "tron/hashes.hpp"
#include "tron/hex.hpp"
#include "tron/proto/contract.pb.h"

namespace tron::txjson {

namespace {

using json = nlohmann::json;
using Contract = protocol::Transaction::Contract;

constexpr std::string_view kTypeUrlPrefix = "type.googleapis.com/protocol.";

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return as_bytes(s);
}

std::string hex_of(const std::string& s) {
  return to_hex(bytes_of(s));
}

json address_json(const std::string& bytes, bool visible) {
  return visible ? base58check_encode(bytes_of(bytes)) : hex_of(bytes);
}

// Text that JSON can carry as a string; other bytes are printed as hex even when visible.
bool is_utf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// --- printing -----------------------------------------------------------------------------

json value_json(const Contract& contract, bool visible) {
  const std::string& value = contract.parameter().value();
  json out = json::object();
  switch (contract.type()) {
    case Contract::TransferContract: {
      protocol::TransferContract c;
      if (!c.ParseFromString(value)) break;
      if (!c.owner_address().empty())
        out["owner_address"] = address_json(c.owner_address(), visible);
      if (!c.to_address().empty()) out["to_address"] = address_json(c.to_address(), visible);
      if (c.amount() != 0) out["amount"] = c.amount();
      break;
    }
    case Contract::TransferAssetContract: {
      protocol::TransferAssetContract c;
      if (!c.ParseFromString(value)) break;
      if (!c.asset_name().empty()) {
        out["asset_name"] = visible && is_utf8(c.asset_name()) ? json(c.asset_name())
                                                               : json(hex_of(c.asset_name()));
      }
      if (!c.owner_address().empty())
        out["owner_address"] = address_json(c.owner_address(), visible);
      if (!c.to_address().empty()) out["to_address"] = address_json(c.to_address(), visible);
      if (c.amount() != 0) out["amount"] = c.amount();
      break;
    }
    case Contract::TriggerSmartContract: {
      protocol::TriggerSmartContract c;
      if (!c.ParseFromString(value)) break;
      if (!c.owner_address().empty())
        out["owner_address"] = address_json(c.owner_address(), visible);
      if (!c.contract_address().empty()) {
        out["contract_address"] = address_json(c.contract_address(), visible);
      }
      if (c.call_value() != 0) out["call_value"] = c.call_value();
      if (!c.data().empty()) out["data"] = hex_of(c.data());
      if (c.call_token_value() != 0) out["call_token_value"] = c.call_token_value();
      if (c.token_id() != 0) out["token_id"] = c.token_id();
      break;
    }
    default:
      break;
  }
  return out;
}

std::string type_name(const Contract& contract) {
  if (Contract::ContractType_IsValid(contract.type())) {
    return Contract::ContractType_Name(contract.type());
  }
  // A kind this build does not list: name it after its type_url.
  const std::string& url = contract.parameter().type_url();
  auto dot = url.rfind('.');
  return dot == std::string::npos ? url : url.substr(dot + 1);
}

json contract_json(const Contract& contract, bool visible) {
  json parameter = {{"value", value_json(contract, visible)},
                    {"type_url", contract.parameter().type_url()}};
  json out = {{"parameter", std::move(parameter)}, {"type", type_name(contract)}};
  if (contract.permission_id() != 0) out["Permission_id"] = contract.permission_id();
  return out;
}

json result_json(const protocol::Transaction::Result& result) {
  json out = json::object();
  if (result.fee() != 0) out["fee"] = result.fee();
  if (result.ret() != 0) out["ret"] = protocol::Transaction::Result::code_Name(result.ret());
  if (result.contractret() != 0) {
    out["contractRet"] = protocol::Transaction::Result::contractResult_Name(result.contractret());
  }
  return out;
}

// --- reading ------------------------------------------------------------------------------

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument(what);
}

void allow_only(const json& object, const std::set<std::string_view>& known,
                const std::string& where) {
  for (const auto& [key, _] : object.items()) {
    if (!known.count(key)) fail("unsupported field '" + key + "' in " + where);
  }
}

const json& require_object(const json& parent, const char* key, const std::string& where) {
  auto it = parent.find(key);
  if (it == parent.end()) fail(where + " has no '" + key + "'");
  if (!it->is_object()) fail(where + "." + key + " must be an object");
  return *it;
}

std::int64_t read_int64(const json& value, const std::string& what) {
  if (value.is_number_unsigned()) {
    if (value.get<std::uint64_t>() >
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      fail(what + " does not fit in a signed 64-bit integer");
    }
    return static_cast<std::int64_t>(value.get<std::uint64_t>());
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  fail(what + " must be an integer");
}

std::string read_string(const json& value, const std::string& what) {
  if (!value.is_string()) fail(what + " must be a string");
  return value.get<std::string>();
}

std::string read_hex(const json& value, const std::string& what) {
  std::string text = read_string(value, what);
  Bytes bytes;
  try {
    bytes = from_hex(text);
  } catch (const std::invalid_argument& e) {
    fail(what + " is not hex: " + e.what());
  }
  return std::string(bytes.begin(), bytes.end());
}

std::string read_address(const json& value, const std::string& what) {
  std::string text = read_string(value, what);
  auto address = Address::parse(text);
  if (!address) fail(what + " is not a TRON address: '" + text + "'");
  return std::string(address->raw().begin(), address->raw().end());
}

std::string read_signature(const json& value) {
  std::string sig = read_hex(value, "signature");
  if (sig.size() != 65) {
    fail("a signature is 65 bytes (130 hex digits), got " + std::to_string(sig.size()) + " bytes");
  }
  return sig;
}

// The field `key` of `obj` as `read` reads it, when there is one.
template <typename T>
std::optional<T> field(const json& obj, const char* key,
                       T (*read)(const json&, const std::string&)) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  return read(*it, key);
}

std::string value_from_json(Contract::ContractType type, const json& value, bool visible) {
  const std::string where = "contract value";
  std::string out;
  switch (type) {
    case Contract::TransferContract: {
      allow_only(value, {"owner_address", "to_address", "amount"}, where);
      protocol::TransferContract c;
      if (auto v = field(value, "owner_address", read_address)) c.set_owner_address(*v);
      if (auto v = field(value, "to_address", read_address)) c.set_to_address(*v);
      if (auto v = field(value, "amount", read_int64)) c.set_amount(*v);
      c.SerializeToString(&out);
      break;
    }
    case Contract::TransferAssetContract: {
      allow_only(value, {"asset_name", "owner_address", "to_address", "amount"}, where);
      protocol::TransferAssetContract c;
      if (value.contains("asset_name")) {
        // java-tron prints this name field as text when visible, hex otherwise.
        c.set_asset_name(visible ? read_string(value["asset_name"], "asset_name")
                                 : read_hex(value["asset_name"], "asset_name"));
      }
      if (auto v = field(value, "owner_address", read_address)) c.set_owner_address(*v);
      if (auto v = field(value, "to_address", read_address)) c.set_to_address(*v);
      if (auto v = field(value, "amount", read_int64)) c.set_amount(*v);
      c.SerializeToString(&out);
      break;
    }
    case Contract::TriggerSmartContract: {
      allow_only(value,
                 {"owner_address", "contract_address", "call_value", "data", "call_token_value",
                  "token_id"},
                 where);
      protocol::TriggerSmartContract c;
      if (auto v = field(value, "owner_address", read_address)) c.set_owner_address(*v);
      if (auto v = field(value, "contract_address", read_address)) c.set_contract_address(*v);
      if (auto v = field(value, "call_value", read_int64)) c.set_call_value(*v);
      if (auto v = field(value, "data", read_hex)) c.set_data(*v);
      if (auto v = field(value, "call_token_value", read_int64)) c.set_call_token_value(*v);
      if (auto v = field(value, "token_id", read_int64)) c.set_token_id(*v);
      c.SerializeToString(&out);
      break;
    }
    default:
      fail("unsupported contract type");
  }
  return out;
}

void contract_from_json(const json& in, bool visible, Contract* out) {
  if (!in.is_object()) fail("each raw_data.contract entry must be an object");
  allow_only(in, {"parameter", "type", "Permission_id"}, "raw_data.contract");
  auto type_it = in.find("type");
  if (type_it == in.end()) fail("raw_data.contract has no 'type'");
  const std::string type = read_string(*type_it, "raw_data.contract.type");
  Contract::ContractType parsed_type;
  if (!Contract::ContractType_Parse(type, &parsed_type) ||
      parsed_type == Contract::AccountCreateContract) {
    fail("unsupported contract type '" + type +
         "' (TransferContract, TransferAssetContract and TriggerSmartContract are supported)");
  }
  const json& parameter = require_object(in, "parameter", "raw_data.contract");
  allow_only(parameter, {"value", "type_url"}, "raw_data.contract.parameter");
  const std::string expected_url = std::string(kTypeUrlPrefix) + type;
  if (parameter.contains("type_url") &&
      read_string(parameter["type_url"], "type_url") != expected_url) {
    fail("type_url '" + parameter["type_url"].get<std::string>() + "' does not match type " + type);
  }
  const json& value = require_object(parameter, "value", "raw_data.contract.parameter");

  out->set_type(parsed_type);
  out->mutable_parameter()->set_type_url(expected_url);
  *out->mutable_parameter()->mutable_value() = value_from_json(parsed_type, value, visible);
  if (in.contains("Permission_id")) {
    std::int64_t id = read_int64(in["Permission_id"], "Permission_id");
    if (id < 0 || id > std::numeric_limits<std::int32_t>::max()) fail("bad Permission_id");
    out->set_permission_id(static_cast<std::int32_t>(id));
  }
}

}  // namespace

nlohmann::json raw_to_json(const protocol::Transaction::raw& raw, bool visible) {
  json out = json::object();
  json contracts = json::array();
  for (const auto& contract : raw.contract()) contracts.push_back(contract_json(contract, visible));
  out["contract"] = std::move(contracts);
  if (!raw.ref_block_bytes().empty()) out["ref_block_bytes"] = hex_of(raw.ref_block_bytes());
  if (raw.ref_block_num() != 0) out["ref_block_num"] = raw.ref_block_num();
  if (!raw.ref_block_hash().empty()) out["ref_block_hash"] = hex_of(raw.ref_block_hash());
  if (raw.expiration() != 0) out["expiration"] = raw.expiration();
  if (!raw.data().empty()) out["data"] = hex_of(raw.data());
  if (raw.timestamp() != 0) out["timestamp"] = raw.timestamp();
  if (raw.fee_limit() != 0) out["fee_limit"] = raw.fee_limit();
  return out;
}

nlohmann::json transaction_to_json(const protocol::Transaction& tx, const std::string& raw_bytes,
                                   bool visible) {
  json out = json::object();
  out["visible"] = visible;
  out["txID"] = to_hex(sha256(bytes_of(raw_bytes)));
  out["raw_data"] = raw_to_json(tx.raw_data(), visible);
  out["raw_data_hex"] = hex_of(raw_bytes);
  if (tx.signature_size() > 0) {
    json sigs = json::array();
    for (const std::string& sig : tx.signature()) sigs.push_back(hex_of(sig));
    out["signature"] = std::move(sigs);
  }
  if (tx.ret_size() > 0) {
    json rets = json::array();
    for (const auto& ret : tx.ret()) rets.push_back(result_json(ret));
    out["ret"] = std::move(rets);
  }
  return out;
}

protocol::Transaction::raw raw_from_json(const nlohmann::json& raw_data, bool visible) {
  if (!raw_data.is_object()) fail("raw_data must be an object");
  allow_only(raw_data,
             {"contract", "ref_block_bytes", "ref_block_num", "ref_block_hash", "expiration",
              "data", "timestamp", "fee_limit"},
             "raw_data");
  protocol::Transaction::raw raw;
  auto contracts = raw_data.find("contract");
  if (contracts == raw_data.end() || !contracts->is_array() || contracts->size() != 1) {
    fail("raw_data.contract must be an array of exactly one contract");
  }
  contract_from_json((*contracts)[0], visible, raw.add_contract());
  if (auto v = field(raw_data, "ref_block_bytes", read_hex)) raw.set_ref_block_bytes(*v);
  if (auto v = field(raw_data, "ref_block_num", read_int64)) raw.set_ref_block_num(*v);
  if (auto v = field(raw_data, "ref_block_hash", read_hex)) raw.set_ref_block_hash(*v);
  if (auto v = field(raw_data, "expiration", read_int64)) raw.set_expiration(*v);
  if (auto v = field(raw_data, "data", read_hex)) raw.set_data(*v);
  if (auto v = field(raw_data, "timestamp", read_int64)) raw.set_timestamp(*v);
  if (auto v = field(raw_data, "fee_limit", read_int64)) raw.set_fee_limit(*v);
  return raw;
}

protocol::Transaction transaction_from_json(const nlohmann::json& in) {
  if (!in.is_object()) fail("a transaction must be a JSON object");
  bool visible = false;
  if (auto it = in.find("visible"); it != in.end()) {
    if (!it->is_boolean()) fail("visible must be true or false");
    visible = it->get<bool>();
  }

  protocol::Transaction tx;
  std::string raw_bytes;
  const bool has_hex = in.contains("raw_data_hex");
  const bool has_json = in.contains("raw_data");
  if (!has_hex && !has_json) fail("the transaction has neither raw_data nor raw_data_hex");
  if (has_hex) {
    raw_bytes = read_hex(in["raw_data_hex"], "raw_data_hex");
    if (!tx.mutable_raw_data()->ParseFromString(raw_bytes)) {
      fail("raw_data_hex is not a serialized Transaction.raw");
    }
    // The txID is the hash of raw_data as protobuf writes it; refuse bytes that would hash
    // differently once parsed (non-canonical encodings).
    if (tx.raw_data().SerializeAsString() != raw_bytes) {
      fail("raw_data_hex is not in canonical protobuf encoding");
    }
  }
  if (has_json) {
    protocol::Transaction::raw from_json = raw_from_json(in["raw_data"], visible);
    std::string encoded = from_json.SerializeAsString();
    if (has_hex) {
      if (encoded != raw_bytes) fail("raw_data does not match raw_data_hex");
    } else {
      *tx.mutable_raw_data() = std::move(from_json);
      raw_bytes = std::move(encoded);
    }
  }
  if (auto it = in.find("txID"); it != in.end()) {
    const std::string id = read_hex(*it, "txID");
    const Hash32 expected = sha256(bytes_of(raw_bytes));
    if (id != std::string(expected.begin(), expected.end())) {
      fail("txID does not match raw_data (expected " + to_hex(expected) + ")");
    }
  }
  if (auto it = in.find("signature"); it != in.end()) {
    if (!it->is_array()) fail("signature must be an array of hex strings");
    for (const auto& sig : *it) tx.add_signature(read_signature(sig));
  }
  return tx;
}

}  // namespace tron::txjson
