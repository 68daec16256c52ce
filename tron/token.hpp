#pragma once
// What a payment moves: TRX, a TRC-10 asset, or a TRC-20 token. Written "trx",
// "trc10:<asset id>" or "trc20:<contract address>" on the command line and in the ledger.
#include <string>
#include <string_view>

#include "tron/address.hpp"

namespace tron {

struct Token {
  enum class Kind { Trx, Trc10, Trc20 };
  Kind kind = Kind::Trx;
  std::string asset_id;  // Trc10: ASCII digits, e.g. "1002000"
  Address contract;      // Trc20

  // Throws std::invalid_argument with a message naming the accepted forms.
  static Token parse(std::string_view text);
  std::string to_string() const;  // trc20 contract in base58
  bool operator==(const Token&) const = default;
};

}  // namespace tron
