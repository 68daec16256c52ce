#include "tron/fee_estimate.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "tron/amount.hpp"
#include "tron/fullnode_client.hpp"

namespace tron {

namespace {

using nlohmann::json;

// java-tron charges the bytes a result may add up front, per contract.
constexpr std::int64_t kMaxResultSize = 64;
constexpr std::int64_t kSignatureSize = 65;

// Products of node figures saturate instead of wrapping: a hostile node gets a huge estimate,
// never a small one.
std::int64_t mul(std::int64_t a, std::int64_t b) {
  if (a <= 0 || b <= 0) return 0;
  if (a > std::numeric_limits<std::int64_t>::max() / b)
    return std::numeric_limits<std::int64_t>::max();
  return a * b;
}
std::int64_t add(std::int64_t a, std::int64_t b) {
  if (a > std::numeric_limits<std::int64_t>::max() - b)
    return std::numeric_limits<std::int64_t>::max();
  return a + b;
}
std::int64_t left(std::int64_t limit, std::int64_t used) {
  return limit > used ? limit - used : 0;
}

std::string num(std::int64_t v) {
  // 1234567 -> "1,234,567": energy and byte counts are read by people.
  std::string digits = std::to_string(v);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n > 0 && n % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++n;
  }
  return out;
}

std::int64_t i64_field(const char* path, const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return 0;  // java-tron leaves out zero values
  if (it->is_number_unsigned() && it->get<std::uint64_t>() <= INT64_MAX) {
    return static_cast<std::int64_t>(it->get<std::uint64_t>());
  }
  if (it->is_number_integer()) return it->get<std::int64_t>();
  throw NodeError("INVALID_ANSWER", std::string(path) + ": '" + key + "' is not a 64-bit integer");
}

}  // namespace

std::int64_t AccountResources::free_net_left() const {
  return left(free_net_limit, free_net_used);
}
std::int64_t AccountResources::staked_net_left() const {
  return left(net_limit, net_used);
}
std::int64_t AccountResources::energy_left() const {
  return left(energy_limit, energy_used);
}

SettlementCost settlement_cost(const TransferFigures& f) {
  SettlementCost c;
  const ResourcePrices& p = f.prices;
  c.bandwidth = std::max<std::int64_t>(f.tx_bytes, 0);
  std::vector<std::string> parts;

  const bool creates = f.creates_account && f.kind != Token::Kind::Trc20;
  if (creates) {
    // BandwidthProcessor.consumeForCreateNewAccount: staked bandwidth, else a flat fee.
    const std::int64_t cost =
        mul(c.bandwidth, std::max<std::int64_t>(p.create_account_bandwidth_rate, 1));
    if (cost <= f.payer.staked_net_left()) {
      c.bandwidth_source = BandwidthSource::Staked;
      parts.push_back(num(cost) + " bytes of staked bandwidth (" + num(f.payer.staked_net_left()) +
                      " left) for a transfer that creates an account");
    } else {
      c.bandwidth_source = BandwidthSource::Burned;
      c.bandwidth_sun = std::max<std::int64_t>(p.create_account_fee, 0);
      parts.push_back(format_trx(c.bandwidth_sun) +
                      " for the bandwidth of a transfer that creates an account");
    }
    c.account_sun = std::max<std::int64_t>(p.create_account_system_fee, 0);
    parts.push_back(format_trx(c.account_sun) + " to create the recipient's account");
  } else if (c.bandwidth <= f.payer.staked_net_left()) {
    c.bandwidth_source = BandwidthSource::Staked;
    parts.push_back(num(c.bandwidth) + " bytes of staked bandwidth (" +
                    num(f.payer.staked_net_left()) + " left)");
  } else if (c.bandwidth <= f.payer.free_net_left()) {
    c.bandwidth_source = BandwidthSource::Free;
    parts.push_back(num(c.bandwidth) + " bytes of the free bandwidth (" +
                    num(f.payer.free_net_limit) + " a day, " + num(f.payer.free_net_left()) +
                    " left)");
  } else {
    // Paid whole: a part of the free bandwidth is never used for a transaction.
    c.bandwidth_source = BandwidthSource::Burned;
    c.bandwidth_sun = mul(c.bandwidth, p.transaction_fee);
    std::string why = "beyond the free " + num(f.payer.free_net_limit) + " a day (" +
                      num(f.payer.free_net_left()) + " left)";
    if (f.payer.net_limit > 0) why += " and the staked " + num(f.payer.staked_net_left()) + " left";
    parts.push_back(num(c.bandwidth) + " bytes of bandwidth burned at " + num(p.transaction_fee) +
                    " sun a byte, " + why);
  }

  if (f.kind == Token::Kind::Trc20) {
    c.energy = std::max<std::int64_t>(f.energy, 0);
    c.energy_staked = std::min(c.energy, f.payer.energy_left());
    c.energy_sun = mul(c.energy - c.energy_staked, p.energy_fee);
    std::string e = num(c.energy) + " energy";
    if (c.energy_staked == c.energy && c.energy > 0) {
      e += " from stake (" + num(f.payer.energy_left()) + " left)";
    } else {
      if (c.energy_staked > 0) e += ", " + num(c.energy_staked) + " of it from stake,";
      e += " burned at " + num(p.energy_fee) + " sun each (" + format_trx(c.energy_sun) + ")";
    }
    parts.push_back(e);
  }

  c.sun = add(add(c.bandwidth_sun, c.energy_sun), c.account_sun);
  c.text = c.sun == 0 ? "no TRX: " : "about " + format_trx(c.sun) + ": ";
  for (std::size_t i = 0; i < parts.size(); ++i) c.text += (i ? "; " : "") + parts[i];
  return c;
}

std::optional<U256> min_bytes_per_settlement(std::int64_t fee_sun, const U256& cap_sun_per_gib) {
  if (fee_sun <= 0) return U256(0);
  if (cap_sun_per_gib == 0) return std::nullopt;
  const U256 scaled = U256(fee_sun) << 30;  // fits: fee < 2^63
  return (scaled + cap_sun_per_gib - 1) / cap_sun_per_gib;
}

std::int64_t transfer_bandwidth_bytes(const Token& token, const Address& from, const Address& to,
                                      const U256& amount, std::int64_t fee_limit) {
  // The sizes of the timing fields do not depend on their values, as long as the times are
  // of this era: ms since the epoch stay 6-byte varints until the year 2039.
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  TxTiming timing;
  timing.ref_block_bytes = Bytes(2, 0xff);
  timing.ref_block_hash = Bytes(8, 0xff);
  timing.timestamp = now;
  timing.expiration = now + 60'000;
  Transaction tx = Transaction::transfer(token, from, to, amount, timing, fee_limit);
  tx.proto().add_signature(std::string(kSignatureSize, '\x01'));
  tx.proto().clear_ret();
  return static_cast<std::int64_t>(tx.proto().ByteSizeLong()) +
         kMaxResultSize * tx.proto().raw_data().contract_size();
}

AccountResources account_resources(FullNodeClient& node, const Address& account) {
  constexpr const char* path = "/wallet/getaccountresource";
  json j = node.account_resource(account);
  if (!j.is_object()) throw NodeError("INVALID_ANSWER", std::string(path) + ": not an object");
  AccountResources r;
  r.free_net_limit = i64_field(path, j, "freeNetLimit");
  r.free_net_used = i64_field(path, j, "freeNetUsed");
  r.net_limit = i64_field(path, j, "NetLimit");
  r.net_used = i64_field(path, j, "NetUsed");
  r.energy_limit = i64_field(path, j, "EnergyLimit");
  r.energy_used = i64_field(path, j, "EnergyUsed");
  return r;
}

ResourcePrices resource_prices(FullNodeClient& node) {
  auto params = node.chain_parameters();
  ResourcePrices p;
  auto take = [&](const char* key, std::int64_t& out) {
    if (auto it = params.find(key); it != params.end() && it->second >= 0) out = it->second;
  };
  take("getTransactionFee", p.transaction_fee);
  take("getEnergyFee", p.energy_fee);
  take("getCreateAccountFee", p.create_account_fee);
  take("getCreateNewAccountFeeInSystemContract", p.create_account_system_fee);
  take("getCreateNewAccountBandwidthRate", p.create_account_bandwidth_rate);
  return p;
}

std::int64_t trc20_transfer_energy(FullNodeClient& node, const Address& contract,
                                   const Address& from, const Address& to, const U256& amount) {
  constexpr const char* path = "/wallet/triggerconstantcontract";
  Bytes call = abi::encode_transfer(to, amount);
  json body = {{"owner_address", from.to_hex()},
               {"contract_address", contract.to_hex()},
               {"function_selector", "transfer(address,uint256)"},
               {"parameter", to_hex(std::span<const std::uint8_t>(call).subspan(4))}};
  json answer = node.post(path, body);
  if (!answer.is_object()) throw NodeError("INVALID_ANSWER", std::string(path) + ": not an object");
  auto result = answer.find("result");
  if (result == answer.end() || !result->is_object()) {
    throw NodeError("INVALID_ANSWER", std::string(path) + ": no 'result' object");
  }
  // A call that would revert shows as result.result false, a message, or a failed contractRet.
  std::string failure;
  if (result->value("result", false) != true) failure = result->value("code", "CONTRACT_EXE_ERROR");
  if (result->contains("message")) failure = "REVERT";
  if (auto tx = answer.find("transaction"); tx != answer.end() && tx->is_object()) {
    if (auto ret = tx->find("ret");
        ret != tx->end() && ret->is_array() && !ret->empty() && (*ret)[0].is_object()) {
      for (const char* key : {"contractRet", "ret"}) {
        auto v = (*ret)[0].find(key);
        if (v != (*ret)[0].end() && v->is_string() && *v != "SUCCESS")
          failure = v->get<std::string>();
      }
    }
  }
  if (!failure.empty()) {
    throw NodeError(failure, "transfer(" + to.to_base58() + ", " + amount.str() + ") from " +
                                 from.to_base58() + " on " + contract.to_base58() +
                                 " would fail (is the token balance enough?)");
  }
  std::int64_t energy = i64_field(path, answer, "energy_used");
  if (energy < 0) throw NodeError("INVALID_ANSWER", std::string(path) + ": negative energy_used");
  return energy;
}

TransferFigures transfer_figures(FullNodeClient& node, const Token& token, const Address& from,
                                 const Address& to, const U256& amount, std::int64_t fee_limit) {
  TransferFigures f;
  f.kind = token.kind;
  f.tx_bytes = transfer_bandwidth_bytes(token, from, to, amount, fee_limit);
  f.payer = account_resources(node, from);
  f.prices = resource_prices(node);
  if (token.kind == Token::Kind::Trc20) {
    f.energy = trc20_transfer_energy(node, token.contract, from, to, amount);
  } else {
    f.creates_account = !node.account(to).exists;
  }
  return f;
}

SettlementCost estimate_transfer_cost(FullNodeClient& node, const Token& token, const Address& from,
                                      const Address& to, const U256& amount,
                                      std::int64_t fee_limit) {
  return settlement_cost(transfer_figures(node, token, from, to, amount, fee_limit));
}

}  // namespace tron
