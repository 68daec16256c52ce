#include "node/cli/network_options.hpp"

#include <cstdlib>
#include <memory>
#include <vector>

namespace bttnode {

const std::set<std::string>& network_option_names() {
  static const std::set<std::string> names = {"network", "node", "api-key", "genesis"};
  return names;
}

std::optional<std::filesystem::path> devnet_genesis(const Args& args) {
  if (auto g = args.get("genesis")) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(*g, ec)) {
      throw UsageError("--genesis: no file " + *g);
    }
    return std::filesystem::path(*g);
  }
  // The current folder, then those above the executable (a build folder sits inside the
  // source tree).
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

namespace {

// The devnet's BTT comes from a genesis file; a broken one found by search is not the user's
// doing, so only a --genesis that cannot be read is an error.
tron::Network devnet_preset(const Args& args) {
  auto genesis = devnet_genesis(args);
  try {
    return tron::network_preset("devnet", genesis);
  } catch (const std::runtime_error& e) {
    if (args.has("genesis")) throw UsageError(std::string("--genesis: ") + e.what());
    return tron::network_preset("devnet");
  }
}

}  // namespace

std::optional<tron::Network> network_option(const Args& args) {
  auto name = args.get("network");
  if (!name) return std::nullopt;
  try {
    tron::Network n = tron::network_preset(*name);  // checks the name
    if (n.name == "devnet") return devnet_preset(args);
    return n;
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--network: ") + e.what());
  }
}

tron::FullNodeOptions node_option(const Args& args, const std::optional<tron::Network>& preset) {
  tron::FullNodeOptions o;
  if (auto url = args.get("node")) {
    o.url = *url;
  } else if (preset && !preset->node_url.empty()) {
    o.url = preset->node_url;
  } else if (preset) {
    throw UsageError("--network " + preset->name +
                     " has no default node: give --node URL (the devnet prints its URL)");
  } else {
    throw UsageError("--node URL or --network mainnet|nile|devnet is required");
  }
  if (auto key = args.get("api-key")) {
    o.api_key = *key;
  } else if (const char* env = std::getenv("BTTNODE_API_KEY")) {
    o.api_key = env;
  }
  return o;
}

tron::Network connect_network(tron::FullNodeClient& node,
                              const std::optional<tron::Network>& preset, const Args& args) {
  return choose_network(tron::node_chain_id(node), preset, args);
}

tron::Network choose_network(std::string_view id, const std::optional<tron::Network>& preset,
                             const Args& args) {
  if (preset) {
    tron::check_chain_id(*preset, id);
    return *preset;
  }
  tron::Network n = tron::network_for_chain(id);
  return n.name == "devnet" ? devnet_preset(args) : n;
}

tron::Network offline_network(const Args& args) {
  if (auto n = network_option(args)) return *n;
  return tron::network_preset("mainnet");
}

tron::Token parse_token_text(const std::string& option, const std::string& text,
                             const tron::Network& network) {
  try {
    return tron::resolve_token(text, network);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--" + option + ": " + e.what());
  }
}

tron::Token token_option(const Args& args, const tron::Network& network, const std::string& name) {
  return parse_token_text(name, args.require(name), network);
}

tron::U256 amount_option(const Args& args, const std::string& name, const tron::Token& token,
                         const tron::Network& network, const tron::DecimalsLookup& lookup) {
  try {
    return tron::parse_token_amount(args.require(name), token, network, lookup);
  } catch (const std::invalid_argument& e) {
    throw UsageError("--" + name + ": " + e.what());
  }
}

tron::DecimalsLookup node_decimals_lookup(const tron::FullNodeOptions& node) {
  auto client = std::make_shared<std::unique_ptr<tron::FullNodeClient>>();
  return [node, client](const tron::Token& token) -> unsigned {
    try {
      if (!*client) *client = std::make_unique<tron::FullNodeClient>(node);
      return tron::node_token_decimals(**client, token);
    } catch (const std::exception& e) {
      throw std::invalid_argument("the decimals of " + token.to_string() +
                                  " could not be read from the node: " + e.what());
    }
  };
}

tron::Address parse_address(const std::string& text, const std::string& option) {
  auto address = tron::Address::parse(text);
  if (!address) {
    throw UsageError("--" + option + " is not a TRON address (base58 T… or 41… hex): '" + text +
                     "'");
  }
  return *address;
}

}  // namespace bttnode
