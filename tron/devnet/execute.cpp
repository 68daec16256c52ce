// Chain::broadcast: java-tron's checks in its order (Wallet.broadcastTransaction, then
// Manager.pushTransaction / processTransaction), the bandwidth processor, the transfer
// actuators and the built-in token standing in for the VM.
#include <limits>

#include "tron/devnet/chain.hpp"
#include "tron/devnet/resource.hpp"

namespace tron::devnet {

namespace {

using protocol::Return;
using ContractType = protocol::Transaction::Contract::ContractType;

constexpr int kTotalSignNum = 5;

std::string key_of(const Hash32& h) {
  return std::string(h.begin(), h.end());
}

Address address_or_zero(const std::string& bytes) {
  auto a = Address::from_bytes(as_bytes(bytes));
  return a ? *a : Address();
}

// java-tron's DecodeUtil.addressValid: 21 bytes with the 0x41 prefix.
bool address_valid(const std::string& bytes) {
  return bytes.size() == 21 && static_cast<std::uint8_t>(bytes[0]) == Address::kPrefix;
}

BroadcastOutcome fail(Return::response_code code, std::string message, const Hash32& txid) {
  BroadcastOutcome out;
  out.code = code;
  out.message = std::move(message);
  out.txid = txid;
  return out;
}

Account new_account(const Address& a, std::int64_t now_ms) {
  Account acct;
  acct.address = a;
  acct.create_time = now_ms;
  return acct;
}

}  // namespace

DecodedContract DecodedContract::decode(const protocol::Transaction::Contract& c) {
  DecodedContract d;
  d.type = c.type();
  switch (c.type()) {
    case protocol::Transaction::Contract::TransferContract: {
      protocol::TransferContract t;
      if (!c.parameter().UnpackTo(&t)) throw ContractValidateError("Invalid TransferContract");
      d.owner = address_or_zero(t.owner_address());
      d.transfer = std::move(t);
      break;
    }
    case protocol::Transaction::Contract::TransferAssetContract: {
      protocol::TransferAssetContract t;
      if (!c.parameter().UnpackTo(&t)) throw ContractValidateError("Invalid TransferAssetContract");
      d.owner = address_or_zero(t.owner_address());
      d.transfer_asset = std::move(t);
      break;
    }
    case protocol::Transaction::Contract::TriggerSmartContract: {
      protocol::TriggerSmartContract t;
      if (!c.parameter().UnpackTo(&t)) throw ContractValidateError("Invalid TriggerSmartContract");
      d.owner = address_or_zero(t.owner_address());
      d.trigger = std::move(t);
      break;
    }
    default:
      throw ContractValidateError("contract type " + std::to_string(c.type()) +
                                  " is not supported by this devnet");
  }
  return d;
}

// TransactionCapsule.validateSignature with the default owner permission (threshold 1, the
// owner's key with weight 1). Returns the error text, or nullopt when the signature holds.
std::optional<std::string> Chain::check_signature(const protocol::Transaction& tx,
                                                  const Hash32& txid) const {
  if (tx.signature_size() <= 0 || tx.raw_data().contract_size() <= 0) return "miss sig or contract";
  if (tx.signature_size() > kTotalSignNum) return "too many signatures";
  const auto& contract = tx.raw_data().contract(0);
  const int permission_id = contract.permission_id();
  if (permission_id != 0 && permission_id != 2) return "permission isn't exit";
  DecodedContract decoded;
  try {
    decoded = DecodedContract::decode(contract);
  } catch (const ContractValidateError& e) {
    return std::string(e.what());
  }
  std::int64_t weight = 0;
  std::vector<Address> signers;
  for (const auto& sig : tx.signature()) {
    if (sig.size() < 65) return "Signature size is " + std::to_string(sig.size());
    auto signer = recover_signer(txid, as_bytes(sig).first(65));
    if (!signer) return "Invalid signature: the signature does not recover a public key";
    if (*signer != decoded.owner) {
      return to_hex(as_bytes(sig)) + " is signed by " + signer->to_base58() +
             " but it is not contained of permission.";
    }
    if (std::find(signers.begin(), signers.end(), *signer) != signers.end()) {
      return signer->to_base58() + " has signed twice!";
    }
    signers.push_back(*signer);
    weight += 1;
  }
  if (weight < 1) return "sig error";
  return std::nullopt;
}

void Chain::validate_contract(const DecodedContract& c) const {
  const ChainParams& p = params();
  if (c.transfer) {
    const auto& t = *c.transfer;
    if (!address_valid(t.owner_address())) throw ContractValidateError("Invalid ownerAddress!");
    if (!address_valid(t.to_address())) throw ContractValidateError("Invalid toAddress!");
    if (t.to_address() == t.owner_address()) {
      throw ContractValidateError("Cannot transfer TRX to yourself.");
    }
    const Account* owner = state_.find(address_or_zero(t.owner_address()));
    if (owner == nullptr) {
      throw ContractValidateError("Validate TransferContract error, no OwnerAccount.");
    }
    if (t.amount() <= 0) throw ContractValidateError("Amount must be greater than 0.");
    const Account* to = state_.find(address_or_zero(t.to_address()));
    std::int64_t fee = to == nullptr ? p.create_new_account_fee_in_system_contract : 0;
    if (to != nullptr && to->is_contract) {
      throw ContractValidateError("Cannot transfer TRX to a smartContract.");
    }
    if (t.amount() > std::numeric_limits<std::int64_t>::max() - fee) {
      throw ContractValidateError("long overflow");
    }
    if (owner->balance < t.amount() + fee) {
      throw ContractValidateError("Validate TransferContract error, balance is not sufficient.");
    }
    if (to != nullptr && to->balance > std::numeric_limits<std::int64_t>::max() - t.amount()) {
      throw ContractValidateError("long overflow");
    }
    return;
  }
  if (c.transfer_asset) {
    const auto& t = *c.transfer_asset;
    if (!address_valid(t.owner_address())) throw ContractValidateError("Invalid ownerAddress");
    if (!address_valid(t.to_address())) throw ContractValidateError("Invalid toAddress");
    if (t.amount() <= 0) throw ContractValidateError("Amount must be greater than 0.");
    if (t.owner_address() == t.to_address()) {
      throw ContractValidateError("Cannot transfer asset to yourself.");
    }
    const Account* owner = state_.find(address_or_zero(t.owner_address()));
    if (owner == nullptr) throw ContractValidateError("No owner account!");
    if (t.asset_name() != state_.asset.id) throw ContractValidateError("No asset!");
    if (owner->assets.empty()) throw ContractValidateError("Owner has no asset!");
    auto it = owner->assets.find(t.asset_name());
    if (it == owner->assets.end() || it->second <= 0) {
      throw ContractValidateError("assetBalance must be greater than 0.");
    }
    if (t.amount() > it->second) throw ContractValidateError("assetBalance is not sufficient.");
    const Account* to = state_.find(address_or_zero(t.to_address()));
    if (to != nullptr) {
      auto held = to->assets.find(t.asset_name());
      if (held != to->assets.end() &&
          held->second > std::numeric_limits<std::int64_t>::max() - t.amount()) {
        throw ContractValidateError("long overflow");
      }
    } else if (owner->balance < p.create_new_account_fee_in_system_contract) {
      throw ContractValidateError("Validate TransferAssetActuator error, insufficient fee.");
    }
    return;
  }
}

CallOutcome Chain::constant_call(const Address& owner, const Address& contract, const Bytes& data,
                                 std::int64_t call_value, bool solid) const {
  const WorldState& s = state(solid);
  if (contract != s.token.contract) {
    throw ContractValidateError("No contract or not a smart contract");
  }
  Trc20Token scratch = s.token;
  return trc20_call(scratch, owner, data, call_value, false);
}

BroadcastOutcome Chain::broadcast(const protocol::Transaction& tx) {
  const Hash32 txid = transaction_id(tx);
  const std::string key = key_of(txid);
  const ChainParams& p = params();

  // java-tron's default (node.trxCache off) keeps no cache of txids broadcast before: a
  // transaction refused for its signature or its fee may be sent again and accepted. Only
  // one in a block or in the pending pool is a duplicate (below).

  // Manager.pushTransaction: the signature first.
  if (auto err = check_signature(tx, txid)) {
    return fail(Return::SIGERROR, "validate signature error " + *err, txid);
  }
  // processTransaction: TAPOS, size and expiration, one contract, duplicates.
  const auto& raw = tx.raw_data();
  if (!tapos_ok(raw)) return fail(Return::TAPOS_ERROR, "Tapos check error", txid);
  if (static_cast<std::int64_t>(tx.ByteSizeLong()) > kMaxTransactionBytes) {
    return fail(Return::TOO_BIG_TRANSACTION_ERROR, "transaction size is too big", txid);
  }
  const std::int64_t head_time = head_timestamp();
  if (raw.expiration() <= head_time || raw.expiration() > head_time + kMaxTimeUntilExpirationMs) {
    return fail(Return::TRANSACTION_EXPIRATION_ERROR, "transaction expired", txid);
  }
  if (raw.contract_size() != 1) {
    return fail(Return::OTHER_ERROR,
                "other error : tx " + to_hex(txid) +
                    " contract size should be exactly 1, this is extend feature ,actual :" +
                    std::to_string(raw.contract_size()),
                txid);
  }
  if (tx_index_.count(key) != 0 || pending_ids_.count(key) != 0) {
    return fail(Return::DUP_TRANSACTION_ERROR, "dup transaction", txid);
  }

  const std::string kValidate = "contract validate error : ";
  DecodedContract c;
  try {
    c = DecodedContract::decode(raw.contract(0));
  } catch (const ContractValidateError& e) {
    return fail(Return::CONTRACT_VALIDATE_ERROR, kValidate + e.what(), txid);
  }

  // Work on copies; nothing changes unless the transaction is accepted.
  const std::int64_t now_slot = head_slot();
  const Account* owner_now = state_.find(c.owner);
  if (owner_now == nullptr) {
    return fail(Return::CONTRACT_VALIDATE_ERROR,
                kValidate + "account [" + c.owner.to_base58() + "] does not exist", txid);
  }
  Account owner = *owner_now;

  // BandwidthProcessor.consume: staked bandwidth, then the free allowance, then TRX burnt.
  const std::int64_t bytes = bandwidth_bytes(tx);
  std::int64_t net_usage = 0, net_fee = 0;
  const std::int64_t net_limit =
      staked_limit(owner.staked_for_bandwidth, p.total_net_limit, state_.total_net_weight());
  const std::int64_t staked_used =
      increase_usage(owner.net_usage, 0, owner.latest_consume_time, now_slot);
  auto use_staked = [&](std::int64_t cost) {
    if (cost > net_limit - staked_used) return false;
    owner.net_usage = increase_usage(staked_used, cost, now_slot, now_slot);
    owner.latest_consume_time = now_slot;
    net_usage = cost;
    return true;
  };
  std::optional<Address> to_address;
  if (c.transfer) to_address = address_or_zero(c.transfer->to_address());
  if (c.transfer_asset) to_address = address_or_zero(c.transfer_asset->to_address());
  const bool creates_account = to_address && state_.find(*to_address) == nullptr;
  if (c.transfer_asset && c.transfer_asset->asset_name() != state_.asset.id) {
    return fail(Return::CONTRACT_VALIDATE_ERROR, kValidate + "asset does not exist", txid);
  }
  if (creates_account) {
    // consumeForCreateNewAccount: staked bandwidth at getCreateNewAccountBandwidthRate, or the
    // getCreateAccountFee burnt.
    if (!use_staked(bytes * p.create_new_account_bandwidth_rate)) {
      if (owner.balance < p.create_account_fee) {
        return fail(Return::BANDWITH_ERROR, "AccountResourceInsufficient error", txid);
      }
      owner.balance -= p.create_account_fee;
      net_fee = p.create_account_fee;
    }
  } else if (!use_staked(bytes)) {
    const std::int64_t usage =
        increase_usage(owner.free_net_usage, 0, owner.latest_consume_free_time, now_slot);
    if (bytes <= p.free_net_limit - usage) {
      owner.free_net_usage = increase_usage(usage, bytes, now_slot, now_slot);
      owner.latest_consume_free_time = now_slot;
      net_usage = bytes;
    } else {
      const std::int64_t fee = p.transaction_fee * bytes;
      if (owner.balance < fee) {
        return fail(Return::BANDWITH_ERROR, "AccountResourceInsufficient error", txid);
      }
      owner.balance -= fee;
      net_fee = fee;
    }
  }

  // The actuator (or the VM) validates against the state after bandwidth was paid.
  const Account owner_saved = *owner_now;
  state_.accounts[c.owner] = owner;  // validation sees the bandwidth already paid
  auto restore = [&] { state_.accounts[c.owner] = owner_saved; };

  protocol::Transaction stored = tx;
  stored.clear_ret();
  auto* ret = stored.add_ret();
  protocol::TransactionInfo info;
  info.set_id(key);
  auto* receipt = info.mutable_receipt();
  std::int64_t system_fee = 0, energy_fee = 0;
  const std::int64_t now_ms = head_time;

  try {
    if (c.transfer || c.transfer_asset) {
      validate_contract(c);
      info.add_contractresult("");
    }
    if (c.trigger) {
      const auto& t = *c.trigger;
      const Address contract = address_or_zero(t.contract_address());
      if (contract != state_.token.contract) {
        throw ContractValidateError("No contract or not a smart contract");
      }
      if (t.call_value() < 0 || t.call_token_value() < 0) {
        throw ContractValidateError("callValue and tokenValue must be >= 0");
      }
      if (raw.fee_limit() < 0 || raw.fee_limit() > p.max_fee_limit) {
        throw ContractValidateError("feeLimit must be >= 0 and <= " +
                                    std::to_string(p.max_fee_limit));
      }
      if (t.call_value() > owner.balance) {
        throw ContractValidateError("Validate InternalTransfer error, balance is not sufficient.");
      }
    }
  } catch (const ContractValidateError& e) {
    restore();
    return fail(Return::CONTRACT_VALIDATE_ERROR, kValidate + e.what(), txid);
  }

  // Execution: from here on the transaction is accepted.
  if (c.transfer) {
    const auto& t = *c.transfer;
    if (creates_account) {
      system_fee = p.create_new_account_fee_in_system_contract;
      state_.accounts[*to_address] = new_account(*to_address, now_ms);
    }
    Account& from = state_.accounts[c.owner];
    from.balance -= t.amount() + system_fee;
    from.latest_operation_time = now_ms;
    state_.accounts[*to_address].balance += t.amount();
    ret->set_contractret(protocol::Transaction::Result::SUCCESS);
  } else if (c.transfer_asset) {
    const auto& t = *c.transfer_asset;
    if (creates_account) {
      system_fee = p.create_new_account_fee_in_system_contract;
      state_.accounts[*to_address] = new_account(*to_address, now_ms);
    }
    Account& from = state_.accounts[c.owner];
    from.balance -= system_fee;
    from.latest_operation_time = now_ms;
    from.assets[t.asset_name()] -= t.amount();
    state_.accounts[*to_address].assets[t.asset_name()] += t.amount();
    ret->set_contractret(protocol::Transaction::Result::SUCCESS);
  } else {
    const auto& t = *c.trigger;
    Bytes data(t.data().begin(), t.data().end());
    Account& from = state_.accounts[c.owner];
    // VMActuator.getAccountEnergyLimitWithFixRatio: staked energy left plus what the balance
    // buys, capped by the fee limit.
    const std::int64_t staked_energy =
        staked_limit(from.staked_for_energy, p.total_energy_limit, state_.total_energy_weight());
    const std::int64_t energy_used_before =
        increase_usage(from.energy_usage, 0, from.latest_consume_time_for_energy, now_slot);
    const std::int64_t energy_left = std::max<std::int64_t>(staked_energy - energy_used_before, 0);
    const std::int64_t energy_limit = std::min(
        energy_left + std::max<std::int64_t>(from.balance - t.call_value(), 0) / p.energy_fee,
        raw.fee_limit() / p.energy_fee);
    CallOutcome plan = trc20_call(state_.token, c.owner, data, t.call_value(), false);
    std::int64_t energy_used = plan.energy;
    protocol::Transaction::Result::contractResult result;
    if (plan.energy > energy_limit) {
      energy_used = energy_limit;
      result = protocol::Transaction::Result::OUT_OF_ENERGY;
      info.set_result(protocol::TransactionInfo::FAILED);
      info.set_resmessage(
          "Not enough energy for 'SSTORE' operation executing: curInvokeEnergyLimit[" +
          std::to_string(energy_limit) + "], curOpEnergy[" +
          std::to_string(plan.energy - energy_limit) + "], usedEnergy[" +
          std::to_string(energy_limit) + "]");
      info.add_contractresult("");
    } else if (!plan.success) {
      result = protocol::Transaction::Result::REVERT;
      info.set_result(protocol::TransactionInfo::FAILED);
      info.set_resmessage("REVERT opcode executed");
      info.add_contractresult(std::string(plan.output.begin(), plan.output.end()));
    } else {
      CallOutcome done = trc20_call(state_.token, c.owner, data, t.call_value(), true);
      result = protocol::Transaction::Result::SUCCESS;
      info.add_contractresult(std::string(done.output.begin(), done.output.end()));
      for (const auto& log : done.logs) {
        auto* l = info.add_log();
        l->set_address(reinterpret_cast<const char*>(log.contract.evm().data()), 20);
        for (const auto& topic : log.topics) {
          l->add_topics(reinterpret_cast<const char*>(topic.data()), topic.size());
        }
        l->set_data(std::string(log.data.begin(), log.data.end()));
      }
    }
    // ReceiptCapsule.payEnergyBill: staked energy first, the rest burnt at getEnergyFee.
    const std::int64_t from_stake = std::min(energy_left, energy_used);
    if (from_stake > 0) {
      from.energy_usage = increase_usage(energy_used_before, from_stake, now_slot, now_slot);
      from.latest_consume_time_for_energy = now_slot;
    }
    energy_fee = (energy_used - from_stake) * p.energy_fee;
    receipt->set_energy_usage(from_stake);
    from.balance -= energy_fee;
    from.latest_operation_time = now_ms;
    info.set_contract_address(t.contract_address());
    receipt->set_energy_fee(energy_fee);
    receipt->set_energy_usage_total(energy_used);
    receipt->set_result(result);
    ret->set_contractret(result);
  }

  if (system_fee > 0) ret->set_fee(system_fee);
  receipt->set_net_usage(net_usage);
  receipt->set_net_fee(net_fee);
  const std::int64_t total_fee = net_fee + energy_fee + system_fee;
  if (total_fee > 0) info.set_fee(total_fee);

  pending_ids_.insert(key);
  pending_.push_back(Pending{std::move(stored), std::move(info)});
  BroadcastOutcome out;
  out.txid = txid;
  return out;
}

}  // namespace tron::devnet
