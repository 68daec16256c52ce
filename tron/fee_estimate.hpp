#pragma once
// What one transfer will cost its payer in TRX before it is made, as java-tron charges it:
//
// - Bandwidth: the signed transaction's size (without its result) plus 64 bytes per contract.
//   It is paid whole from one source, in this order: the account's staked bandwidth, then its
//   free daily bandwidth (600 bytes a day on mainnet), else the whole size is burned at
//   getTransactionFee sun per byte. A TRX or TRC-10 transfer that creates the recipient's
//   account instead takes size x getCreateNewAccountBandwidthRate of staked bandwidth, else
//   burns getCreateAccountFee, and also pays getCreateNewAccountFeeInSystemContract.
// - Energy (TRC-20): what the transfer(to, amount) call uses; staked energy first, the rest
//   burned at getEnergyFee sun per unit. This is the caller's whole share: a contract whose
//   owner pays part of its users' energy costs them less.
//
// settlement_cost() is the pure arithmetic; estimate_transfer_cost() reads the figures from a
// full node.
#include <cstdint>
#include <optional>
#include <string>

#include "tron/abi.hpp"
#include "tron/address.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"

namespace tron {

class FullNodeClient;

// Chain parameters that price resources (/wallet/getchainparameters), in sun.
struct ResourcePrices {
  std::int64_t transaction_fee = 1000;                 // getTransactionFee: per byte of bandwidth
  std::int64_t energy_fee = 100;                       // getEnergyFee: per unit of energy
  std::int64_t create_account_fee = 100'000;           // getCreateAccountFee
  std::int64_t create_account_system_fee = 1'000'000;  // getCreateNewAccountFeeInSystemContract
  std::int64_t create_account_bandwidth_rate = 1;      // getCreateNewAccountBandwidthRate
};

// An account's resources now (/wallet/getaccountresource); usage as the node reports it.
struct AccountResources {
  std::int64_t free_net_limit = 0;  // freeNetLimit: bytes a day
  std::int64_t free_net_used = 0;   // freeNetUsed
  std::int64_t net_limit = 0;       // NetLimit: staked bandwidth
  std::int64_t net_used = 0;        // NetUsed
  std::int64_t energy_limit = 0;    // EnergyLimit: staked energy
  std::int64_t energy_used = 0;     // EnergyUsed

  std::int64_t free_net_left() const;    // never negative
  std::int64_t staked_net_left() const;  // never negative
  std::int64_t energy_left() const;      // never negative
};

// Everything the cost of one transfer depends on.
struct TransferFigures {
  Token::Kind kind = Token::Kind::Trx;
  std::int64_t tx_bytes = 0;  // bandwidth bytes of the signed transaction
  AccountResources payer;
  bool creates_account = false;  // TRX or TRC-10 to an address not on chain yet
  std::int64_t energy = 0;       // TRC-20: energy the call uses
  ResourcePrices prices;
};

enum class BandwidthSource { Staked, Free, Burned };

struct SettlementCost {
  std::int64_t bandwidth = 0;  // bytes the transaction costs
  BandwidthSource bandwidth_source = BandwidthSource::Free;
  std::int64_t bandwidth_sun = 0;  // TRX burned for bandwidth
  std::int64_t energy = 0;         // energy the transfer uses (TRC-20)
  std::int64_t energy_staked = 0;  // of which staked energy covers
  std::int64_t energy_sun = 0;     // TRX burned for the rest
  std::int64_t account_sun = 0;    // TRX to create the recipient's account
  std::int64_t sun = 0;            // all the TRX it burns
  // "about 0.345 TRX: 345 bytes of bandwidth burned at 1000 sun a byte (the free 600 a day
  // has 100 left)" or "no TRX: 267 bytes of the free bandwidth (600 a day, 333 left)".
  std::string text;
};

SettlementCost settlement_cost(const TransferFigures& figures);

// The fewest payload bytes one settlement must pay for so that its fee stays within a cap of
// `cap_sun_per_gib` TRX (sun) per GiB: ceil(fee x 2^30 / cap); 0 for a free settlement.
// nullopt when no size is enough (a cap of 0 and a fee above 0).
std::optional<U256> min_bytes_per_settlement(std::int64_t fee_sun, const U256& cap_sun_per_gib);

// Bandwidth bytes of the signed transfer: it is built with a placeholder signature of the
// real size and measured as java-tron measures it.
std::int64_t transfer_bandwidth_bytes(const Token& token, const Address& from, const Address& to,
                                      const U256& amount,
                                      std::int64_t fee_limit = kDefaultFeeLimit);

// From the node: /wallet/getaccountresource and /wallet/getchainparameters.
AccountResources account_resources(FullNodeClient& node, const Address& account);
ResourcePrices resource_prices(FullNodeClient& node);

// Energy of transfer(to, amount) called by `from`, from /wallet/triggerconstantcontract.
// Throws NodeError if the call would fail (e.g. the balance is too low).
std::int64_t trc20_transfer_energy(FullNodeClient& node, const Address& contract,
                                   const Address& from, const Address& to, const U256& amount);

// The figures from the node, then settlement_cost. Throws NodeError, std::invalid_argument
// for an amount the token cannot carry.
TransferFigures transfer_figures(FullNodeClient& node, const Token& token, const Address& from,
                                 const Address& to, const U256& amount,
                                 std::int64_t fee_limit = kDefaultFeeLimit);
SettlementCost estimate_transfer_cost(FullNodeClient& node, const Token& token, const Address& from,
                                      const Address& to, const U256& amount,
                                      std::int64_t fee_limit = kDefaultFeeLimit);

}  // namespace tron
