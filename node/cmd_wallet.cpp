// bttnode wallet create | import | address | balance | send
#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include "node/args.hpp"
#include "node/commands.hpp"
#include "node/password.hpp"
#include "tron/abi.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/token.hpp"
#include "wallet/fullnode_chain.hpp"
#include "wallet/keystore.hpp"
#include "wallet/ledger.hpp"
#include "wallet/payment_executor.hpp"

namespace bttnode {

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  bttnode wallet create --keystore FILE\n"
    "      makes a new key, stores it encrypted, prints its address\n"
    "  bttnode wallet import --keystore FILE\n"
    "      reads a hex private key on stdin, stores it encrypted, prints its address\n"
    "  bttnode wallet address --keystore FILE\n"
    "      prints the base58 address (no password needed)\n"
    "  bttnode wallet balance --keystore FILE --node URL [--trc20 CONTRACT] [--api-key KEY]\n"
    "      prints TRX, TRC-10 BTT (1002000) and TRC-20 BTT balances in base units\n"
    "  bttnode wallet send --keystore FILE --node URL --to ADDR --amount N\n"
    "                      --token trx|trc10:ID|trc20:CONTRACT [--wait] [--timeout SEC]\n"
    "                      [--fee-limit SUN] [--ledger FILE] [--payment-id ID]\n"
    "                      [--max-amount N] [--api-key KEY]\n"
    "      amount in base units; prints the txid; --wait waits until it is in a block.\n"
    "      Every payment goes through the ledger (default FILE.ledger.db): after a crash the\n"
    "      next send re-broadcasts unfinished payments, never paying a debt twice. Re-running\n"
    "      with the same --payment-id never pays that payment twice.\n"
    "\n"
    "Password: --password-file FILE, else BTTNODE_PASSWORD, else asked on the terminal.\n"
    "API key: --api-key KEY or BTTNODE_API_KEY (sent as TRON-PRO-API-KEY).\n"
    "TRC-20 BTT contract: --trc20, else trc20.contract_address of configs/devnet-genesis.json\n"
    "(or --genesis FILE).\n";

constexpr const char* kBttTrc10 = "1002000";
constexpr unsigned kBttTrc10Decimals = 6;
constexpr unsigned kTrxDecimals = 6;

struct Wiped {
  std::string value;
  ~Wiped() {
    if (!value.empty()) OPENSSL_cleanse(value.data(), value.size());
  }
};

std::filesystem::path keystore_path(const Args& args) {
  return args.require("keystore");
}

tron::Address parse_address(const std::string& text, const std::string& option) {
  auto address = tron::Address::parse(text);
  if (!address) {
    throw UsageError("--" + option + " is not a TRON address (base58 T… or 41… hex): '" + text +
                     "'");
  }
  return *address;
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

tron::FullNodeOptions node_options(const Args& args) {
  tron::FullNodeOptions o;
  o.url = args.require("node");
  if (auto key = args.get("api-key")) {
    o.api_key = *key;
  } else if (const char* env = std::getenv("BTTNODE_API_KEY")) {
    o.api_key = env;
  }
  return o;
}

void store_new_key(const Args& args, const tron::PrivateKey& key) {
  const auto path = keystore_path(args);
  if (std::filesystem::exists(std::filesystem::symlink_status(path))) {
    throw wallet::KeystoreError(wallet::KeystoreError::Kind::Exists,
                                "keystore " + path.string() +
                                    ": file exists; refusing to "
                                    "overwrite it");
  }
  Wiped password{read_password(args, true)};
  wallet::create_keystore(path, key, password.value);
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

// Folders to look in for configs/devnet-genesis.json: the current one, then those above the
// executable (a build folder sits inside the source tree).
std::optional<std::filesystem::path> find_genesis() {
  std::vector<std::filesystem::path> roots = {std::filesystem::current_path()};
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (auto p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      roots.push_back(p);
    }
  }
  for (const auto& root : roots) {
    auto candidate = root / "configs" / "devnet-genesis.json";
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

std::optional<tron::Address> trc20_contract(const Args& args) {
  if (auto c = args.get("trc20")) return parse_address(*c, "trc20");
  std::optional<std::filesystem::path> genesis;
  if (auto g = args.get("genesis")) {
    genesis = *g;
  } else {
    genesis = find_genesis();
  }
  if (!genesis) return std::nullopt;
  std::ifstream in(*genesis);
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.contains("trc20") || !doc["trc20"].contains("contract_address") ||
      !doc["trc20"]["contract_address"].is_string()) {
    if (args.has("genesis")) throw UsageError("--genesis: no trc20.contract_address in file");
    return std::nullopt;
  }
  return tron::Address::parse(doc["trc20"]["contract_address"].get<std::string>());
}

int wallet_balance(const Args& args) {
  args.allow_only({"keystore", "node", "trc20", "genesis", "api-key"});
  no_positionals(args);
  const tron::Address owner = wallet::keystore_address(keystore_path(args));
  const auto contract = trc20_contract(args);
  tron::FullNodeClient client(node_options(args));
  tron::AccountBalances acc = client.account(owner);
  std::int64_t trc10 = 0;
  if (auto it = acc.trc10.find(kBttTrc10); it != acc.trc10.end()) trc10 = it->second;

  std::cout << "address: " << owner.to_base58() << "\n";
  std::cout << "trx: " << acc.trx << " sun (" << tron::abi::format_units(acc.trx, kTrxDecimals)
            << " TRX)\n";
  std::cout << "trc10:" << kBttTrc10 << ": " << trc10 << " ("
            << tron::abi::format_units(trc10, kBttTrc10Decimals) << " BTT)\n";
  if (contract) {
    tron::U256 amount = client.trc20_balance(*contract, owner);
    std::cout << "trc20:" << contract->to_base58() << ": " << tron::abi::to_decimal(amount);
    try {
      int decimals = client.trc20_decimals(*contract);
      std::cout << " (" << tron::abi::format_units(amount, static_cast<unsigned>(decimals))
                << " BTT)";
    } catch (const tron::NodeError&) {
      // Balance alone is still worth printing.
    }
    std::cout << "\n";
  } else {
    std::cout << "trc20: unknown contract (pass --trc20 CONTRACT)\n";
  }
  if (!acc.exists) std::cerr << "note: the account does not exist on chain yet\n";
  return 0;
}

std::string new_payment_id() {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1) throw std::runtime_error("random source failed");
  return tron::to_hex(std::span<const std::uint8_t>(r, sizeof r));
}

int wallet_send(const Args& args) {
  args.allow_only({"keystore", "node", "to", "amount", "token", "wait", "timeout", "fee-limit",
                   "ledger", "payment-id", "max-amount", "api-key", "password-file"});
  no_positionals(args);
  const auto keystore = keystore_path(args);
  wallet::PaymentRequest request;
  try {
    request.token = tron::Token::parse(args.require("token"));
    request.amount = tron::abi::parse_amount(args.require("amount"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  if (request.amount == 0) throw UsageError("--amount must be above zero");
  request.to = parse_address(args.require("to"), "to");
  if (auto f = args.get("fee-limit")) request.fee_limit = parse_int64(*f, "fee-limit");
  request.debt_key = "wallet-send:" + args.get("payment-id").value_or(new_payment_id());
  wallet::SpendingPolicy policy;
  if (auto m = args.get("max-amount")) {
    try {
      policy.max_per_payment = tron::abi::parse_amount(*m);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--max-amount: ") + e.what());
    }
  }
  std::int64_t timeout_s = 120;
  if (auto t = args.get("timeout")) timeout_s = parse_int64(*t, "timeout");
  const std::string ledger_path = args.get("ledger").value_or(keystore.string() + ".ledger.db");
  auto options = node_options(args);

  std::optional<tron::PrivateKey> key;
  {
    Wiped password{read_password(args, false)};
    key = wallet::open_keystore(keystore, password.value);
  }
  request.from = key->address();

  tron::FullNodeClient client(options);
  wallet::FullNodeChain chain(client);
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

int cmd_wallet(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"wait", "help"});
  if (args.has("help") || args.positionals().empty()) {
    (args.has("help") ? std::cout : std::cerr) << kUsage;
    return args.has("help") ? 0 : 2;
  }
  const std::string& sub = args.positionals()[0];
  if (sub == "create") return wallet_create(args);
  if (sub == "import") return wallet_import(args);
  if (sub == "address") return wallet_address(args);
  if (sub == "balance") return wallet_balance(args);
  if (sub == "send") return wallet_send(args);
  throw UsageError("unknown wallet command '" + sub + "'\n" + kUsage);
}

}  // namespace bttnode
