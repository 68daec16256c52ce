#pragma once
// The btt_pay options of `seed` and `download`: parsed and checked before anything starts.
#include <optional>
#include <set>
#include <string>

#include "node/cli/args.hpp"
#include "node/pay/buyer.hpp"
#include "node/pay/seller.hpp"
#include "node/runtime/settings.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/keys.hpp"
#include "tron/network.hpp"

namespace bttnode {

// Option names, for Args::allow_only.
const std::set<std::string>& sell_option_names();
const std::set<std::string>& buy_option_names();

struct PayWallet {
  std::string keystore;
  std::string ledger;  // default: KEYSTORE.ledger.db
  tron::FullNodeOptions node;
  tron::Network network;  // checked against the node's chain
  std::string chain_id;   // the node's, hex
};

// Null when no --keystore was given (no btt_pay). Throws UsageError for a missing or bad value.
// Reads the node's chain id once: with --network it must be that network's (else
// tron::NetworkMismatch naming both chains); without, it names the network.
std::optional<PayWallet> parse_pay_wallet(const Args& args, const NodeSettings& settings = {});
// The wallet gives the network that names tokens (--token btt) and the node that tells the
// decimals of other tokens for whole-token amounts. Without it, the network is --network's
// (else mainnet) and whole-token amounts of unnamed tokens are refused.
// `base` gives the settings the terms start from (e.g. a config file's); --credit,
// --max-credit and --confirmations are read through the settings table.
pay::SellerSettings parse_sell_options(const Args& args, const PayWallet* wallet = nullptr,
                                       pay::SellerSettings base = {});
struct BuyOptions {
  pay::BuyerSettings settings;
  std::optional<pay::U256> budget;
  // --fee-cap X: at most X TRX of fees per GiB bought, in sun per GiB (decimals allowed).
  std::optional<pay::U256> fee_cap_sun_per_gib;
  // --over-fee-cap free|stop: when a seeder's terms cannot keep fees under the cap, download
  // from it as a free peer (false, the default) or stop (true).
  bool stop_over_fee_cap = false;
};
BuyOptions parse_buy_options(const Args& args, const PayWallet* wallet = nullptr,
                             pay::BuyerSettings base = {});

// "2.5" or "2.5trx" TRX -> sun; for --fee-cap. Throws UsageError naming the option.
pay::U256 parse_trx_option(const std::string& option, const std::string& text);

// Opens the keystore (password from --password-file or BTTNODE_PASSWORD, else the terminal).
tron::PrivateKey open_pay_key(const Args& args, const PayWallet& wallet);

}  // namespace bttnode
