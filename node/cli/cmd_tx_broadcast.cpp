// bttnode tx broadcast --node URL [--api-key KEY] [--ca-file F]: reads one signed transaction as java-tron's
// JSON on stdin, sends it with /wallet/broadcasthex and prints its txid. A refusal by the node
// exits 1 with the node's code and message on stderr.
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/transaction.hpp"

namespace bttnode {

int cmd_tx_broadcast(const Args& args) {
  tron::FullNodeOptions options;
  options.url = args.require("node");
  options.ca_file = args.get("ca-file").value_or("");
  if (auto key = args.get("api-key")) {
    options.api_key = *key;
  } else if (const char* env = std::getenv("BTTNODE_API_KEY")) {
    options.api_key = env;
  }

  std::string input(std::istreambuf_iterator<char>(std::cin), {});
  nlohmann::json json = nlohmann::json::parse(input, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    std::cerr << "bttnode tx broadcast: stdin is not one transaction in java-tron's JSON\n";
    return 1;
  }
  tron::Transaction tx = tron::Transaction::from_json(json);
  if (tx.proto().signature_size() == 0) {
    std::cerr << "bttnode tx broadcast: the transaction is not signed (see bttnode tx sign)\n";
    return 1;
  }

  tron::FullNodeClient client(options);
  tron::BroadcastResult result = client.broadcast_hex(tx.serialized());
  if (!result.ok) {
    std::cerr << "bttnode tx broadcast: refused by the node: " << result.code;
    if (!result.message.empty()) std::cerr << ": " << result.message;
    std::cerr << "\n";
    return 1;
  }
  std::cout << result.txid << "\n";
  return 0;
}

}  // namespace bttnode
