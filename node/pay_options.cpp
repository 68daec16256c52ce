#include "node/pay_options.hpp"

#include <cstdlib>

#include "node/password.hpp"
#include "node/torrent_cli_common.hpp"
#include "tron/abi.hpp"
#include "wallet/keystore.hpp"

namespace bttnode {

const std::set<std::string>& sell_option_names() {
  static const std::set<std::string> names = {"keystore",      "node",   "token",
                                              "price",         "credit", "min-settle",
                                              "confirmations", "ledger", "api-key"};
  return names;
}

const std::set<std::string>& buy_option_names() {
  static const std::set<std::string> names = {"keystore", "node",   "token",         "max-price",
                                              "budget",   "ledger", "password-file", "api-key"};
  return names;
}

namespace {

pay::U256 amount_option(const Args& args, const std::string& name) {
  try {
    return tron::abi::parse_amount(args.require(name));
  } catch (const std::invalid_argument& e) {
    throw UsageError("--" + name + ": " + e.what());
  }
}

tron::Token token_option(const Args& args) {
  try {
    return tron::Token::parse(args.require("token"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--token: ") + e.what());
  }
}

}  // namespace

std::optional<PayWallet> parse_pay_wallet(const Args& args) {
  if (!args.has("keystore")) {
    for (const char* name : {"node", "token", "price", "max-price", "budget", "credit",
                             "min-settle", "confirmations", "ledger"}) {
      if (args.has(name)) throw UsageError(std::string("--") + name + " needs --keystore");
    }
    return std::nullopt;
  }
  PayWallet w;
  w.keystore = args.require("keystore");
  w.ledger = args.get("ledger").value_or(w.keystore + ".ledger.db");
  w.node.url = args.require("node");
  if (auto key = args.get("api-key")) {
    w.node.api_key = *key;
  } else if (const char* env = std::getenv("BTTNODE_API_KEY")) {
    w.node.api_key = env;
  }
  // Payments are retried by the payment layer itself; keep each request short.
  w.node.timeout = std::chrono::seconds(5);
  w.node.retries = 1;
  return w;
}

pay::SellerSettings parse_sell_options(const Args& args) {
  pay::SellerSettings s;
  s.token = token_option(args);
  s.price = amount_option(args, "price");
  if (args.has("credit")) s.credit = parse_rate("credit", *args.get("credit"));
  if (s.credit <= 0) throw UsageError("--credit must be above zero");
  if (args.has("min-settle")) s.min_settle = amount_option(args, "min-settle");
  if (auto c = args.get("confirmations")) {
    char* end = nullptr;
    long n = std::strtol(c->c_str(), &end, 10);
    if (c->empty() || *end || n < 1 || n > 100) {
      throw UsageError("--confirmations must be a number from 1 to 100");
    }
    s.confirmations = n;
  }
  return s;
}

BuyOptions parse_buy_options(const Args& args) {
  BuyOptions o;
  o.settings.token = token_option(args);
  o.settings.max_price = amount_option(args, "max-price");
  if (args.has("budget")) o.budget = amount_option(args, "budget");
  return o;
}

tron::PrivateKey open_pay_key(const Args& args, const PayWallet& wallet) {
  std::string password = read_password(args, false);
  auto key = wallet::open_keystore(wallet.keystore, password);
  std::fill(password.begin(), password.end(), '\0');
  return key;
}

}  // namespace bttnode
