// bttnode tx build | sign | broadcast
#include <charconv>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "node/cli/args.hpp"
#include "node/cli/network_options.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/password.hpp"
#include "tron/abi.hpp"
#include "tron/token.hpp"
#include "tron/transaction.hpp"
#include "wallet/keystore.hpp"

namespace bttnode {

namespace {

std::int64_t parse_int64(const std::string& text, const std::string& option) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw UsageError("--" + option + " must be a whole number, got '" + text + "'");
  }
  return value;
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

int cmd_tx(const Args& args) {
  const std::string sub = args.positionals().empty() ? "" : args.positionals()[0];
  if (sub == "build") return tx_build(args);
  if (sub == "sign") return tx_sign(args);
  throw UsageError("unknown tx command '" + sub + "'");
}

}  // namespace bttnode
