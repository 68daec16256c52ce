// bttnode wallet create | import | address | balance | send
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/network_options.hpp"
#include "node/cli/password.hpp"
#include "tron/abi.hpp"
#include "tron/amount.hpp"
#include "tron/fee_estimate.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/network.hpp"
#include "tron/token.hpp"
#include "wallet/fullnode_chain.hpp"
#include "wallet/keystore.hpp"
#include "wallet/ledger.hpp"
#include "wallet/payment_executor.hpp"

namespace bttnode {

namespace {


struct Wiped {
  std::string value;
  ~Wiped() {
    if (!value.empty()) OPENSSL_cleanse(value.data(), value.size());
  }
};

std::filesystem::path keystore_path(const Args& args) {
  return args.require("keystore");
}

std::int64_t parse_int64(const std::string& text, const std::string& option) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) {
    throw UsageError("--" + option + " must be a whole number, got '" + text + "'");
  }
  return value;
}

void no_positionals(const Args& args) {
  if (args.positionals().size() > 1) {
    throw UsageError("unexpected argument '" + args.positionals()[1] + "'");
  }
}

// The node and the network it serves, checked against --network when given.
struct Connected {
  std::unique_ptr<tron::FullNodeClient> client;
  tron::Network network;
  std::string url;
};

Connected connect(const Args& args) {
  Connected c;
  const auto preset = network_option(args);
  tron::FullNodeOptions options = node_option(args, preset);
  c.url = options.url;
  c.client = std::make_unique<tron::FullNodeClient>(options);
  try {
    c.network = connect_network(*c.client, preset, args);
  } catch (const tron::NetworkMismatch& e) {
    throw tron::NetworkMismatch("--node " + c.url + ": " + e.what());
  }
  return c;
}

void store_new_key(const Args& args, const tron::PrivateKey& key) {
  const auto path = keystore_path(args);
  if (std::filesystem::exists(std::filesystem::symlink_status(path))) {
    throw wallet::KeystoreError(wallet::KeystoreError::Kind::Exists,
                                "keystore " + path.string() +
                                    ": file exists; refusing to "
                                    "overwrite it");
  }
  const tron::SecretString password = read_secret_password(args, true);
  wallet::create_keystore(path, key, std::string_view(password.data(), password.size()));
  std::cout << key.address().to_base58() << "\n";
}

int wallet_create(const Args& args) {
  args.allow_only({"keystore", "password-file"});
  no_positionals(args);
  store_new_key(args, tron::PrivateKey::generate());
  return 0;
}

int wallet_import(const Args& args) {
  args.allow_only({"keystore", "password-file"});
  no_positionals(args);
  Wiped line;
  std::getline(std::cin, line.value);
  // Trim spaces and line endings around the hex.
  auto first = line.value.find_first_not_of(" \t\r\n");
  auto last = line.value.find_last_not_of(" \t\r\n");
  Wiped hex{first == std::string::npos ? std::string()
                                       : line.value.substr(first, last - first + 1)};
  if (hex.value.empty()) throw UsageError("expected a hex private key on stdin");
  std::optional<tron::PrivateKey> key;
  try {
    key = tron::PrivateKey::from_hex(hex.value);
  } catch (const std::invalid_argument&) {
    // The message may quote the text: never echo a secret.
    throw UsageError("stdin is not a valid private key (64 hex digits)");
  }
  store_new_key(args, *key);
  return 0;
}

int wallet_address(const Args& args) {
  args.allow_only({"keystore", "password-file"});
  no_positionals(args);
  // The clear address field is authenticated only by the password (wallet/keystore.hpp).
  if (auto password = given_password(args)) {
    std::cout << wallet::verified_keystore_address(keystore_path(args), *password).to_base58()
              << "\n";
    return 0;
  }
  std::cout << wallet::keystore_address(keystore_path(args)).to_base58() << "\n";
  std::cerr << "bttnode wallet address: warning: not verified (no password given); whoever can "
               "write the keystore can change this address. Set BTTNODE_PASSWORD or pass "
               "--password-file to check it.\n";
  return 0;
}

std::set<std::string> with_network(std::set<std::string> names) {
  names.insert(network_option_names().begin(), network_option_names().end());
  return names;
}

int wallet_balance(const Args& args) {
  args.allow_only(with_network({"keystore", "trc20"}));
  no_positionals(args);
  const tron::Address owner = wallet::keystore_address(keystore_path(args));
  Connected node = connect(args);
  tron::FullNodeClient& client = *node.client;
  const tron::Network& net = node.network;
  std::optional<tron::Address> contract = net.btt;
  if (auto c = args.get("trc20")) contract = parse_address(*c, "trc20");

  tron::AccountBalances acc = client.account(owner);
  std::int64_t trc10 = 0;
  if (auto it = acc.trc10.find(net.bttold_asset); it != acc.trc10.end()) trc10 = it->second;

  std::cout << "address: " << owner.to_base58() << "\n";
  std::cout << "network: " << net.name << "\n";
  std::cout << "trx: " << acc.trx << " sun ("
            << tron::abi::format_units(acc.trx, tron::kTrxDecimals) << " TRX)\n";
  if (contract) {
    tron::Token token;
    token.kind = tron::Token::Kind::Trc20;
    token.contract = *contract;
    tron::U256 amount = client.trc20_balance(*contract, owner);
    std::cout << token.to_string() << ": " << tron::abi::to_decimal(amount);
    std::optional<unsigned> decimals = tron::known_decimals(token, net);
    if (!decimals) {
      try {
        decimals = tron::node_token_decimals(client, token);
      } catch (const tron::NodeError&) {
        // The balance alone is still worth printing.
      }
    }
    if (decimals) {
      auto symbol = tron::token_symbol(token, net);
      std::cout << " (" << tron::abi::format_units(amount, *decimals) << " "
                << symbol.value_or("tokens") << ")";
    }
    std::cout << "\n";
  } else {
    std::cout << "btt: unknown contract on " << net.name << " (pass --trc20 CONTRACT)\n";
  }
  std::cout << "trc10:" << net.bttold_asset << ": " << trc10 << " ("
            << tron::abi::format_units(trc10, tron::kBttOldDecimals) << " BTTOLD)\n";
  tron::AccountResources res = tron::account_resources(client, owner);
  std::cout << "bandwidth: " << res.free_net_left() << " of " << res.free_net_limit
            << " free bytes left today, " << res.staked_net_left() << " of " << res.net_limit
            << " staked bytes left\n";
  std::cout << "energy: " << res.energy_left() << " of " << res.energy_limit
            << " staked energy left\n";
  if (!acc.exists) std::cerr << "note: the account does not exist on chain yet\n";
  return 0;
}

// --token, --amount (and --max-amount) of a payment, decimals from the node when needed.
struct Transfer {
  tron::Token token;
  tron::U256 amount = 0;
};

Transfer transfer_options(const Args& args, Connected& node) {
  Transfer t;
  t.token = token_option(args, node.network);
  // The node is connected already: ask it for the decimals of a token without a name.
  tron::DecimalsLookup lookup = [&node](const tron::Token& token) {
    try {
      return tron::node_token_decimals(*node.client, token);
    } catch (const std::exception& e) {
      throw std::invalid_argument("the decimals of " + token.to_string() +
                                  " could not be read from the node: " + e.what());
    }
  };
  t.amount = amount_option(args, "amount", t.token, node.network, lookup);
  if (t.amount == 0) throw UsageError("--amount must be above zero");
  return t;
}

int wallet_fee(const Args& args) {
  args.allow_only(with_network({"keystore", "to", "amount", "token", "fee-limit"}));
  no_positionals(args);
  const tron::Address from = wallet::keystore_address(keystore_path(args));
  const tron::Address to = parse_address(args.require("to"), "to");
  Connected node = connect(args);
  Transfer t = transfer_options(args, node);
  std::int64_t fee_limit = tron::kDefaultFeeLimit;
  if (auto f = args.get("fee-limit")) fee_limit = parse_int64(*f, "fee-limit");
  tron::SettlementCost cost;
  try {
    cost = tron::estimate_transfer_cost(*node.client, t.token, from, to, t.amount, fee_limit);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--amount: ") + e.what());
  }
  std::cout << "transfer: " << tron::format_token_amount(t.amount, t.token, node.network) << " to "
            << to.to_base58() << " on " << node.network.name << "\n";
  std::cout << "fee: " << cost.sun << " sun\n";
  std::cout << "bandwidth: " << cost.bandwidth << " bytes\n";
  if (t.token.kind == tron::Token::Kind::Trc20) std::cout << "energy: " << cost.energy << "\n";
  std::cout << cost.text << "\n";
  return 0;
}

std::string new_payment_id() {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1) throw std::runtime_error("random source failed");
  return tron::to_hex(std::span<const std::uint8_t>(r, sizeof r));
}

int wallet_send(const Args& args) {
  args.allow_only(with_network({"keystore", "to", "amount", "token", "wait", "timeout", "fee-limit",
                                "ledger", "payment-id", "max-amount", "password-file"}));
  no_positionals(args);
  const auto keystore = keystore_path(args);
  // Options that need no node are checked before it is asked anything.
  const tron::Address to = parse_address(args.require("to"), "to");
  Connected node = connect(args);
  wallet::PaymentRequest request;
  Transfer transfer = transfer_options(args, node);
  request.token = transfer.token;
  request.amount = transfer.amount;
  request.to = to;
  if (auto f = args.get("fee-limit")) request.fee_limit = parse_int64(*f, "fee-limit");
  request.debt_key = "wallet-send:" + args.get("payment-id").value_or(new_payment_id());
  wallet::SpendingPolicy policy;
  if (args.has("max-amount")) {
    policy.max_per_payment = amount_option(args, "max-amount", request.token, node.network);
  }
  std::int64_t timeout_s = 120;
  if (auto t = args.get("timeout")) timeout_s = parse_int64(*t, "timeout");
  const std::string ledger_path = args.get("ledger").value_or(keystore.string() + ".ledger.db");

  std::optional<tron::PrivateKey> key;
  {
    const tron::SecretString password = read_secret_password(args, false);
    key = wallet::open_keystore(keystore, std::string_view(password.data(), password.size()));
  }
  request.from = key->address();

  wallet::FullNodeChain chain(*node.client);
  wallet::Ledger ledger(ledger_path);
  wallet::ExecutorOptions exec_options;
  exec_options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  // Crash tests kill the process right after a named step (see wallet::to_string(Step)).
  if (const char* crash = std::getenv("BTTNODE_WALLET_CRASH_AFTER")) {
    std::string step = crash;
    exec_options.hook = [step](wallet::Step s, const wallet::Payment&) {
      if (step == wallet::to_string(s)) ::_exit(75);
    };
  }
  wallet::PaymentExecutor executor(ledger, chain, *key, policy, exec_options);

  // Unfinished payments of an earlier run first: the same signed bytes go out again.
  for (const auto& p : executor.recover()) {
    std::cerr << "earlier payment " << p.id << " (" << p.debt_key << "): " << to_string(p.state)
              << (p.txid ? " txid " + *p.txid : "") << "\n";
  }

  wallet::Payment p;
  try {
    p = executor.submit(request);
  } catch (const std::exception&) {
    // If it got as far as signing, say which txid the next run will finish.
    auto attempts = ledger.attempts(request.debt_key);
    if (!attempts.empty() && attempts.back().txid) {
      std::cout << *attempts.back().txid << std::endl;
      std::cerr << "the payment is signed and kept in " << ledger_path
                << "; the next wallet send finishes it first. To retry it, add --payment-id "
                << request.debt_key.substr(std::string("wallet-send:").size())
                << ", which never pays twice\n";
    }
    throw;
  }
  if (p.state == wallet::PaymentState::Failed && !p.txid) {
    std::cerr << "bttnode wallet send: payment refused: " << p.error.value_or("") << "\n";
    return 1;
  }
  std::cout << p.txid.value_or("") << std::endl;
  if (p.state == wallet::PaymentState::Signed && p.error) {
    // Signed and kept, but no node took it yet; a later send or --wait retries it.
    std::cerr << "bttnode wallet send: " << *p.error << "\n";
    if (!args.has("wait")) return 1;
  }
  if (!args.has("wait")) return 0;

  p = executor.wait(p.id, std::chrono::seconds(timeout_s));
  switch (p.state) {
    case wallet::PaymentState::Confirmed:
      std::cout << "confirmed in block " << p.block_number.value_or(0);
      if (p.attempt > 1) std::cout << " (txid " << p.txid.value_or("") << ")";
      if (p.fee) std::cout << ", fee " << *p.fee << " sun (" << tron::format_trx(*p.fee) << ")";
      std::cout << "\n";
      return 0;
    case wallet::PaymentState::Failed:
      std::cout << "failed: " << p.fail_reason.value_or("") << ": " << p.error.value_or("") << "\n";
      return 1;
    default:
      std::cout << "pending: not in a block after " << timeout_s << " s (state "
                << to_string(p.state) << "); a later send retries it\n";
      return 1;
  }
}

}  // namespace

int cmd_wallet(const Args& args) {
  if (args.positionals().empty()) throw UsageError("which wallet command?");
  const std::string& sub = args.positionals()[0];
  if (sub == "create") return wallet_create(args);
  if (sub == "import") return wallet_import(args);
  if (sub == "address") return wallet_address(args);
  if (sub == "balance") return wallet_balance(args);
  if (sub == "fee") return wallet_fee(args);
  if (sub == "send") return wallet_send(args);
  throw UsageError("unknown wallet command '" + sub + "'");
}

}  // namespace bttnode
