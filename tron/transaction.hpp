#pragma once
// TRON transactions built locally: TransferContract (TRX), TransferAssetContract (TRC-10) and
// TriggerSmartContract (TRC-20 transfer). txID = SHA-256 of the serialized raw_data.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/multiprecision/cpp_int.hpp>
#include <nlohmann/json.hpp>

#include "tron/abi.hpp"
#include "tron/address.hpp"
#include "tron/hashes.hpp"
#include "tron/keys.hpp"
#include "tron/proto/tron.pb.h"
#include "tron/token.hpp"

namespace tron {

using U256 = boost::multiprecision::uint256_t;

// TAPOS reference and validity window, all times in milliseconds since the epoch.
struct TxTiming {
  Bytes ref_block_bytes;  // bytes 6..7 of the reference block id (its number's low 16 bits)
  Bytes ref_block_hash;   // bytes 8..15 of the reference block id
  std::int64_t timestamp = 0;
  std::int64_t expiration = 0;

  // From a 32-byte block id (8-byte big-endian number | hash tail).
  static TxTiming from_block_id(std::span<const std::uint8_t> block_id, std::int64_t timestamp,
                                std::int64_t expiration);
};

// Default energy budget for a TRC-20 transfer, in sun.
inline constexpr std::int64_t kDefaultFeeLimit = 50'000'000;

// What a payment transaction moves, read back from its contract.
struct Payment {
  Token token;
  Address from;
  Address to;
  U256 amount;
  bool operator==(const Payment&) const = default;
};

class Transaction {
 public:
  Transaction() = default;
  explicit Transaction(protocol::Transaction proto) : proto_(std::move(proto)) {}

  static Transaction transfer_trx(const Address& from, const Address& to, std::int64_t amount,
                                  const TxTiming& timing);
  static Transaction transfer_trc10(std::string_view asset_id, const Address& from,
                                    const Address& to, std::int64_t amount,
                                    const TxTiming& timing);
  static Transaction transfer_trc20(const Address& contract, const Address& from,
                                    const Address& to, const U256& amount,
                                    std::int64_t fee_limit, const TxTiming& timing);
  // Dispatches on the token; throws std::invalid_argument if amount does not fit the kind
  // (TRX and TRC-10 amounts are int64).
  static Transaction transfer(const Token& token, const Address& from, const Address& to,
                              const U256& amount, const TxTiming& timing,
                              std::int64_t fee_limit = kDefaultFeeLimit);

  // Parses the serialized Transaction (as broadcasthex takes it). Throws std::invalid_argument.
  static Transaction from_bytes(std::span<const std::uint8_t> bytes);
  // Parses java-tron's JSON form (raw_data_hex is authoritative when present; the JSON
  // raw_data must agree with it). Throws std::invalid_argument.
  static Transaction from_json(const nlohmann::json& json);

  Hash32 txid() const;
  Bytes raw_data_bytes() const;
  std::string raw_data_hex() const;
  Bytes serialized() const;  // the whole Transaction, signatures included
  void sign(const PrivateKey& key);  // appends a 65-byte signature over txid()
  // java-tron's JSON: {visible, txID, raw_data{...}, raw_data_hex, signature?[...]}. With
  // visible=true addresses are base58, otherwise 41-hex.
  nlohmann::json to_json(bool visible = false) const;

  // The owner_address of the first contract, if it is a valid address.
  std::optional<Address> owner() const;
  // The payment this transaction makes, if it is exactly one TransferContract,
  // TransferAssetContract or TriggerSmartContract calling transfer(address,uint256) with no
  // call value; nullopt for anything else.
  std::optional<Payment> payment() const;
  // Addresses the signatures recover to, in order (nullopt for one that does not recover).
  std::vector<std::optional<Address>> signers() const;

  const protocol::Transaction& proto() const { return proto_; }
  // Mutable access: the cached raw_data bytes are recomputed on next use.
  protocol::Transaction& proto() {
    raw_valid_ = false;
    return proto_;
  }

 private:
  // Serialized raw_data, kept so that build, sign and print serialize it once.
  const std::string& raw() const;
  void set_raw_cache();

  protocol::Transaction proto_;
  mutable std::string raw_;
  mutable bool raw_valid_ = false;
};

}  // namespace tron
