#include "tron/devnet/service.hpp"

#include <algorithm>
#include <cctype>

#include "tron/devnet/json_codec.hpp"
#include "tron/devnet/resource.hpp"

namespace tron::devnet {

using nlohmann::json;
using Contract = protocol::Transaction::Contract;

namespace {

constexpr const char* kJsonException = "com.alibaba.fastjson.JSONException";
constexpr const char* kValidateException = "org.tron.core.exception.ContractValidateException";
constexpr const char* kCodeVersion = "4.8.0";
// Bounds of a request body: java-tron's default node.http.maxMessageSize, and a nesting depth
// far beyond any java-tron request (a transaction is about 8 deep) that keeps parsing, dumping
// and freeing a body from recursing without limit.
constexpr std::size_t kMaxBodyBytes = 4 * 1024 * 1024;
constexpr int kMaxJsonDepth = 64;

// True when brackets outside strings nest deeper than `limit`.
bool nested_deeper_than(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

std::string hex_of(const std::string& bytes) {
  return to_hex(as_bytes(bytes));
}

// The "result" object java-tron answers a failed contract request with: a code and the
// message in hex.
json error_result(const char* code, const std::string& message) {
  return {{"code", code}, {"message", hex_of(message)}};
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() + 0 &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

json parse_query(std::string_view query) {
  json params = json::object();
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string key = url_decode(pair.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
    params[key] = value;
  }
  return params;
}

bool truthy(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s == "true";
  }
  if (v.is_number_integer()) return v.get<std::int64_t>() != 0;
  return false;
}

const json& param(const json& params, const char* name) {
  static const json kNull;
  auto it = params.find(name);
  return it == params.end() ? kNull : *it;
}

bool blank(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

std::optional<Hash32> hash_param(const json& v) {
  if (!v.is_string()) return std::nullopt;
  try {
    Bytes b = from_hex(v.get<std::string>());
    if (b.size() != 32) return std::nullopt;
    Hash32 h;
    std::copy(b.begin(), b.end(), h.begin());
    return h;
  } catch (const std::invalid_argument&) {
    throw JavaError("org.apache.commons.codec.DecoderException", "Illegal hexadecimal character");
  }
}

json error_json(const std::string& text) {
  return json{{"Error", text}};
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Service::Service(Chain chain, Clock clock) : chain_(std::move(chain)), clock_(std::move(clock)) {}

const std::map<std::string, Service::Route>& Service::routes() {
  static const std::map<std::string, Route> r = {
      {"getnowblock", {&Service::get_now_block, true, true}},
      {"getblockbynum", {&Service::get_block_by_num, true, true}},
      {"getblockbyid", {&Service::get_block_by_id, true, true}},
      {"getblock", {&Service::get_block, true, true}},
      {"getblockbylatestnum", {&Service::get_block_by_latest_num, true, true}},
      {"getblockbylimitnext", {&Service::get_block_by_limit_next, true, true}},
      {"getaccount", {&Service::get_account, true, true}},
      {"getaccountresource", {&Service::get_account_resource, true, false}},
      {"getaccountnet", {&Service::get_account_net, true, false}},
      {"getchainparameters", {&Service::get_chain_parameters, true, false}},
      {"getassetissuebyid", {&Service::get_asset_issue_by_id, true, true}},
      {"getassetissuebyname", {&Service::get_asset_issue_by_id, true, true}},
      {"getassetissuelist", {&Service::get_asset_issue_list, true, true}},
      {"createtransaction", {&Service::create_transaction, false, false}},
      {"transferasset", {&Service::transfer_asset, false, false}},
      {"triggersmartcontract", {&Service::trigger_smart_contract, false, false}},
      {"triggerconstantcontract", {&Service::trigger_constant_contract, false, true}},
      {"estimateenergy", {&Service::estimate_energy, false, true}},
      {"getcontract", {&Service::get_contract, true, false}},
      {"getcontractinfo", {&Service::get_contract_info, true, false}},
      {"broadcasttransaction", {&Service::broadcast_transaction, false, false}},
      {"broadcasthex", {&Service::broadcast_hex, false, false}},
      {"gettransactionbyid", {&Service::get_transaction_by_id, true, true}},
      {"gettransactioninfobyid", {&Service::get_transaction_info_by_id, true, true}},
      {"gettransactionfrompending", {&Service::get_transaction_from_pending, true, false}},
      {"gettransactionlistfrompending", {&Service::get_transaction_list_from_pending, true, false}},
      {"getpendingsize", {&Service::get_pending_size, true, false}},
      {"gettransactioninfobyblocknum", {&Service::get_transaction_info_by_block_num, true, true}},
      {"getnodeinfo", {&Service::get_node_info, true, true}},
      {"getbandwidthprices", {&Service::get_bandwidth_prices, true, true}},
      {"getenergyprices", {&Service::get_energy_prices, true, true}},
  };
  return r;
}

ApiReply Service::handle(const std::string& method, const std::string& target,
                         const std::string& body) {
  std::string_view t = target;
  std::size_t q = t.find('?');
  std::string_view path = t.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
  Request req;
  std::string_view name;
  if (path.starts_with("/wallet/")) {
    name = path.substr(8);
  } else if (path.starts_with("/walletsolidity/")) {
    name = path.substr(16);
    req.solid = true;
  }
  auto it = routes().find(std::string(name));
  if (name.empty() || it == routes().end() || (req.solid && !it->second.solidity)) {
    return {404, dump(error_json("HTTP 404 Not Found: " + std::string(path)))};
  }
  const Route& route = it->second;
  if (method != "POST" && !(method == "GET" && route.get)) {
    return {405, dump(error_json("HTTP method " + method + " is not supported by this URL"))};
  }
  if (body.size() > kMaxBodyBytes) {
    return {413, dump(error_json("class java.lang.Exception : body size is too big, the limit is " +
                                 std::to_string(kMaxBodyBytes)))};
  }
  if (nested_deeper_than(body, kMaxJsonDepth)) {
    return {400, dump(error_json("class com.alibaba.fastjson.JSONException : request JSON is "
                                 "nested deeper than " +
                                 std::to_string(kMaxJsonDepth) + " levels"))};
  }
  try {
    if (method == "GET") {
      req.params = parse_query(query);
    } else if (blank(body)) {
      req.params = json::object();
    } else {
      req.params = json::parse(body, nullptr, false);
      if (req.params.is_discarded()) {
        throw JavaError(kJsonException,
                        "syntax error, pos 1, line 1, column 2" + body.substr(0, 16));
      }
      if (!req.params.is_object()) {
        throw JavaError(
            "java.lang.ClassCastException",
            "com.alibaba.fastjson.JSONArray cannot be cast to com.alibaba.fastjson.JSONObject");
      }
    }
    req.visible = truthy(param(req.params, "visible"));
    std::lock_guard lock(mu_);
    return {200, dump((this->*route.handler)(req))};
  } catch (const JavaError& e) {
    return {200, dump(error_json(e.text()))};
  } catch (const ContractValidateError& e) {
    return {200, dump(error_json(std::string("class ") + kValidateException + " : " + e.what()))};
  } catch (const std::exception& e) {
    return {200, dump(error_json(std::string("class java.lang.IllegalArgumentException : ") +
                                 e.what()))};
  }
}

std::int64_t Service::seal() {
  std::lock_guard lock(mu_);
  chain_.seal(clock_());
  return chain_.head_number();
}

std::string Service::state_json() const {
  std::lock_guard lock(mu_);
  return chain_.to_state_json().dump();
}

std::int64_t Service::head_number() const {
  std::lock_guard lock(mu_);
  return chain_.head_number();
}

std::size_t Service::pending_count() const {
  std::lock_guard lock(mu_);
  return chain_.pending_count();
}

// ---- blocks

std::int64_t Service::top(const Request& r) const {
  return r.solid ? chain_.solid_number() : chain_.head_number();
}

const protocol::Block* Service::block_upto(const Request& r, std::int64_t n) const {
  return n > top(r) ? nullptr : chain_.block(n);
}

json Service::get_now_block(const Request& r) {
  const std::int64_t n = top(r);
  return block_to_json(*chain_.block(n), chain_.block_id(n), r.visible);
}

json Service::get_block_by_num(const Request& r) {
  const json& num = param(r.params, "num");
  std::int64_t n = num.is_null() ? 0 : int_from_json(num, "num");
  const protocol::Block* b = block_upto(r, n);
  if (b == nullptr) return json::object();
  return block_to_json(*b, chain_.block_id(n), r.visible);
}

json Service::get_block_by_id(const Request& r) {
  auto id = hash_param(param(r.params, "value"));
  if (!id) return json::object();
  const protocol::Block* b = chain_.block_by_id(*id);
  if (b == nullptr || b->block_header().raw_data().number() > top(r)) return json::object();
  return block_to_json(*b, *id, r.visible);
}

json Service::get_block(const Request& r) {
  const bool detail = truthy(param(r.params, "detail"));
  const json& id_or_num = param(r.params, "id_or_num");
  std::int64_t n = top(r);
  if (!id_or_num.is_null()) {
    std::string s = id_or_num.is_string() ? id_or_num.get<std::string>() : id_or_num.dump();
    if (s.size() == 64) {
      auto id = hash_param(json(s));
      const protocol::Block* b = id ? chain_.block_by_id(*id) : nullptr;
      if (b == nullptr || b->block_header().raw_data().number() > top(r)) return json::object();
      return block_to_json(*b, *id, r.visible, detail);
    }
    n = int_from_json(json(s), "id_or_num");
  }
  const protocol::Block* b = block_upto(r, n);
  if (b == nullptr) return json::object();
  return block_to_json(*b, chain_.block_id(n), r.visible, detail);
}

json Service::get_block_by_latest_num(const Request& r) {
  std::int64_t num = int_from_json(param(r.params, "num"), "num");
  json list = json::array();
  if (num > 0 && num <= 100) {
    for (std::int64_t n = std::max<std::int64_t>(0, top(r) - num + 1); n <= top(r); ++n) {
      list.push_back(block_to_json(*chain_.block(n), chain_.block_id(n), r.visible));
    }
  }
  if (list.empty()) return json::object();
  return json{{"block", std::move(list)}};
}

json Service::get_block_by_limit_next(const Request& r) {
  std::int64_t start = int_from_json(param(r.params, "startNum"), "startNum");
  std::int64_t end = int_from_json(param(r.params, "endNum"), "endNum");
  json list = json::array();
  if (start >= 0 && end > start && end - start <= 100) {
    for (std::int64_t n = start; n < end && n <= top(r); ++n) {
      list.push_back(block_to_json(*chain_.block(n), chain_.block_id(n), r.visible));
    }
  }
  if (list.empty()) return json::object();
  return json{{"block", std::move(list)}};
}

// ---- accounts and parameters

json Service::get_account(const Request& r) {
  const json& address = param(r.params, "address");
  if (address.is_null()) return json::object();
  std::string raw = address_from_json(address, r.visible, "address");
  auto a = Address::from_bytes(as_bytes(raw));
  if (!a || raw.size() != 21) return json::object();
  const Account* acct = chain_.state(r.solid).find(*a);
  if (acct == nullptr) return json::object();
  return account_to_json(*acct, r.visible, chain_.genesis().timestamp);
}

json Service::get_account_resource(const Request& r) {
  const json& address = param(r.params, "address");
  if (address.is_null()) return json::object();
  std::string raw = address_from_json(address, r.visible, "address");
  auto a = Address::from_bytes(as_bytes(raw));
  const WorldState& state = chain_.state();
  const Account* acct = a && raw.size() == 21 ? state.find(*a) : nullptr;
  if (acct == nullptr) return json::object();
  const ChainParams& p = chain_.params();
  // Usage as of the head block, decayed as java-tron's processors do before answering.
  const std::int64_t now = slot_of(chain_.head_timestamp() - chain_.genesis().timestamp);
  const std::int64_t net_weight = state.total_net_weight();
  const std::int64_t energy_weight = state.total_energy_weight();
  // proto3 JSON: fields that are 0 are left out.
  json j = json::object();
  auto put = [&j](const char* key, std::int64_t v) {
    if (v != 0) j[key] = v;
  };
  put("freeNetUsed", increase_usage(acct->free_net_usage, 0, acct->latest_consume_free_time, now));
  put("freeNetLimit", p.free_net_limit);
  put("NetUsed", increase_usage(acct->net_usage, 0, acct->latest_consume_time, now));
  put("NetLimit", staked_limit(acct->staked_for_bandwidth, p.total_net_limit, net_weight));
  if (!acct->assets.empty()) {
    json zero = json::array();
    for (const auto& [id, v] : acct->assets) zero.push_back({{"key", id}});
    j["assetNetUsed"] = zero;
    j["assetNetLimit"] = zero;
  }
  put("TotalNetLimit", p.total_net_limit);
  put("TotalNetWeight", net_weight);
  put("EnergyUsed",
      increase_usage(acct->energy_usage, 0, acct->latest_consume_time_for_energy, now));
  put("EnergyLimit", staked_limit(acct->staked_for_energy, p.total_energy_limit, energy_weight));
  put("TotalEnergyLimit", p.total_energy_limit);
  put("TotalEnergyWeight", energy_weight);
  return j;
}

json Service::get_account_net(const Request& r) {
  json j = get_account_resource(r);
  for (const char* key : {"EnergyUsed", "EnergyLimit", "TotalEnergyLimit", "TotalEnergyWeight"}) {
    j.erase(key);
  }
  return j;
}

json Service::get_chain_parameters(const Request&) {
  return json{{"chainParameter", chain_.params().to_chain_parameters()}};
}

json Service::get_asset_issue_by_id(const Request& r) {
  const json& value = param(r.params, "value");
  if (!value.is_string() && !value.is_number_integer()) return json::object();
  std::string v = value.is_string() ? value.get<std::string>() : value.dump();
  const AssetIssue& asset = chain_.state().asset;
  // getassetissuebyname takes the name as hex; getassetissuebyid the id as text.
  bool match = v == asset.id;
  if (!match) {
    try {
      Bytes b = from_hex(v);
      match = std::string(b.begin(), b.end()) == asset.id;
    } catch (const std::invalid_argument&) {
    }
  }
  if (!match) return json::object();
  return asset_to_json(asset, r.visible);
}

json Service::get_asset_issue_list(const Request& r) {
  return json{{"assetIssue", json::array({asset_to_json(chain_.state().asset, r.visible)})}};
}

// ---- building transactions

namespace {

json created(const protocol::Transaction& tx, bool visible) {
  json j = tx_to_json(tx, visible);
  j["visible"] = visible;
  return j;
}

void set_extra_data(const json& params, bool visible, protocol::Transaction& tx) {
  const json& extra = param(params, "extra_data");
  if (extra.is_null()) return;
  if (!extra.is_string()) throw JavaError(kParseException, "Expected string for extra_data");
  if (visible) {
    tx.mutable_raw_data()->set_data(extra.get<std::string>());
  } else {
    tx.mutable_raw_data()->set_data(hex_bytes_from_json(extra, "extra_data"));
  }
}

}  // namespace

json Service::create_transaction(const Request& r) {
  protocol::TransferContract c;
  const json& p = r.params;
  if (!param(p, "owner_address").is_null())
    c.set_owner_address(address_from_json(param(p, "owner_address"), r.visible, "owner_address"));
  if (!param(p, "to_address").is_null())
    c.set_to_address(address_from_json(param(p, "to_address"), r.visible, "to_address"));
  if (!param(p, "amount").is_null()) c.set_amount(int_from_json(param(p, "amount"), "amount"));
  protocol::Transaction tx = chain_.make_transaction(Contract::TransferContract, c, clock_());
  chain_.validate_contract(DecodedContract::decode(tx.raw_data().contract(0)));
  set_extra_data(p, r.visible, tx);
  return created(tx, r.visible);
}

json Service::transfer_asset(const Request& r) {
  protocol::TransferAssetContract c;
  const json& p = r.params;
  if (!param(p, "owner_address").is_null())
    c.set_owner_address(address_from_json(param(p, "owner_address"), r.visible, "owner_address"));
  if (!param(p, "to_address").is_null())
    c.set_to_address(address_from_json(param(p, "to_address"), r.visible, "to_address"));
  if (!param(p, "amount").is_null()) c.set_amount(int_from_json(param(p, "amount"), "amount"));
  const json& name = param(p, "asset_name");
  if (!name.is_null()) {
    if (!name.is_string()) throw JavaError(kParseException, "Expected string for asset_name");
    c.set_asset_name(r.visible ? name.get<std::string>() : hex_bytes_from_json(name, "asset_name"));
  }
  protocol::Transaction tx = chain_.make_transaction(Contract::TransferAssetContract, c, clock_());
  chain_.validate_contract(DecodedContract::decode(tx.raw_data().contract(0)));
  set_extra_data(p, r.visible, tx);
  return created(tx, r.visible);
}

Service::Trigger Service::parse_trigger(const Request& r, bool constant) const {
  const json& p = r.params;
  Trigger t;
  const json& owner = param(p, "owner_address");
  const bool no_owner = owner.is_null() || (owner.is_string() && owner.get<std::string>().empty());
  // A constant call may leave the caller out (java-tron then calls from the zero address).
  if (no_owner && !constant) {
    throw JavaError("java.security.InvalidParameterException", "owner_address isn't set.");
  }
  const json& contract = param(p, "contract_address");
  if (contract.is_null() || (contract.is_string() && contract.get<std::string>().empty())) {
    throw JavaError("java.security.InvalidParameterException", "contract_address isn't set.");
  }
  if (!no_owner) t.contract.set_owner_address(address_from_json(owner, r.visible, "owner_address"));
  t.contract.set_contract_address(address_from_json(contract, r.visible, "contract_address"));
  const json& data = param(p, "data");
  const json& selector = param(p, "function_selector");
  if (!data.is_null()) {
    t.contract.set_data(hex_bytes_from_json(data, "data"));
  } else if (selector.is_string()) {
    std::string sel = selector.get<std::string>();
    sel.erase(std::remove(sel.begin(), sel.end(), ' '), sel.end());
    Hash32 h = keccak256(as_bytes(sel));
    std::string bytes(h.begin(), h.begin() + 4);
    const json& parameter = param(p, "parameter");
    if (!parameter.is_null()) bytes += hex_bytes_from_json(parameter, "parameter");
    t.contract.set_data(bytes);
  } else {
    throw JavaError("java.security.InvalidParameterException",
                    "function_selector or data isn't set.");
  }
  if (!param(p, "call_value").is_null())
    t.contract.set_call_value(int_from_json(param(p, "call_value"), "call_value"));
  if (!param(p, "call_token_value").is_null())
    t.contract.set_call_token_value(
        int_from_json(param(p, "call_token_value"), "call_token_value"));
  if (!param(p, "token_id").is_null())
    t.contract.set_token_id(int_from_json(param(p, "token_id"), "token_id"));
  if (!param(p, "fee_limit").is_null())
    t.fee_limit = int_from_json(param(p, "fee_limit"), "fee_limit");
  return t;
}

json Service::trigger_smart_contract(const Request& r) {
  json out = json::object();
  try {
    Trigger t = parse_trigger(r, false);
    if (Address::from_bytes(as_bytes(t.contract.contract_address())) !=
            chain_.state().token.contract ||
        t.contract.contract_address().size() != 21) {
      out["result"] =
          error_result("CONTRACT_VALIDATE_ERROR", "No contract or not a valid smart contract");
      return out;
    }
    protocol::Transaction tx =
        chain_.make_transaction(Contract::TriggerSmartContract, t.contract, clock_(), t.fee_limit);
    set_extra_data(r.params, r.visible, tx);
    out["result"] = {{"result", true}};
    out["txid"] = to_hex(transaction_id(tx));
    out["transaction"] = created(tx, r.visible);
  } catch (const JavaError& e) {
    out["result"] = error_result("OTHER_ERROR", e.text());
  }
  return out;
}

CallOutcome Service::constant_call_of(const Trigger& t, bool solid) const {
  auto owner = Address::from_bytes(as_bytes(t.contract.owner_address()));
  auto contract = Address::from_bytes(as_bytes(t.contract.contract_address()));
  Bytes data(t.contract.data().begin(), t.contract.data().end());
  return chain_.constant_call(owner ? *owner : Address(), contract ? *contract : Address(), data,
                              t.contract.call_value(), solid);
}

json Service::trigger_constant_contract(const Request& r) {
  json out = json::object();
  try {
    Trigger t = parse_trigger(r, true);
    CallOutcome call = constant_call_of(t, r.solid);
    protocol::Transaction tx =
        chain_.make_transaction(Contract::TriggerSmartContract, t.contract, clock_(), t.fee_limit);
    json result = {{"result", true}};
    json tx_json = created(tx, r.visible);
    if (!call.success) {
      result["message"] = hex_of("REVERT opcode executed");
      tx_json["ret"] = json::array({{{"ret", "FAILED"}}});
    } else {
      tx_json["ret"] = json::array({json::object()});
    }
    out["result"] = std::move(result);
    if (call.energy != 0) out["energy_used"] = call.energy;
    out["constant_result"] = json::array({to_hex(call.output)});
    out["txid"] = to_hex(transaction_id(tx));
    out["transaction"] = std::move(tx_json);
  } catch (const ContractValidateError& e) {
    out["result"] = error_result("CONTRACT_VALIDATE_ERROR", e.what());
  } catch (const JavaError& e) {
    out["result"] = error_result("OTHER_ERROR", e.text());
  }
  return out;
}

json Service::estimate_energy(const Request& r) {
  json out = json::object();
  try {
    Trigger t = parse_trigger(r, true);
    CallOutcome call = constant_call_of(t, r.solid);
    if (!call.success) {
      out["result"] = error_result("CONTRACT_EXE_ERROR", "REVERT opcode executed");
      return out;
    }
    out["result"] = {{"result", true}};
    out["energy_required"] = call.energy;
  } catch (const ContractValidateError& e) {
    out["result"] = error_result("CONTRACT_VALIDATE_ERROR", e.what());
  } catch (const JavaError& e) {
    out["result"] = error_result("OTHER_ERROR", e.text());
  }
  return out;
}

json Service::get_contract(const Request& r) {
  const json& value = param(r.params, "value");
  if (value.is_null()) return json::object();
  std::string raw = address_from_json(value, r.visible, "value");
  const Trc20Token& token = chain_.state().token;
  if (raw != std::string(token.contract.raw().begin(), token.contract.raw().end())) {
    return json::object();
  }
  const Address& origin = chain_.state().asset.owner;
  return json{{"origin_address",
               address_text(std::string(origin.raw().begin(), origin.raw().end()), r.visible)},
              {"contract_address", address_text(raw, r.visible)},
              {"abi", trc20_abi()},
              {"consume_user_resource_percent", 100},
              {"name", token.name},
              {"origin_energy_limit", 10'000'000}};
}

json Service::get_contract_info(const Request& r) {
  json c = get_contract(r);
  if (c.empty()) return json::object();
  return json{{"smart_contract", std::move(c)}, {"contract_state", {{"energy_factor", 0}}}};
}

// ---- broadcasting and looking up transactions

json Service::broadcast_transaction(const Request& r) {
  protocol::Transaction tx = tx_from_json(r.params, r.visible);
  BroadcastOutcome out = chain_.broadcast(tx);
  json j = json::object();
  if (out.ok()) {
    j["result"] = true;
  } else {
    j["code"] = protocol::Return::response_code_Name(out.code);
    if (!out.message.empty()) j["message"] = hex_of(out.message);
  }
  j["txid"] = to_hex(out.txid);
  return j;
}

json Service::broadcast_hex(const Request& r) {
  const json& hex = param(r.params, "transaction");
  if (!hex.is_string()) throw JavaError("java.lang.NullPointerException", "null");
  Bytes bytes;
  try {
    bytes = from_hex(hex.get<std::string>());
  } catch (const std::invalid_argument&) {
    throw JavaError("org.apache.commons.codec.DecoderException", "Illegal hexadecimal character");
  }
  protocol::Transaction tx;
  if (!tx.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw JavaError("com.google.protobuf.InvalidProtocolBufferException",
                    "While parsing a protocol message, the input ended unexpectedly in the middle "
                    "of a field.");
  }
  BroadcastOutcome out = chain_.broadcast(tx);
  return json{{"result", out.ok()},
              {"code", protocol::Return::response_code_Name(out.code)},
              {"message", out.message},
              {"transaction", dump(tx_to_json(tx, true))},
              {"txid", to_hex(out.txid)}};
}

json Service::get_transaction_by_id(const Request& r) {
  auto id = hash_param(param(r.params, "value"));
  if (!id) return json::object();
  const protocol::Transaction* tx = chain_.find_transaction(*id, r.solid);
  if (tx == nullptr) return json::object();
  return tx_to_json(*tx, r.visible);
}

json Service::get_transaction_from_pending(const Request& r) {
  auto id = hash_param(param(r.params, "value"));
  if (!id) return json::object();
  const protocol::Transaction* tx = chain_.find_pending(*id);
  if (tx == nullptr) return json::object();
  return tx_to_json(*tx, r.visible);
}

json Service::get_transaction_list_from_pending(const Request&) {
  json ids = json::array();
  for (const auto& id : chain_.pending_ids()) ids.push_back(to_hex(id));
  return json{{"txId", std::move(ids)}};
}

json Service::get_pending_size(const Request&) {
  return json{{"pendingSize", static_cast<std::int64_t>(chain_.pending_count())}};
}

json Service::get_transaction_info_by_id(const Request& r) {
  auto id = hash_param(param(r.params, "value"));
  if (!id) return json::object();
  const protocol::TransactionInfo* info = chain_.find_info(*id, r.solid);
  if (info == nullptr) return json::object();
  return info_to_json(*info, r.visible);
}

json Service::get_transaction_info_by_block_num(const Request& r) {
  std::int64_t n = int_from_json(param(r.params, "num"), "num");
  const protocol::Block* b = block_upto(r, n);
  json list = json::array();
  if (b == nullptr) return list;
  for (const auto& tx : b->transactions()) {
    const protocol::TransactionInfo* info = chain_.find_info(transaction_id(tx));
    if (info != nullptr) list.push_back(info_to_json(*info, r.visible));
  }
  return list;
}

json Service::get_node_info(const Request&) {
  const std::int64_t head = chain_.head_number();
  const std::int64_t solid = chain_.solid_number();
  auto describe = [&](std::int64_t n) {
    return "Num:" + std::to_string(n) + ",ID:" + to_hex(chain_.block_id(n));
  };
  return json{{"beginSyncNum", head},
              {"block", describe(head)},
              {"solidityBlock", describe(solid)},
              {"currentConnectCount", 0},
              {"activeConnectCount", 0},
              {"passiveConnectCount", 0},
              {"totalFlow", 0},
              {"peerInfoList", json::array()},
              {"configNodeInfo",
               {{"codeVersion", kCodeVersion},
                {"p2pVersion", chain_.genesis().chain_name},
                {"listenPort", listen_port_},
                {"discoverEnable", false},
                {"activeNodeSize", 0},
                {"passiveNodeSize", 0},
                {"sendNodeSize", 0},
                {"maxConnectCount", 0},
                {"sameIpMaxConnectCount", 0},
                {"backupListenPort", 0},
                {"backupMemberSize", 0},
                {"backupPriority", 0},
                {"dbVersion", 2},
                {"minParticipationRate", 0},
                {"supportConstant", true},
                {"minTimeRatio", 0.0},
                {"maxTimeRatio", 5.0},
                {"allowCreationOfContracts", 1},
                {"allowAdaptiveEnergy", 0}}},
              {"machineInfo", json::object()},
              {"cheatWitnessInfoMap", json::object()}};
}

json Service::get_bandwidth_prices(const Request&) {
  return json{{"prices", "0:" + std::to_string(chain_.params().transaction_fee)}};
}

json Service::get_energy_prices(const Request&) {
  return json{{"prices", "0:" + std::to_string(chain_.params().energy_fee)}};
}

}  // namespace tron::devnet
