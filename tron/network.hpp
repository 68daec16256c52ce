#pragma once
// The TRON networks bttnode knows by name (mainnet, Nile, a local devnet): the full node to use
// by default, the chain id that tells them apart, and the token contracts behind the names
// "btt" and "bttold".
//
// BTT was redenominated in 2022: BTT is now the TRC-20 contract
// TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4 (18 decimals); the TRC-10 asset 1002000 is the old
// token, BTTOLD (6 decimals).
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "tron/address.hpp"
#include "tron/token.hpp"

namespace tron {

class FullNodeClient;

// Hex of block 0's id, as /wallet/getblockbynum {"num": 0} answers it.
inline constexpr std::string_view kMainnetChainId =
    "00000000000000001ebf88508a03865c71d452e25f4d51194196a1d22b6653dc";
inline constexpr std::string_view kNileChainId =
    "0000000000000000d698d4192c56cb6be724a558448e2684802de4d6cd8690dc";
inline constexpr std::string_view kMainnetBtt = "TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4";
inline constexpr std::string_view kBttOldAssetId = "1002000";
inline constexpr unsigned kTrxDecimals = 6;
inline constexpr unsigned kBttDecimals = 18;
inline constexpr unsigned kBttOldDecimals = 6;

struct Network {
  std::string name;      // "mainnet", "nile" or "devnet"
  std::string node_url;  // the default full node; empty: none, --node is needed
  // Hex (lower case) of block 0's id. Empty for the devnet, whose id depends on its genesis:
  // any chain but mainnet and Nile is taken for it.
  std::string chain_id;
  std::optional<Address> btt;  // the TRC-20 BTT; none: not known on this network
  std::string bttold_asset = std::string(kBttOldAssetId);
  std::string btt_note;  // why btt is unknown, for the error message
};

// The names accepted by network_preset, for usage texts: "mainnet|nile|devnet".
const std::vector<std::string>& network_names();

// The preset of a name (case-insensitive). The devnet's BTT is read from `devnet_genesis`
// (trc20.contract_address) when one is given. Throws std::invalid_argument for an unknown
// name, std::runtime_error for a genesis file that cannot be read.
Network network_preset(std::string_view name,
                       const std::optional<std::filesystem::path>& devnet_genesis = std::nullopt);

// The network whose chain id this is: mainnet, Nile, else the devnet.
Network network_for_chain(
    std::string_view chain_id,
    const std::optional<std::filesystem::path>& devnet_genesis = std::nullopt);

// The TRC-20 contract of a devnet genesis file. Throws std::runtime_error naming the file.
Address devnet_btt_contract(const std::filesystem::path& genesis);

struct NetworkMismatch : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws NetworkMismatch, naming both chains, unless a node serving `chain_id` is on `network`.
void check_chain_id(const Network& network, std::string_view chain_id);

// Hex (lower case) of the id of the node's block 0. Throws NodeError.
std::string node_chain_id(FullNodeClient& node);

// What "trx", "btt", "bttold", "trc10:ID" or "trc20:ADDR" names on the network
// (case-insensitive). Throws std::invalid_argument with the accepted forms, or saying that
// the network has no known BTT contract.
Token resolve_token(std::string_view text, const Network& network);

// "TRX", "BTT" or "BTTOLD" for the tokens the network has names for; nullopt for others.
std::optional<std::string> token_symbol(const Token& token, const Network& network);

}  // namespace tron
