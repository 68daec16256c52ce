#pragma once
// The command-line options that pick a TRON network, its full node, tokens and amounts, shared
// by seed, download, wallet and earnings:
//
//   --network mainnet|nile|devnet   presets: node URL, chain id, the contracts of btt/bttold
//   --node URL                      overrides the preset's node
//   --api-key KEY                   TRON-PRO-API-KEY (else BTTNODE_API_KEY)
//   --genesis FILE                  the devnet genesis whose TRC-20 is btt (else
//                                   configs/devnet-genesis.json near the program)
//   --token btt|bttold|trx|trc10:ID|trc20:ADDR
//
// Without --network, the network is the one the node's chain id names (mainnet, Nile, else
// a devnet), or mainnet where no node is used.
#include <filesystem>
#include <optional>
#include <set>
#include <string>

#include "node/cli/args.hpp"
#include "tron/amount.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/network.hpp"

namespace bttnode {

const std::set<std::string>& network_option_names();  // network, node, api-key, genesis

// --genesis FILE, else configs/devnet-genesis.json in the current folder or above the program.
std::optional<std::filesystem::path> devnet_genesis(const Args& args);

// The preset --network names, nullopt without it. Throws UsageError.
std::optional<tron::Network> network_option(const Args& args);

// --node, else the preset's URL; --api-key or BTTNODE_API_KEY. Throws UsageError when there
// is no node.
tron::FullNodeOptions node_option(const Args& args, const std::optional<tron::Network>& preset);

// The network of a node whose chain id is `chain_id`: `preset` when it matches (else
// tron::NetworkMismatch naming both), or without a preset the one the chain id names.
tron::Network choose_network(std::string_view chain_id, const std::optional<tron::Network>& preset,
                             const Args& args);

// The network the node serves: `preset` when its chain id matches the node's (else
// tron::NetworkMismatch naming both), or without a preset the one the chain id names.
// Reads the node's block 0 (tron::NodeError when that fails).
tron::Network connect_network(tron::FullNodeClient& node,
                              const std::optional<tron::Network>& preset, const Args& args);

// The network for commands that use no node: --network, else mainnet.
tron::Network offline_network(const Args& args);

// --<name> as a token of the network. Throws UsageError.
tron::Token token_option(const Args& args, const tron::Network& network,
                         const std::string& name = "token");
tron::Token parse_token_text(const std::string& option, const std::string& text,
                             const tron::Network& network);

// --<name> as an amount of `token` (tron::parse_token_amount's forms). Throws UsageError.
tron::U256 amount_option(const Args& args, const std::string& name, const tron::Token& token,
                         const tron::Network& network, const tron::DecimalsLookup& lookup = {});

// A lookup of decimals through a node, for whole-token amounts of tokens without a name.
// The address given to --OPTION (base58 or 41... hex); a UsageError naming it otherwise.
tron::Address parse_address(const std::string& text, const std::string& option);

tron::DecimalsLookup node_decimals_lookup(const tron::FullNodeOptions& node);

}  // namespace bttnode
