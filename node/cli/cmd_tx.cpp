// bttnode tx build | sign | broadcast
#include <charconv>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/password.hpp"
#include "tron/abi.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"
#include "wallet/keystore.hpp"

namespace bttnode {

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  bttnode tx build --token trx|trc10:ID|trc20:CONTRACT --from ADDR --to ADDR --amount N\n"
    "                   --ref-block BLOCKID --timestamp MS --expiration MS [--fee-limit SUN]\n"
    "                   [--visible]\n"
    "      prints the unsigned transaction as java-tron's JSON, one line (offline)\n"
    "  bttnode tx sign --keystore FILE [--password-file FILE]\n"
    "      signs each transaction JSON line on stdin, prints each signed, one per line\n"
    "  bttnode tx broadcast --node URL\n"
    "      sends the signed transaction JSON on stdin\n";

std::int64_t parse_int64(const std::string& text, const std::string& option) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError("--" + option + " must be a whole number, got '" + text + "'");
  }
  return value;
}

tron::Address parse_address(const std::string& text, const std::string& option) {
  auto address = tron::Address::parse(text);
  if (!address) {
    throw UsageError("--" + option + " is not a TRON address (base58 T… or 41… hex): '" + text +
                     "'");
  }
  return *address;
}

int tx_build(const Args& args) {
  args.allow_only({"token", "from", "to", "amount", "ref-block", "timestamp", "expiration",
                   "fee-limit", "visible"});
  tron::Token token;
  try {
    token = tron::Token::parse(args.require("token"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  const tron::Address from = parse_address(args.require("from"), "from");
  const tron::Address to = parse_address(args.require("to"), "to");
  tron::U256 amount;
  try {
    amount = tron::abi::parse_amount(args.require("amount"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--amount: ") + e.what());
  }
  tron::Bytes block_id;
  try {
    block_id = tron::from_hex(args.require("ref-block"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--ref-block must be a 64-digit hex block id: ") + e.what());
  }
  if (block_id.size() != 32) throw UsageError("--ref-block must be a 64-digit hex block id");
  const std::int64_t timestamp = parse_int64(args.require("timestamp"), "timestamp");
  const std::int64_t expiration = parse_int64(args.require("expiration"), "expiration");
  if (timestamp <= 0) throw UsageError("--timestamp must be positive (milliseconds since 1970)");
  if (expiration <= timestamp) throw UsageError("--expiration must be after --timestamp");

  std::int64_t fee_limit = tron::kDefaultFeeLimit;
  if (auto text = args.get("fee-limit")) {
    if (token.kind != tron::Token::Kind::Trc20) {
      throw UsageError("--fee-limit applies to trc20 transfers only");
    }
    fee_limit = parse_int64(*text, "fee-limit");
    if (fee_limit <= 0) throw UsageError("--fee-limit must be greater than 0");
  }

  auto timing = tron::TxTiming::from_block_id(block_id, timestamp, expiration);
  tron::Transaction tx;
  try {
    tx = tron::Transaction::transfer(token, from, to, amount, timing, fee_limit);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  std::cout << tx.to_json(args.has("visible")).dump() << std::endl;
  return 0;
}

int tx_sign(const Args& args) {
  args.allow_only({"keystore", "password-file"});
  const std::string keystore = args.require("keystore");
  const tron::SecretString password = read_secret_password(args, false);
  const tron::PrivateKey key =
      wallet::open_keystore(keystore, std::string_view(password.data(), password.size()));

  std::string line;
  std::size_t line_number = 0;
  while (std::getline(std::cin, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json in = nlohmann::json::parse(line, nullptr, false);
    if (in.is_discarded()) {
      std::cerr << "bttnode tx sign: line " << line_number << ": not JSON\n";
      return 1;
    }
    tron::Transaction tx;
    try {
      // Checks that raw_data, raw_data_hex and txID agree before anything is signed.
      tx = tron::Transaction::from_json(in);
    } catch (const std::invalid_argument& e) {
      std::cerr << "bttnode tx sign: line " << line_number << ": " << e.what() << "\n";
      return 1;
    }
    tx.sign(key);
    const bool visible = in.value("visible", false);
    std::cout << tx.to_json(visible).dump() << std::endl;
  }
  if (std::cin.bad()) {
    std::cerr << "bttnode tx sign: error reading stdin\n";
    return 1;
  }
  return 0;
}

}  // namespace

int cmd_tx(int argc, char** argv, int first) {
  if (first >= argc) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string sub = argv[first];
  if (sub == "broadcast") return cmd_tx_broadcast(argc, argv, first + 1);
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << kUsage;
    return 0;
  }
  try {
    if (sub == "build") return tx_build(Args(argc, argv, first + 1, {"visible"}));
    if (sub == "sign") return tx_sign(Args(argc, argv, first + 1, {}));
  } catch (const UsageError& e) {
    std::cerr << "bttnode tx " << sub << ": " << e.what() << "\n" << kUsage;
    return 2;
  }
  std::cerr << "bttnode tx: unknown subcommand '" << sub << "'\n" << kUsage;
  return 2;
}

}  // namespace bttnode
