// bttnode earnings --keystore FILE [--ledger DB] [--json] [--token T] [--network N]
// Reads the payment ledger only: no password, no node.
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/network_options.hpp"
#include "tron/token.hpp"
#include "wallet/earnings.hpp"
#include "wallet/keystore.hpp"
#include "wallet/ledger.hpp"

namespace bttnode {

int cmd_earnings(const Args& args) {
  const auto keystore = args.get("keystore");
  if (!keystore && !args.has("ledger")) throw UsageError("--keystore is required");
  std::optional<tron::Token> token;
  if (auto t = args.get("token")) token = parse_token_text("token", *t, offline_network(args));
  // Not value_or: its argument is evaluated even when --ledger is given and --keystore is not.
  const auto ledger_arg = args.get("ledger");
  const std::string ledger_path = ledger_arg ? *ledger_arg : *keystore + ".ledger.db";

  // Opening a ledger creates it when missing; a missing one is an error here, not a new file.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(ledger_path, ec)) {
    std::cerr << "bttnode earnings: no ledger at " << ledger_path;
    if (std::filesystem::exists(ledger_path, ec)) {
      std::cerr << ": not a regular file\n";
    } else {
      std::cerr << ": the file does not exist (a wallet's ledger is made by its first payment "
                   "or credit"
                << (args.has("ledger") ? "" : "; --ledger DB reads another path") << ")\n";
    }
    return 1;
  }

  // The address is a courtesy: the keystore's public part, readable without a password.
  std::optional<std::string> address;
  if (keystore) {
    try {
      address = wallet::keystore_address(*keystore).to_base58();
    } catch (const std::exception&) {
    }
  }

  wallet::Earnings earnings;
  try {
    wallet::Ledger ledger(ledger_path);
    wallet::PaymentFilter payments;
    wallet::CreditFilter credits;
    payments.token = credits.token = token;
    earnings =
        wallet::summarize_earnings(ledger.payments(payments), ledger.credits(credits), token);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read the ledger " + ledger_path + ": " + e.what());
  }

  if (args.has("json")) {
    nlohmann::json out = wallet::to_json(earnings);
    out["ledger"] = ledger_path;
    out["address"] = address ? nlohmann::json(*address) : nlohmann::json(nullptr);
    out["token_filter"] = token ? nlohmann::json(token->to_string()) : nlohmann::json(nullptr);
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (address) std::cout << "wallet " << *address << "\n";
  std::cout << "ledger " << ledger_path << "\n";
  if (token) std::cout << "token " << token->to_string() << " only\n";
  std::cout << "\n" << wallet::to_text(earnings);
  return 0;
}

}  // namespace bttnode
