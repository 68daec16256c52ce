#include "tron/transaction.hpp"

#include <limits>
#include <stdexcept>

#include "tron/proto/contract.pb.h"
#include "tron/tx_json.hpp"

namespace tron {

namespace {

using ContractType = protocol::Transaction::Contract::ContractType;

const std::string& type_url(ContractType type) {
  // One string per kind, so building a transaction does not compose it each time.
  static const std::string kTransfer = "type.googleapis.com/protocol.TransferContract";
  static const std::string kTransferAsset = "type.googleapis.com/protocol.TransferAssetContract";
  static const std::string kTrigger = "type.googleapis.com/protocol.TriggerSmartContract";
  switch (type) {
    case protocol::Transaction::Contract::TransferAssetContract:
      return kTransferAsset;
    case protocol::Transaction::Contract::TriggerSmartContract:
      return kTrigger;
    default:
      return kTransfer;
  }
}

void set_address(std::string* field, const Address& address) {
  field->assign(reinterpret_cast<const char*>(address.raw().data()), address.raw().size());
}

void set_bytes(std::string* field, std::span<const std::uint8_t> bytes) {
  field->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Adds the single contract of a payment and the TAPOS fields to raw_data.
template <class Message>
void fill_raw(protocol::Transaction::raw* raw, ContractType type, const Message& message,
              const TxTiming& timing) {
  set_bytes(raw->mutable_ref_block_bytes(), timing.ref_block_bytes);
  set_bytes(raw->mutable_ref_block_hash(), timing.ref_block_hash);
  raw->set_expiration(timing.expiration);
  raw->set_timestamp(timing.timestamp);
  auto* contract = raw->add_contract();
  contract->set_type(type);
  auto* any = contract->mutable_parameter();
  any->set_type_url(type_url(type));
  message.SerializeToString(any->mutable_value());
}

std::optional<Address> address_of(const std::string& bytes) {
  return Address::from_bytes(as_bytes(bytes));
}

std::int64_t to_int64(const U256& amount, const char* kind) {
  if (amount > U256(std::numeric_limits<std::int64_t>::max())) {
    throw std::invalid_argument(std::string("a ") + kind +
                                " amount must fit in a signed 64-bit integer (at most "
                                "9223372036854775807)");
  }
  return static_cast<std::int64_t>(amount);
}

}  // namespace

TxTiming TxTiming::from_block_id(std::span<const std::uint8_t> block_id, std::int64_t timestamp,
                                 std::int64_t expiration) {
  if (block_id.size() != 32) {
    throw std::invalid_argument("a block id is 32 bytes (64 hex digits), got " +
                                std::to_string(block_id.size()) + " bytes");
  }
  TxTiming timing;
  timing.ref_block_bytes.assign(block_id.begin() + 6, block_id.begin() + 8);
  timing.ref_block_hash.assign(block_id.begin() + 8, block_id.begin() + 16);
  timing.timestamp = timestamp;
  timing.expiration = expiration;
  return timing;
}

Transaction Transaction::transfer_trx(const Address& from, const Address& to,
                                      std::int64_t amount, const TxTiming& timing) {
  protocol::TransferContract contract;
  set_address(contract.mutable_owner_address(), from);
  set_address(contract.mutable_to_address(), to);
  contract.set_amount(amount);
  Transaction tx;
  fill_raw(tx.proto_.mutable_raw_data(), protocol::Transaction::Contract::TransferContract,
           contract, timing);
  tx.set_raw_cache();
  return tx;
}

Transaction Transaction::transfer_trc10(std::string_view asset_id, const Address& from,
                                        const Address& to, std::int64_t amount,
                                        const TxTiming& timing) {
  protocol::TransferAssetContract contract;
  contract.set_asset_name(std::string(asset_id));  // the id's ASCII digits, as java-tron wants
  set_address(contract.mutable_owner_address(), from);
  set_address(contract.mutable_to_address(), to);
  contract.set_amount(amount);
  Transaction tx;
  fill_raw(tx.proto_.mutable_raw_data(), protocol::Transaction::Contract::TransferAssetContract,
           contract, timing);
  tx.set_raw_cache();
  return tx;
}

Transaction Transaction::transfer_trc20(const Address& contract_address, const Address& from,
                                        const Address& to, const U256& amount,
                                        std::int64_t fee_limit, const TxTiming& timing) {
  protocol::TriggerSmartContract contract;
  set_address(contract.mutable_owner_address(), from);
  set_address(contract.mutable_contract_address(), contract_address);
  std::string* data = contract.mutable_data();
  data->resize(abi::kTransferCallSize);
  abi::write_transfer_call(std::span<std::uint8_t, abi::kTransferCallSize>(
                               reinterpret_cast<std::uint8_t*>(data->data()), data->size()),
                           to, amount);
  Transaction tx;
  auto* raw = tx.proto_.mutable_raw_data();
  fill_raw(raw, protocol::Transaction::Contract::TriggerSmartContract, contract, timing);
  raw->set_fee_limit(fee_limit);
  tx.set_raw_cache();
  return tx;
}

Transaction Transaction::transfer(const Token& token, const Address& from, const Address& to,
                                  const U256& amount, const TxTiming& timing,
                                  std::int64_t fee_limit) {
  if (amount == 0) throw std::invalid_argument("the amount must be greater than 0");
  switch (token.kind) {
    case Token::Kind::Trx:
      return transfer_trx(from, to, to_int64(amount, "TRX"), timing);
    case Token::Kind::Trc10:
      if (token.asset_id.empty()) throw std::invalid_argument("a TRC-10 token needs an asset id");
      return transfer_trc10(token.asset_id, from, to, to_int64(amount, "TRC-10"), timing);
    case Token::Kind::Trc20:
      if (fee_limit <= 0) throw std::invalid_argument("the fee limit must be greater than 0");
      return transfer_trc20(token.contract, from, to, amount, fee_limit, timing);
  }
  throw std::invalid_argument("unknown token kind");
}

Transaction Transaction::from_bytes(std::span<const std::uint8_t> bytes) {
  Transaction tx;
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      !tx.proto_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    throw std::invalid_argument("not a serialized TRON transaction (protobuf parse failed)");
  }
  if (!tx.proto_.has_raw_data()) {
    throw std::invalid_argument("the serialized transaction has no raw_data");
  }
  return tx;
}

Transaction Transaction::from_json(const nlohmann::json& json) {
  return Transaction(txjson::transaction_from_json(json));
}

const std::string& Transaction::raw() const {
  if (!raw_valid_) {
    raw_.clear();
    proto_.raw_data().SerializeToString(&raw_);
    raw_valid_ = true;
  }
  return raw_;
}

void Transaction::set_raw_cache() {
  raw_valid_ = false;
  raw();
}

Hash32 Transaction::txid() const { return sha256(as_bytes(raw())); }

Bytes Transaction::raw_data_bytes() const {
  const std::string& r = raw();
  return Bytes(r.begin(), r.end());
}

std::string Transaction::raw_data_hex() const { return to_hex(as_bytes(raw())); }

Bytes Transaction::serialized() const {
  if (proto_.ret_size() != 0 || !proto_.GetReflection()->GetUnknownFields(proto_).empty()) {
    // Rare shapes: let protobuf write them.
    std::string whole = proto_.SerializeAsString();
    return Bytes(whole.begin(), whole.end());
  }
  // Field 1 (raw_data) then each field 2 (signature), both length-delimited: the same bytes
  // protobuf writes, without serializing raw_data a second time.
  const std::string& r = raw();
  Bytes out;
  out.reserve(r.size() + 4 + proto_.signature_size() * 68);
  auto put_length_delimited = [&out](std::uint8_t tag, std::string_view body) {
    out.push_back(tag);
    std::uint64_t n = body.size();
    while (n >= 0x80) {
      out.push_back(static_cast<std::uint8_t>(n | 0x80));
      n >>= 7;
    }
    out.push_back(static_cast<std::uint8_t>(n));
    out.insert(out.end(), body.begin(), body.end());
  };
  if (proto_.has_raw_data()) put_length_delimited(0x0a, r);
  for (const std::string& sig : proto_.signature()) put_length_delimited(0x12, sig);
  return out;
}

void Transaction::sign(const PrivateKey& key) {
  Signature sig = key.sign_digest(txid());
  proto_.add_signature(reinterpret_cast<const char*>(sig.data()), sig.size());
}

nlohmann::json Transaction::to_json(bool visible) const {
  return txjson::transaction_to_json(proto_, raw(), visible);
}

std::optional<Address> Transaction::owner() const {
  if (proto_.raw_data().contract_size() == 0) return std::nullopt;
  const auto& contract = proto_.raw_data().contract(0);
  const std::string& value = contract.parameter().value();
  switch (contract.type()) {
    case protocol::Transaction::Contract::TransferContract: {
      protocol::TransferContract c;
      if (!c.ParseFromString(value)) return std::nullopt;
      return address_of(c.owner_address());
    }
    case protocol::Transaction::Contract::TransferAssetContract: {
      protocol::TransferAssetContract c;
      if (!c.ParseFromString(value)) return std::nullopt;
      return address_of(c.owner_address());
    }
    case protocol::Transaction::Contract::TriggerSmartContract: {
      protocol::TriggerSmartContract c;
      if (!c.ParseFromString(value)) return std::nullopt;
      return address_of(c.owner_address());
    }
    default:
      // Every TRON contract has owner_address as field 1.
      protocol::TransferContract c;
      if (!c.ParseFromString(value)) return std::nullopt;
      return address_of(c.owner_address());
  }
}

std::optional<Payment> Transaction::payment() const {
  const auto& raw_data = proto_.raw_data();
  if (raw_data.contract_size() != 1) return std::nullopt;
  const auto& contract = raw_data.contract(0);
  if (contract.parameter().type_url() != type_url(contract.type())) return std::nullopt;
  const std::string& value = contract.parameter().value();
  Payment payment;
  switch (contract.type()) {
    case protocol::Transaction::Contract::TransferContract: {
      protocol::TransferContract c;
      if (!c.ParseFromString(value) || c.amount() <= 0) return std::nullopt;
      auto from = address_of(c.owner_address());
      auto to = address_of(c.to_address());
      if (!from || !to) return std::nullopt;
      payment = {Token{}, *from, *to, U256(c.amount())};
      return payment;
    }
    case protocol::Transaction::Contract::TransferAssetContract: {
      protocol::TransferAssetContract c;
      if (!c.ParseFromString(value) || c.amount() <= 0) return std::nullopt;
      auto from = address_of(c.owner_address());
      auto to = address_of(c.to_address());
      if (!from || !to) return std::nullopt;
      try {
        payment.token = Token::parse("trc10:" + c.asset_name());
      } catch (const std::invalid_argument&) {
        return std::nullopt;
      }
      payment.from = *from;
      payment.to = *to;
      payment.amount = U256(c.amount());
      return payment;
    }
    case protocol::Transaction::Contract::TriggerSmartContract: {
      protocol::TriggerSmartContract c;
      if (!c.ParseFromString(value)) return std::nullopt;
      if (c.call_value() != 0 || c.call_token_value() != 0 || c.token_id() != 0) {
        return std::nullopt;
      }
      auto from = address_of(c.owner_address());
      auto contract_address = address_of(c.contract_address());
      auto call = abi::try_decode_transfer(as_bytes(c.data()));
      if (!from || !contract_address || !call) return std::nullopt;
      payment.token.kind = Token::Kind::Trc20;
      payment.token.contract = *contract_address;
      payment.from = *from;
      payment.to = call->to;
      payment.amount = call->amount;
      return payment;
    }
    default:
      return std::nullopt;
  }
}

std::vector<std::optional<Address>> Transaction::signers() const {
  std::vector<std::optional<Address>> out;
  const Hash32 id = txid();
  for (const std::string& sig : proto_.signature()) out.push_back(recover_signer(id, as_bytes(sig)));
  return out;
}

}  // namespace tron
