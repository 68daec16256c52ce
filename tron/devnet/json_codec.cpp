#include "tron/devnet/json_codec.hpp"

#include <limits>

#include "tron/address.hpp"
#include "tron/devnet/resource.hpp"
#include "tron/hex.hpp"
#include "tron/proto/contract.pb.h"

namespace tron::devnet {

using nlohmann::json;
using Contract = protocol::Transaction::Contract;

namespace {

std::string hex(const std::string& bytes) {
  return to_hex(as_bytes(bytes));
}

const char* type_name(Contract::ContractType t) {
  return Contract::ContractType_Name(t).c_str();
}

json contract_value_json(const Contract& c, bool visible) {
  json v = json::object();
  switch (c.type()) {
    case Contract::TransferContract: {
      protocol::TransferContract t;
      c.parameter().UnpackTo(&t);
      if (t.amount() != 0) v["amount"] = t.amount();
      if (!t.owner_address().empty()) v["owner_address"] = address_text(t.owner_address(), visible);
      if (!t.to_address().empty()) v["to_address"] = address_text(t.to_address(), visible);
      break;
    }
    case Contract::TransferAssetContract: {
      protocol::TransferAssetContract t;
      c.parameter().UnpackTo(&t);
      if (t.amount() != 0) v["amount"] = t.amount();
      if (!t.asset_name().empty()) v["asset_name"] = visible ? t.asset_name() : hex(t.asset_name());
      if (!t.owner_address().empty()) v["owner_address"] = address_text(t.owner_address(), visible);
      if (!t.to_address().empty()) v["to_address"] = address_text(t.to_address(), visible);
      break;
    }
    case Contract::TriggerSmartContract: {
      protocol::TriggerSmartContract t;
      c.parameter().UnpackTo(&t);
      if (!t.data().empty()) v["data"] = hex(t.data());
      if (!t.owner_address().empty()) v["owner_address"] = address_text(t.owner_address(), visible);
      if (!t.contract_address().empty()) {
        v["contract_address"] = address_text(t.contract_address(), visible);
      }
      if (t.call_value() != 0) v["call_value"] = t.call_value();
      if (t.call_token_value() != 0) v["call_token_value"] = t.call_token_value();
      if (t.token_id() != 0) v["token_id"] = t.token_id();
      break;
    }
    default:
      break;
  }
  return v;
}

const json& field(const json& obj, const char* name) {
  static const json kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

void require_object(const json& v, const char* what) {
  if (!v.is_object())
    throw JavaError(kParseException, std::string("Expect message object for ") + what);
}

// A contract's parameter.value into the typed message, as JsonFormat.merge does.
void pack_contract(const json& jc, bool visible, Contract* out) {
  require_object(jc, "contract");
  const json& type = field(jc, "type");
  if (!type.is_string()) throw JavaError("java.lang.NullPointerException", "null");
  Contract::ContractType t;
  if (!Contract::ContractType_Parse(type.get<std::string>(), &t)) {
    throw JavaError(kIllegalArgument,
                    "No enum constant org.tron.protos.Protocol.Transaction.Contract.ContractType." +
                        type.get<std::string>());
  }
  out->set_type(t);
  const json& parameter = field(jc, "parameter");
  require_object(parameter, "parameter");
  const json& value = field(parameter, "value");
  require_object(value, "parameter.value");
  auto str = [&](const char* name) { return field(value, name); };
  switch (t) {
    case Contract::TransferContract: {
      protocol::TransferContract m;
      if (!str("owner_address").is_null())
        m.set_owner_address(address_from_json(str("owner_address"), visible, "owner_address"));
      if (!str("to_address").is_null())
        m.set_to_address(address_from_json(str("to_address"), visible, "to_address"));
      if (!str("amount").is_null()) m.set_amount(int_from_json(str("amount"), "amount"));
      out->mutable_parameter()->PackFrom(m);
      break;
    }
    case Contract::TransferAssetContract: {
      protocol::TransferAssetContract m;
      if (!str("owner_address").is_null())
        m.set_owner_address(address_from_json(str("owner_address"), visible, "owner_address"));
      if (!str("to_address").is_null())
        m.set_to_address(address_from_json(str("to_address"), visible, "to_address"));
      if (!str("amount").is_null()) m.set_amount(int_from_json(str("amount"), "amount"));
      if (!str("asset_name").is_null()) {
        if (visible) {
          if (!str("asset_name").is_string())
            throw JavaError(kParseException, "Expected string for asset_name");
          m.set_asset_name(str("asset_name").get<std::string>());
        } else {
          m.set_asset_name(hex_bytes_from_json(str("asset_name"), "asset_name"));
        }
      }
      out->mutable_parameter()->PackFrom(m);
      break;
    }
    case Contract::TriggerSmartContract: {
      protocol::TriggerSmartContract m;
      if (!str("owner_address").is_null())
        m.set_owner_address(address_from_json(str("owner_address"), visible, "owner_address"));
      if (!str("contract_address").is_null())
        m.set_contract_address(
            address_from_json(str("contract_address"), visible, "contract_address"));
      if (!str("data").is_null()) m.set_data(hex_bytes_from_json(str("data"), "data"));
      if (!str("call_value").is_null())
        m.set_call_value(int_from_json(str("call_value"), "call_value"));
      if (!str("call_token_value").is_null())
        m.set_call_token_value(int_from_json(str("call_token_value"), "call_token_value"));
      if (!str("token_id").is_null()) m.set_token_id(int_from_json(str("token_id"), "token_id"));
      out->mutable_parameter()->PackFrom(m);
      break;
    }
    default:
      throw JavaError(kIllegalArgument, "contract type " + type.get<std::string>() +
                                            " is not supported by this devnet");
  }
  const json& permission = field(jc, "Permission_id");
  if (!permission.is_null()) {
    out->set_permission_id(static_cast<std::int32_t>(int_from_json(permission, "Permission_id")));
  }
}

json pairs(const std::map<std::string, std::int64_t>& m) {
  json list = json::array();
  for (const auto& [k, v] : m) {
    json e = {{"key", k}};
    if (v != 0) e["value"] = v;
    list.push_back(std::move(e));
  }
  return list;
}

}  // namespace

std::string address_text(const std::string& raw_bytes, bool visible) {
  if (visible) {
    auto a = Address::from_bytes(as_bytes(raw_bytes));
    if (a && raw_bytes.size() == 21) return a->to_base58();
  }
  return hex(raw_bytes);
}

std::string address_from_json(const json& v, bool visible, const char* name) {
  if (!v.is_string()) throw JavaError(kParseException, std::string("Expected string for ") + name);
  const std::string text = v.get<std::string>();
  if (visible) {
    auto a = Address::parse(text);
    if (!a || text.size() != 34) {
      throw JavaError(kIllegalArgument, std::string("Invalid address ") + name + ": " + text);
    }
    return std::string(a->raw().begin(), a->raw().end());
  }
  return hex_bytes_from_json(v, name);
}

std::int64_t int_from_json(const json& v, const char* name) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw JavaError(kParseException, std::string("Number out of range for field ") + name);
    }
    return v.get<std::int64_t>();
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    try {
      std::size_t used = 0;
      long long n = std::stoll(s, &used, 10);
      if (used == s.size()) return n;
    } catch (const std::exception&) {
    }
    throw JavaError(kParseException,
                    std::string("Couldn't parse integer for field ") + name + ": " + s);
  }
  throw JavaError(kParseException, std::string("Expected integer for field ") + name);
}

std::string hex_bytes_from_json(const json& v, const char* name) {
  if (!v.is_string()) throw JavaError(kParseException, std::string("Expected string for ") + name);
  try {
    Bytes b = from_hex(v.get<std::string>());
    return std::string(b.begin(), b.end());
  } catch (const std::invalid_argument&) {
    throw JavaError(kParseException, std::string("Invalid hex in field ") + name);
  }
}

json tx_to_json(const protocol::Transaction& tx, bool visible) {
  json j = json::object();
  if (tx.ret_size() > 0) {
    json rets = json::array();
    for (const auto& r : tx.ret()) {
      json e = json::object();
      if (r.fee() != 0) e["fee"] = r.fee();
      if (r.ret() != 0) e["ret"] = protocol::Transaction::Result::code_Name(r.ret());
      if (r.contractret() != 0) {
        e["contractRet"] = protocol::Transaction::Result::contractResult_Name(r.contractret());
      }
      rets.push_back(std::move(e));
    }
    j["ret"] = std::move(rets);
  }
  if (tx.signature_size() > 0) {
    json sigs = json::array();
    for (const auto& s : tx.signature()) sigs.push_back(hex(s));
    j["signature"] = std::move(sigs);
  }
  const auto& raw = tx.raw_data();
  const std::string raw_bytes = raw.SerializeAsString();
  j["txID"] = to_hex(sha256(as_bytes(raw_bytes)));
  json r = json::object();
  json contracts = json::array();
  for (const auto& c : raw.contract()) {
    json jc = {
        {"parameter",
         {{"value", contract_value_json(c, visible)}, {"type_url", c.parameter().type_url()}}},
        {"type", type_name(c.type())}};
    if (c.permission_id() > 0) jc["Permission_id"] = c.permission_id();
    contracts.push_back(std::move(jc));
  }
  r["contract"] = std::move(contracts);
  if (!raw.ref_block_bytes().empty()) r["ref_block_bytes"] = hex(raw.ref_block_bytes());
  if (raw.ref_block_num() != 0) r["ref_block_num"] = raw.ref_block_num();
  if (!raw.ref_block_hash().empty()) r["ref_block_hash"] = hex(raw.ref_block_hash());
  if (raw.expiration() != 0) r["expiration"] = raw.expiration();
  if (!raw.data().empty()) r["data"] = hex(raw.data());
  if (raw.timestamp() != 0) r["timestamp"] = raw.timestamp();
  if (raw.fee_limit() != 0) r["fee_limit"] = raw.fee_limit();
  j["raw_data"] = std::move(r);
  j["raw_data_hex"] = to_hex(as_bytes(raw_bytes));
  return j;
}

protocol::Transaction tx_from_json(const json& j, bool visible) {
  if (!j.is_object()) throw JavaError("java.lang.NullPointerException", "null");
  const json& raw = field(j, "raw_data");
  if (!raw.is_object()) throw JavaError("java.lang.NullPointerException", "null");
  protocol::Transaction tx;
  auto* r = tx.mutable_raw_data();
  const json& contracts = field(raw, "contract");
  if (!contracts.is_null()) {
    if (!contracts.is_array()) throw JavaError(kParseException, "Expected array for contract");
    for (const auto& c : contracts) pack_contract(c, visible, r->add_contract());
  }
  if (raw.contains("ref_block_bytes")) {
    r->set_ref_block_bytes(hex_bytes_from_json(raw["ref_block_bytes"], "ref_block_bytes"));
  }
  if (raw.contains("ref_block_num"))
    r->set_ref_block_num(int_from_json(raw["ref_block_num"], "ref_block_num"));
  if (raw.contains("ref_block_hash")) {
    r->set_ref_block_hash(hex_bytes_from_json(raw["ref_block_hash"], "ref_block_hash"));
  }
  if (raw.contains("expiration")) r->set_expiration(int_from_json(raw["expiration"], "expiration"));
  if (raw.contains("data")) r->set_data(hex_bytes_from_json(raw["data"], "data"));
  if (raw.contains("timestamp")) r->set_timestamp(int_from_json(raw["timestamp"], "timestamp"));
  if (raw.contains("fee_limit")) r->set_fee_limit(int_from_json(raw["fee_limit"], "fee_limit"));
  const json& sigs = field(j, "signature");
  if (!sigs.is_null()) {
    if (!sigs.is_array()) throw JavaError(kParseException, "Expected array for signature");
    for (const auto& s : sigs) tx.add_signature(hex_bytes_from_json(s, "signature"));
  }
  return tx;
}

json block_to_json(const protocol::Block& block, const Hash32& id, bool visible,
                   bool with_transactions) {
  const auto& raw = block.block_header().raw_data();
  json r = json::object();
  if (raw.number() != 0) r["number"] = raw.number();
  if (!raw.txtrieroot().empty()) r["txTrieRoot"] = hex(raw.txtrieroot());
  if (!raw.witness_address().empty())
    r["witness_address"] = address_text(raw.witness_address(), visible);
  if (!raw.parenthash().empty()) r["parentHash"] = hex(raw.parenthash());
  if (raw.version() != 0) r["version"] = raw.version();
  if (raw.timestamp() != 0) r["timestamp"] = raw.timestamp();
  json header = {{"raw_data", std::move(r)}};
  if (!block.block_header().witness_signature().empty()) {
    header["witness_signature"] = hex(block.block_header().witness_signature());
  }
  json j = {{"blockID", to_hex(id)}, {"block_header", std::move(header)}};
  if (with_transactions && block.transactions_size() > 0) {
    json txs = json::array();
    for (const auto& tx : block.transactions()) txs.push_back(tx_to_json(tx, visible));
    j["transactions"] = std::move(txs);
  }
  return j;
}

json account_to_json(const Account& a, bool visible, std::int64_t genesis_ms) {
  const std::string raw(a.address.raw().begin(), a.address.raw().end());
  const std::string addr = address_text(raw, visible);
  json j = json::object();
  j["address"] = addr;
  if (a.balance != 0) j["balance"] = a.balance;
  if (a.create_time != 0) j["create_time"] = a.create_time;
  if (a.latest_operation_time != 0) j["latest_opration_time"] = a.latest_operation_time;
  if (a.free_net_usage != 0) j["free_net_usage"] = a.free_net_usage;
  if (a.latest_consume_free_time != 0) {
    j["latest_consume_free_time"] = genesis_ms + a.latest_consume_free_time * kSlotMs;
  }
  if (a.net_usage != 0) j["net_usage"] = a.net_usage;
  if (a.latest_consume_time != 0)
    j["latest_consume_time"] = genesis_ms + a.latest_consume_time * kSlotMs;
  if (a.is_contract) j["type"] = "Contract";
  if (!a.assets.empty()) {
    j["assetV2"] = pairs(a.assets);
    std::map<std::string, std::int64_t> zero;
    for (const auto& [k, v] : a.assets) zero[k] = 0;
    j["free_asset_net_usageV2"] = pairs(zero);
    j["asset_optimized"] = true;
  }
  json resource = json::object();
  if (a.energy_usage != 0) resource["energy_usage"] = a.energy_usage;
  if (a.latest_consume_time_for_energy != 0) {
    resource["latest_consume_time_for_energy"] =
        genesis_ms + a.latest_consume_time_for_energy * kSlotMs;
  }
  j["account_resource"] = std::move(resource);
  // Stake 2.0 as java-tron lists it: bandwidth (type left out, it is 0), energy, tron power.
  if (a.staked_for_bandwidth != 0 || a.staked_for_energy != 0) {
    json frozen = json::array();
    json bandwidth = json::object();
    if (a.staked_for_bandwidth != 0) bandwidth["amount"] = a.staked_for_bandwidth;
    frozen.push_back(std::move(bandwidth));
    json energy = {{"type", "ENERGY"}};
    if (a.staked_for_energy != 0) energy["amount"] = a.staked_for_energy;
    frozen.push_back(std::move(energy));
    frozen.push_back({{"type", "TRON_POWER"}});
    j["frozenV2"] = std::move(frozen);
  }
  json key = {{"address", addr}, {"weight", 1}};
  j["owner_permission"] = {
      {"permission_name", "owner"}, {"threshold", 1}, {"keys", json::array({key})}};
  j["active_permission"] = json::array(
      {{{"type", "Active"},
        {"id", 2},
        {"permission_name", "active"},
        {"threshold", 1},
        {"operations", "7fff1fc0033efb0f000000000000000000000000000000000000000000000000"},
        {"keys", json::array({key})}}});
  return j;
}

json info_to_json(const protocol::TransactionInfo& info, bool visible) {
  json j = json::object();
  j["id"] = hex(info.id());
  if (info.fee() != 0) j["fee"] = info.fee();
  if (info.blocknumber() != 0) j["blockNumber"] = info.blocknumber();
  if (info.blocktimestamp() != 0) j["blockTimeStamp"] = info.blocktimestamp();
  json results = json::array();
  for (const auto& r : info.contractresult()) results.push_back(hex(r));
  j["contractResult"] = std::move(results);
  if (!info.contract_address().empty()) {
    j["contract_address"] = address_text(info.contract_address(), visible);
  }
  const auto& rc = info.receipt();
  json receipt = json::object();
  if (rc.energy_usage() != 0) receipt["energy_usage"] = rc.energy_usage();
  if (rc.energy_fee() != 0) receipt["energy_fee"] = rc.energy_fee();
  if (rc.origin_energy_usage() != 0) receipt["origin_energy_usage"] = rc.origin_energy_usage();
  if (rc.energy_usage_total() != 0) receipt["energy_usage_total"] = rc.energy_usage_total();
  if (rc.net_usage() != 0) receipt["net_usage"] = rc.net_usage();
  if (rc.net_fee() != 0) receipt["net_fee"] = rc.net_fee();
  if (rc.result() != 0) {
    receipt["result"] = protocol::Transaction::Result::contractResult_Name(rc.result());
  }
  j["receipt"] = std::move(receipt);
  if (info.log_size() > 0) {
    json logs = json::array();
    for (const auto& l : info.log()) {
      json topics = json::array();
      for (const auto& t : l.topics()) topics.push_back(hex(t));
      json e = {{"address", hex(l.address())}, {"topics", std::move(topics)}};
      if (!l.data().empty()) e["data"] = hex(l.data());
      logs.push_back(std::move(e));
    }
    j["log"] = std::move(logs);
  }
  if (info.result() != 0) j["result"] = protocol::TransactionInfo::code_Name(info.result());
  if (!info.resmessage().empty()) j["resMessage"] = hex(info.resmessage());
  return j;
}

json asset_to_json(const AssetIssue& a, bool visible) {
  auto text = [&](const std::string& s) { return visible ? s : hex(s); };
  json j = json::object();
  j["owner_address"] =
      address_text(std::string(a.owner.raw().begin(), a.owner.raw().end()), visible);
  j["name"] = text(a.name);
  if (!a.abbr.empty()) j["abbr"] = text(a.abbr);
  if (a.total_supply != 0) j["total_supply"] = a.total_supply;
  if (a.trx_num != 0) j["trx_num"] = a.trx_num;
  if (a.precision != 0) j["precision"] = a.precision;
  if (a.num != 0) j["num"] = a.num;
  if (a.start_time != 0) j["start_time"] = a.start_time;
  if (a.end_time != 0) j["end_time"] = a.end_time;
  if (!a.description.empty()) j["description"] = text(a.description);
  if (!a.url.empty()) j["url"] = text(a.url);
  j["id"] = a.id;
  return j;
}

}  // namespace tron::devnet
