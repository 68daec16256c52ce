#include "node/pay/verifier.hpp"

#include <algorithm>
#include <climits>
#include <exception>
#include <vector>

#include "tron/abi.hpp"
#include "tron/hex.hpp"
#include "tron/proto/contract.pb.h"
#include "tron/proto/tron.pb.h"
#include "tron/raw_data_field.hpp"

namespace bttnode::pay {

namespace {

using nlohmann::json;
using tron::Address;
using tron::Bytes;
using tron::Hash32;
using tron::U256;
using Clock = std::chrono::steady_clock;
using ContractType = protocol::Transaction::Contract::ContractType;

// Forgotten after this many txids the node did not know, oldest first, so a peer naming random
// txids cannot grow the table without bound.
constexpr std::size_t kMaxRemembered = 4096;

Verification result(Verdict verdict, std::string detail,
                    std::optional<std::int64_t> block = std::nullopt) {
  return Verification{verdict, std::move(detail), block};
}

Verification seen(Verification v) {
  v.seen_by_node = true;
  return v;
}

const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::optional<std::string> string_member(const json& object, const char* key) {
  const json* v = member(object, key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return v->get<std::string>();
}

std::optional<Address> address_of(const std::string& bytes) {
  return Address::from_bytes(tron::as_bytes(bytes));
}

std::string text_of(const std::optional<Address>& address) {
  return address ? address->to_base58() : std::string("(not an address)");
}

// The transaction's raw_data, taken from raw_data_hex when the node gives it (the signed bytes,
// whose SHA-256 is the txid) and rebuilt from the JSON otherwise. Either way its hash must be
// the txid we asked for: the node's word alone is not trusted. nullopt and `why` otherwise.
std::optional<protocol::Transaction::raw> signed_raw(const json& tx, const Hash32& txid,
                                                     std::string& why) {
  if (auto hex = string_member(tx, "raw_data_hex")) {
    Bytes bytes;
    try {
      bytes = tron::from_hex(*hex);
    } catch (const std::invalid_argument&) {
      why = "the node's raw_data_hex is not hex";
      return std::nullopt;
    }
    if (tron::sha256(bytes) != txid) {
      why = "the node's raw_data_hex does not hash to the txid";
      return std::nullopt;
    }
    protocol::Transaction::raw raw;
    if (bytes.size() > static_cast<std::size_t>(INT_MAX) ||
        !raw.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      why = "the node's raw_data_hex is not a transaction's raw_data";
      return std::nullopt;
    }
    return raw;
  }
  try {
    tron::Transaction rebuilt = tron::Transaction::from_json(tx);
    if (rebuilt.txid() != txid) {
      why = "the node's raw_data does not hash to the txid";
      return std::nullopt;
    }
    return rebuilt.proto().raw_data();
  } catch (const std::exception& e) {
    why = std::string("the node's transaction is unreadable: ") + e.what();
    return std::nullopt;
  }
}

const char* kind_name(tron::Token::Kind kind) {
  switch (kind) {
    case tron::Token::Kind::Trx:
      return "TransferContract";
    case tron::Token::Kind::Trc10:
      return "TransferAssetContract";
    case tron::Token::Kind::Trc20:
      return "TriggerSmartContract";
  }
  return "?";
}

ContractType contract_type_of(tron::Token::Kind kind) {
  switch (kind) {
    case tron::Token::Kind::Trc10:
      return protocol::Transaction::Contract::TransferAssetContract;
    case tron::Token::Kind::Trc20:
      return protocol::Transaction::Contract::TriggerSmartContract;
    default:
      return protocol::Transaction::Contract::TransferContract;
  }
}

// Sender, recipient and amount, in that order, against what was expected.
Verification check_parties(const ExpectedPayment& e, const std::optional<Address>& owner,
                           const std::optional<Address>& to, const U256& amount) {
  if (!owner || *owner != e.from) {
    return result(Verdict::WrongSender,
                  "paid from " + text_of(owner) + ", not from the bound " + e.from.to_base58());
  }
  if (!to || *to != e.to) {
    return result(Verdict::WrongRecipient,
                  "paid to " + text_of(to) + ", not to " + e.to.to_base58());
  }
  if (amount != e.amount) {
    return result(Verdict::WrongAmount, "moves " + tron::abi::to_decimal(amount) +
                                            ", the settlement claims " +
                                            tron::abi::to_decimal(e.amount));
  }
  return result(Verdict::Credited, {});
}

// Rules 2 to 4 of the spec on the signed contract: one contract of the token's kind, from the
// bound address, to the seeder, moving exactly the claimed amount. Credited means they hold.
Verification check_contract(const protocol::Transaction::raw& raw, const ExpectedPayment& e) {
  if (raw.contract_size() != 1) {
    return result(Verdict::WrongToken, "the transaction has " +
                                           std::to_string(raw.contract_size()) +
                                           " contracts; a payment has exactly one");
  }
  const auto& contract = raw.contract(0);
  if (contract.type() != contract_type_of(e.token.kind)) {
    return result(Verdict::WrongToken,
                  "the transaction is a " +
                      protocol::Transaction::Contract::ContractType_Name(contract.type()) + ", a " +
                      e.token.to_string() + " payment is a " + kind_name(e.token.kind));
  }
  const std::string& value = contract.parameter().value();
  switch (e.token.kind) {
    case tron::Token::Kind::Trx: {
      protocol::TransferContract c;
      if (!c.ParseFromString(value) || c.amount() < 0) {
        return result(Verdict::WrongToken, "the TransferContract is unreadable");
      }
      return check_parties(e, address_of(c.owner_address()), address_of(c.to_address()),
                           U256(c.amount()));
    }
    case tron::Token::Kind::Trc10: {
      protocol::TransferAssetContract c;
      if (!c.ParseFromString(value) || c.amount() < 0) {
        return result(Verdict::WrongToken, "the TransferAssetContract is unreadable");
      }
      // In the protobuf the asset is its id's ASCII digits (JSON shows them hex-encoded).
      if (c.asset_name() != e.token.asset_id) {
        const std::string& name = c.asset_name();
        bool printable =
            std::all_of(name.begin(), name.end(), [](char ch) { return ch >= 0x20 && ch < 0x7f; });
        return result(Verdict::WrongToken,
                      "pays TRC-10 asset " +
                          (printable ? name : tron::to_hex(tron::as_bytes(name))) + ", not " +
                          e.token.asset_id);
      }
      return check_parties(e, address_of(c.owner_address()), address_of(c.to_address()),
                           U256(c.amount()));
    }
    case tron::Token::Kind::Trc20: {
      protocol::TriggerSmartContract c;
      if (!c.ParseFromString(value)) {
        return result(Verdict::WrongToken, "the TriggerSmartContract is unreadable");
      }
      auto called = address_of(c.contract_address());
      if (!called || *called != e.token.contract) {
        return result(Verdict::WrongToken, "calls contract " + text_of(called) +
                                               ", not the token " + e.token.contract.to_base58());
      }
      if (c.call_value() != 0 || c.call_token_value() != 0 || c.token_id() != 0) {
        return result(Verdict::WrongToken, "the token call also sends TRX or a TRC-10 asset");
      }
      auto call = tron::abi::try_decode_transfer(tron::as_bytes(c.data()));
      if (!call) {
        return result(Verdict::WrongToken, "the token call is not transfer(address,uint256)");
      }
      return check_parties(e, address_of(c.owner_address()), call->to, call->amount);
    }
  }
  return result(Verdict::WrongToken, "unknown token kind");
}

// Rule 1's "succeeded": the transaction's contractRet, the info's result and, for a contract
// call, the receipt's result.
Verification check_success(const json& tx, const tron::TxInfo* info, const ExpectedPayment& e) {
  std::string contract_ret;
  if (const json* ret = member(tx, "ret"); ret != nullptr && ret->is_array() && !ret->empty()) {
    contract_ret = string_member((*ret)[0], "contractRet").value_or("");
  }
  if (contract_ret != "SUCCESS") {
    return result(Verdict::FailedTx,
                  "the transaction's result is " +
                      (contract_ret.empty() ? std::string("missing") : contract_ret));
  }
  if (info == nullptr) return result(Verdict::Credited, {});
  if (!info->success) {
    std::string why = info->contract_result.empty() ? std::string("FAILED") : info->contract_result;
    if (!info->res_message.empty()) why += " (" + info->res_message + ")";
    return result(Verdict::FailedTx, "the transaction failed: " + why, info->block_number);
  }
  if (e.token.kind == tron::Token::Kind::Trc20 && info->contract_result != "SUCCESS") {
    return result(
        Verdict::FailedTx,
        "the token call's receipt is " +
            (info->contract_result.empty() ? std::string("missing") : info->contract_result),
        info->block_number);
  }
  return result(Verdict::Credited, {});
}

std::optional<Bytes> hex_member(const json& object, const char* key) {
  auto text = string_member(object, key);
  if (!text) return std::nullopt;
  try {
    return tron::from_hex(*text);
  } catch (const std::invalid_argument&) {
    return std::nullopt;
  }
}

bool word_is_address(const Bytes& word, const Address& address) {
  return word.size() == 32 &&
         std::all_of(word.begin(), word.begin() + 12, [](std::uint8_t b) { return b == 0; }) &&
         std::equal(word.begin() + 12, word.end(), address.evm().begin());
}

// The token's Transfer events in the info's logs must include one that moves the claimed
// amount from the payer to the seeder: a token that takes a fee on transfer logs less than the
// call asked for, and a contract at the token's address that emits no Transfer moved nothing
// we can see.
Verification check_transfer_log(const tron::TxInfo& info, const ExpectedPayment& e) {
  static const Hash32 kTransferTopic = tron::abi::event_topic("Transfer(address,address,uint256)");
  const json* logs = member(info.raw, "log");
  if (logs == nullptr || !logs->is_array()) {
    return result(Verdict::WrongToken, "the transaction info has no event log", info.block_number);
  }
  bool any = false;
  bool parties_seen = false;
  for (const json& log : *logs) {
    auto address = hex_member(log, "address");
    if (!address) continue;
    auto emitter = Address::from_bytes(*address);
    if (!emitter || *emitter != e.token.contract) continue;
    const json* topics = member(log, "topics");
    if (topics == nullptr || !topics->is_array() || topics->size() != 3) continue;
    std::vector<Bytes> words;
    for (const json& t : *topics) {
      if (!t.is_string()) break;
      try {
        words.push_back(tron::from_hex(t.get<std::string>()));
      } catch (const std::invalid_argument&) {
        break;
      }
    }
    if (words.size() != 3 || !std::equal(words[0].begin(), words[0].end(), kTransferTopic.begin(),
                                         kTransferTopic.end())) {
      continue;
    }
    any = true;
    if (!word_is_address(words[1], e.from) || !word_is_address(words[2], e.to)) continue;
    parties_seen = true;
    auto data = hex_member(log, "data").value_or(Bytes{});
    if (data.size() == 32 && tron::abi::decode_uint256(data) == e.amount) {
      return result(Verdict::Credited, {});
    }
  }
  if (!any) {
    return result(Verdict::WrongToken, "the token emitted no Transfer event", info.block_number);
  }
  if (parties_seen) {
    return result(Verdict::WrongAmount,
                  "the token's Transfer event does not move " + tron::abi::to_decimal(e.amount),
                  info.block_number);
  }
  return result(
      Verdict::WrongRecipient,
      "the token's Transfer events do not pay " + e.to.to_base58() + " from " + e.from.to_base58(),
      info.block_number);
}

// Rule 3's sender, by the signature rather than by the node's word: the one signature of the
// transaction must recover to the owner it names.
Verification check_signature(const json& tx, const ExpectedPayment& e) {
  const json* sigs = member(tx, "signature");
  if (sigs == nullptr || !sigs->is_array() || sigs->size() != 1 || !(*sigs)[0].is_string()) {
    return result(Verdict::WrongSender, "the transaction does not carry exactly one signature");
  }
  Bytes sig;
  try {
    sig = tron::from_hex((*sigs)[0].get<std::string>());
  } catch (const std::invalid_argument&) {
    return result(Verdict::WrongSender, "the transaction's signature is not hex");
  }
  if (sig.size() != 65) return result(Verdict::WrongSender, "the signature is not 65 bytes");
  auto signer = tron::recover_signer(e.txid, sig);
  if (!signer || *signer != e.from) {
    return result(Verdict::WrongSender, "the transaction is not signed by " + e.from.to_base58());
  }
  return result(Verdict::Credited, {});
}

bool is_unsupported(const tron::NodeError& error) {
  return error.code == "HTTP 404" || error.code == "HTTP 405" || error.code == "HTTP 501";
}

}  // namespace

const char* reject_reason(Verdict verdict) {
  switch (verdict) {
    case Verdict::Credited:
      return "";
    case Verdict::Unconfirmed:
    case Verdict::NodeDown:
      return "unconfirmed";
    case Verdict::UnknownTx:
      return "unknown_tx";
    case Verdict::FailedTx:
      return "failed_tx";
    case Verdict::WrongSender:
      return "wrong_sender";
    case Verdict::WrongRecipient:
      return "wrong_recipient";
    case Verdict::WrongToken:
      return "wrong_token";
    case Verdict::WrongAmount:
      return "wrong_amount";
    case Verdict::Replayed:
      return "replayed_tx";
  }
  return "";
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Credited:
      return "credited";
    case Verdict::NodeDown:
      return "node_down";
    default:
      return reject_reason(verdict);
  }
}

bool retry_later(Verdict verdict) {
  return verdict == Verdict::Unconfirmed || verdict == Verdict::NodeDown;
}

SettlementVerifier::SettlementVerifier(tron::FullNodeClient& node, wallet::LedgerStore& ledger,
                                       VerifierOptions options)
    : node_(node), ledger_(ledger), options_(options) {}

std::optional<wallet::Credit> SettlementVerifier::credit(const std::string& txid) {
  std::lock_guard lock(ledger_mutex_);
  return ledger_.credit(txid);
}

Verification SettlementVerifier::verify(const ExpectedPayment& e, tron::FullNodeClient& node) {
  const std::string txid = tron::to_hex(e.txid);
  // Rule 5 first: a credited txid needs no node to be refused.
  if (auto credited = credit(txid)) {
    return result(Verdict::Replayed, "transaction " + txid + " was credited before",
                  credited->block_number);
  }

  std::optional<json> tx;
  std::optional<tron::TxInfo> info;
  try {
    tx = node.transaction_by_id(e.txid);
    if (!tx) return not_found(e, node);
    info = node.transaction_info_by_id(e.txid);
  } catch (const tron::NodeError& error) {
    return result(Verdict::NodeDown, error.what());
  }
  forget(e.txid);

  std::string why;
  auto raw = signed_raw(*tx, e.txid, why);
  if (!raw) return result(Verdict::NodeDown, why);
  std::optional<std::int64_t> block;
  if (info && info->block_number > 0) block = info->block_number;

  Verification v = check_contract(*raw, e);
  if (v.verdict != Verdict::Credited) {
    v.block_number = block;
    return v;
  }
  v = check_signature(*tx, e);
  if (v.verdict != Verdict::Credited) {
    v.block_number = block;
    return v;
  }
  v = check_success(*tx, info ? &*info : nullptr, e);
  if (v.verdict != Verdict::Credited) return v;
  if (!block) {
    // Found, but its info (block number, receipt) is not written yet.
    return seen(
        result(Verdict::Unconfirmed, "the node has no block number for the transaction yet"));
  }
  if (e.token.kind == tron::Token::Kind::Trc20) {
    v = check_transfer_log(*info, e);
    if (v.verdict != Verdict::Credited) return v;
  }

  const std::int64_t required = std::max(e.confirmations, 1);
  std::int64_t head = 0;
  try {
    head = node.now_block().number;
  } catch (const tron::NodeError& error) {
    return result(Verdict::NodeDown, error.what(), block);
  }
  const std::int64_t have = head - *block + 1;
  if (have < required) {
    return seen(result(Verdict::Unconfirmed,
                       "in block " + std::to_string(*block) + " with " +
                           std::to_string(std::max<std::int64_t>(have, 0)) + " of " +
                           std::to_string(required) + " confirmations",
                       block));
  }

  wallet::Credit credit;
  credit.txid = txid;
  credit.token = e.token;
  credit.from = e.from;
  credit.to = e.to;
  credit.amount = e.amount;
  credit.block_number = block;
  if (!e.info_hash.empty()) credit.info_hash = e.info_hash;
  if (!e.peer.empty()) credit.peer = e.peer;
  bool fresh = false;
  {
    std::lock_guard lock(ledger_mutex_);
    fresh = ledger_.credit_once(credit);
  }
  if (!fresh) {
    return result(Verdict::Replayed, "transaction " + txid + " was credited before", block);
  }
  return result(Verdict::Credited,
                "credited " + tron::abi::to_decimal(e.amount) + " " + e.token.to_string() +
                    " from block " + std::to_string(*block),
                block);
}

Verification SettlementVerifier::check_signed(const std::string& bytes, const ExpectedPayment& e,
                                              std::int64_t now_ms) {
  protocol::Transaction tx;
  if (bytes.empty() || bytes.size() > 4096 || !tx.ParseFromString(bytes)) {
    return result(Verdict::UnknownTx, "the settlement's transaction is not a TRON transaction");
  }
  // The txid is the hash of raw_data as signed: re-serializing a parsed message could differ
  // from the signer's bytes, so the hash is taken over the field as it came.
  auto raw_bytes = tron::raw_data_field(tron::as_bytes(bytes));
  if (!raw_bytes || tron::sha256(*raw_bytes) != e.txid) {
    return result(Verdict::UnknownTx, "the settlement's transaction does not hash to its txid");
  }
  const auto& raw = tx.raw_data();
  Verification v = check_contract(raw, e);
  if (v.verdict != Verdict::Credited) return v;
  if (tx.signature_size() != 1 || tx.signature(0).size() != 65) {
    return result(Verdict::WrongSender, "the transaction does not carry exactly one signature");
  }
  auto signer = tron::recover_signer(e.txid, tron::as_bytes(tx.signature(0)));
  if (!signer || *signer != e.from) {
    return result(Verdict::WrongSender, "the transaction is not signed by " + e.from.to_base58());
  }
  constexpr std::int64_t kDay = 24 * 3600 * 1000;
  if (raw.expiration() <= now_ms || raw.expiration() > now_ms + kDay) {
    return result(Verdict::FailedTx, "the transaction expires at " +
                                         std::to_string(raw.expiration()) + ", now is " +
                                         std::to_string(now_ms));
  }
  const std::string txid = tron::to_hex(e.txid);
  if (auto credited = credit(txid)) {
    return result(Verdict::Replayed, "transaction " + txid + " was credited before",
                  credited->block_number);
  }
  return result(Verdict::Credited, {});
}

// The node has no such transaction in a block. If it holds it in its pending pool (java-tron's
// gettransactionfrompending; nodes without that call answer 404), it is on its way; otherwise
// it is taken as on its way for unknown_grace after the first question, then as unknown.
Verification SettlementVerifier::not_found(const ExpectedPayment& e, tron::FullNodeClient& node) {
  const std::string txid = tron::to_hex(e.txid);
  try {
    json pending = node.post("/wallet/gettransactionfrompending", json{{"value", txid}});
    std::string why;
    if (!pending.empty() && signed_raw(pending, e.txid, why)) {
      return seen(
          result(Verdict::Unconfirmed, "transaction " + txid + " is pending, not in a block yet"));
    }
  } catch (const tron::NodeError& error) {
    if (error.transport) return result(Verdict::NodeDown, error.what());
    if (!is_unsupported(error)) return result(Verdict::NodeDown, error.what());
  }

  const auto now = Clock::now();
  Clock::time_point first;
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = first_asked_.try_emplace(e.txid, now);
    first = it->second;
    if (inserted && first_asked_.size() > kMaxRemembered) {
      // Drop the entry asked about longest ago (other than this one).
      auto oldest = first_asked_.end();
      for (auto i = first_asked_.begin(); i != first_asked_.end(); ++i) {
        if (i != it && (oldest == first_asked_.end() || i->second < oldest->second)) oldest = i;
      }
      if (oldest != first_asked_.end()) first_asked_.erase(oldest);
    }
  }
  if (now - first < options_.unknown_grace) {
    return result(Verdict::Unconfirmed, "the node does not know transaction " + txid + " yet");
  }
  return result(Verdict::UnknownTx, "the node knows no transaction " + txid);
}

void SettlementVerifier::forget(const Hash32& txid) {
  std::lock_guard lock(mutex_);
  first_asked_.erase(txid);
}

}  // namespace bttnode::pay
