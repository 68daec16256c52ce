#include "node/pay/options.hpp"

#include <algorithm>
#include <cstdlib>

#include "node/cli/network_options.hpp"
#include "node/cli/password.hpp"
#include "node/cli/torrent_cli_common.hpp"
#include "node/pay/settings_table.hpp"
#include "tron/abi.hpp"
#include "wallet/keystore.hpp"

namespace bttnode {

const std::set<std::string>& sell_option_names() {
  static const std::set<std::string> names = {
      "keystore",      "node",   "token",   "price",   "credit",  "min-settle",
      "confirmations", "ledger", "api-key", "network", "genesis", "max-credit"};
  return names;
}

const std::set<std::string>& buy_option_names() {
  static const std::set<std::string> names = {
      "keystore",      "node",    "token",   "max-price", "budget",  "ledger",
      "password-file", "api-key", "network", "genesis",   "fee-cap", "over-fee-cap"};
  return names;
}

std::optional<PayWallet> parse_pay_wallet(const Args& args, const NodeSettings& settings) {
  if (!args.has("keystore")) {
    for (const char* name : {"node", "network", "genesis", "token", "price", "max-price", "budget",
                             "credit", "min-settle", "confirmations", "ledger", "fee-cap",
                             "over-fee-cap", "max-credit", "upload-while-buying"}) {
      if (args.has(name)) throw UsageError(std::string("--") + name + " needs --keystore");
    }
    return std::nullopt;
  }
  PayWallet w;
  w.keystore = args.require("keystore");
  w.ledger = args.get("ledger").value_or(w.keystore + ".ledger.db");
  const auto preset = network_option(args);
  w.node = node_option(args, preset);
  w.node.timeout = settings.chain_timeout;
  w.node.retries = settings.chain_retries;
  tron::FullNodeClient client(w.node);
  try {
    w.chain_id = tron::node_chain_id(client);
  } catch (const tron::NodeError& e) {
    throw std::runtime_error("cannot read the chain id of the node " + w.node.url + ": " +
                             e.what());
  }
  try {
    w.network = choose_network(w.chain_id, preset, args);
  } catch (const tron::NetworkMismatch& e) {
    throw tron::NetworkMismatch("--node " + w.node.url + ": " + e.what());
  }
  return w;
}

namespace {

struct TokenContext {
  tron::Network network;
  tron::DecimalsLookup lookup;
};

TokenContext token_context(const Args& args, const PayWallet* wallet) {
  if (wallet) return {wallet->network, node_decimals_lookup(wallet->node)};
  return {offline_network(args), {}};
}

}  // namespace

pay::SellerSettings parse_sell_options(const Args& args, const PayWallet* wallet,
                                       pay::SellerSettings base) {
  const TokenContext ctx = token_context(args, wallet);
  pay::SellerSettings s = std::move(base);
  s.token = token_option(args, ctx.network);
  s.price = amount_option(args, "price", s.token, ctx.network, ctx.lookup);
  const auto& table = pay::seller_settings_table();
  for (const char* name : {"credit", "max-credit", "confirmations"}) {
    if (auto v = args.get(name)) table.set(s, name, *v);
  }
  if (args.has("credit")) s.credit_explicit = true;
  if (args.has("max-credit")) {
    if (s.max_credit < s.credit) throw UsageError("--max-credit must be at least --credit");
  } else {
    s.max_credit = std::max(s.max_credit, s.credit);  // a first credit above the default cap
  }
  if (args.has("min-settle")) {
    s.min_settle = amount_option(args, "min-settle", s.token, ctx.network, ctx.lookup);
  }
  return s;
}

pay::U256 parse_trx_option(const std::string& option, const std::string& text) {
  std::string number = text;
  if (number.size() > 3) {
    std::string tail = number.substr(number.size() - 3);
    for (auto& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tail == "trx") number.resize(number.size() - 3);
  }
  try {
    return tron::abi::parse_units(number, tron::kTrxDecimals);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--" + option + ": " + e.what() + " (TRX, up to 6 decimals, e.g. 2.5)");
  }
}

BuyOptions parse_buy_options(const Args& args, const PayWallet* wallet, pay::BuyerSettings base) {
  const TokenContext ctx = token_context(args, wallet);
  BuyOptions o;
  o.settings = std::move(base);
  o.settings.token = token_option(args, ctx.network);
  o.settings.max_price =
      amount_option(args, "max-price", o.settings.token, ctx.network, ctx.lookup);
  if (args.has("budget")) {
    o.budget = amount_option(args, "budget", o.settings.token, ctx.network, ctx.lookup);
  }
  if (auto cap = args.get("fee-cap")) o.fee_cap_sun_per_gib = parse_trx_option("fee-cap", *cap);
  if (auto over = args.get("over-fee-cap")) {
    if (!o.fee_cap_sun_per_gib) throw UsageError("--over-fee-cap needs --fee-cap");
    if (*over == "stop") {
      o.stop_over_fee_cap = true;
    } else if (*over != "free") {
      throw UsageError("--over-fee-cap must be free or stop, got '" + *over + "'");
    }
  }
  return o;
}

tron::PrivateKey open_pay_key(const Args& args, const PayWallet& wallet) {
  const tron::SecretString password = read_secret_password(args, false);
  return wallet::open_keystore(wallet.keystore, std::string_view(password.data(), password.size()));
}

}  // namespace bttnode
