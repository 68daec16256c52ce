#pragma once
// The btt_pay options of `seed` and `download`: parsed and checked before anything starts.
#include <optional>
#include <set>
#include <string>

#include "node/args.hpp"
#include "node/pay_buyer.hpp"
#include "node/pay_seller.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/keys.hpp"

namespace bttnode {

// Option names, for Args::allow_only.
const std::set<std::string>& sell_option_names();
const std::set<std::string>& buy_option_names();

struct PayWallet {
  std::string keystore;
  std::string ledger;  // default: KEYSTORE.ledger.db
  tron::FullNodeOptions node;
};

// Null when no --keystore was given (no btt_pay). Throws UsageError for a missing or bad value.
std::optional<PayWallet> parse_pay_wallet(const Args& args);
pay::SellerSettings parse_sell_options(const Args& args);
struct BuyOptions {
  pay::BuyerSettings settings;
  std::optional<pay::U256> budget;
};
BuyOptions parse_buy_options(const Args& args);

// Opens the keystore (password from --password-file or BTTNODE_PASSWORD, else the terminal).
tron::PrivateKey open_pay_key(const Args& args, const PayWallet& wallet);

}  // namespace bttnode
