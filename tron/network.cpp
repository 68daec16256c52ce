#include "tron/network.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "tron/fullnode_client.hpp"

namespace tron {

namespace {

// A genesis file is a few KiB; anything far larger is not one.
constexpr std::uintmax_t kMaxGenesisBytes = 4 * 1024 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Network mainnet() {
  Network n;
  n.name = "mainnet";
  n.node_url = "https://api.trongrid.io";
  n.chain_id = std::string(kMainnetChainId);
  n.btt = Address::from_string(kMainnetBtt);
  return n;
}

Network nile() {
  Network n;
  n.name = "nile";
  n.node_url = "https://nile.trongrid.io";
  n.chain_id = std::string(kNileChainId);
  n.btt_note = "no BTT contract is known on Nile; name the token as trc20:CONTRACT";
  return n;
}

Network devnet(const std::optional<std::filesystem::path>& genesis) {
  Network n;
  n.name = "devnet";
  if (genesis) {
    n.btt = devnet_btt_contract(*genesis);
  } else {
    n.btt_note =
        "the devnet's BTT contract is read from its genesis file, and none was found "
        "(configs/devnet-genesis.json, or --genesis FILE); name the token as trc20:CONTRACT";
  }
  return n;
}

std::string describe(std::string_view chain_id) {
  std::string text(chain_id);
  if (chain_id == kMainnetChainId) return text + " (mainnet)";
  if (chain_id == kNileChainId) return text + " (nile)";
  return text;
}

}  // namespace

const std::vector<std::string>& network_names() {
  static const std::vector<std::string> names = {"mainnet", "nile", "devnet"};
  return names;
}

Network network_preset(std::string_view name,
                       const std::optional<std::filesystem::path>& devnet_genesis) {
  const std::string n = lower(name);
  if (n == "mainnet") return mainnet();
  if (n == "nile") return nile();
  if (n == "devnet") return devnet(devnet_genesis);
  throw std::invalid_argument("unknown network '" + std::string(name) +
                              "' (expected mainnet, nile or devnet)");
}

Network network_for_chain(std::string_view chain_id,
                          const std::optional<std::filesystem::path>& devnet_genesis) {
  const std::string id = lower(chain_id);
  if (id == kMainnetChainId) return mainnet();
  if (id == kNileChainId) return nile();
  return devnet(devnet_genesis);
}

Address devnet_btt_contract(const std::filesystem::path& genesis) {
  const std::string where = "genesis file " + genesis.string();
  std::error_code ec;
  auto size = std::filesystem::file_size(genesis, ec);
  if (ec) throw std::runtime_error(where + ": " + ec.message());
  if (size > kMaxGenesisBytes) throw std::runtime_error(where + ": larger than 4 MiB");
  std::ifstream in(genesis, std::ios::binary);
  if (!in) throw std::runtime_error(where + ": cannot be opened");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw std::runtime_error(where + ": not JSON");
  auto t = doc.find("trc20");
  if (t == doc.end() || !t->is_object() || !t->contains("contract_address") ||
      !(*t)["contract_address"].is_string()) {
    throw std::runtime_error(where + ": no trc20.contract_address");
  }
  const std::string contract = (*t)["contract_address"].get<std::string>();
  auto address = Address::parse(contract);
  if (!address) {
    throw std::runtime_error(where + ": trc20.contract_address '" + contract +
                             "' is not a TRON address");
  }
  return *address;
}

void check_chain_id(const Network& network, std::string_view chain_id) {
  const std::string id = lower(chain_id);
  if (!network.chain_id.empty()) {
    if (id == network.chain_id) return;
    throw NetworkMismatch("the node serves chain " + describe(id) + ", not " + network.name + " (" +
                          network.chain_id +
                          "): pick the node of that network, or "
                          "--network for the node's chain");
  }
  // The devnet: any chain but the public ones, so that a devnet setting never pays for real.
  if (id == kMainnetChainId || id == kNileChainId) {
    throw NetworkMismatch("the node serves chain " + describe(id) + ", not a devnet: use " +
                          "--network " + (id == kMainnetChainId ? "mainnet" : "nile") + " for it");
  }
}

std::string node_chain_id(FullNodeClient& node) {
  nlohmann::json block = node.block_by_number(0);
  if (block.empty()) throw NodeError("INVALID_ANSWER", "the node has no block 0");
  // block_by_number checked that blockID is 32 bytes of hex starting with the number 0.
  return lower(block.at("blockID").get<std::string>());
}

Token resolve_token(std::string_view text, const Network& network) {
  const std::string name = lower(text);
  if (name == "btt") {
    if (!network.btt) {
      throw std::invalid_argument("bad token 'btt' on " + network.name + ": " + network.btt_note);
    }
    Token t;
    t.kind = Token::Kind::Trc20;
    t.contract = *network.btt;
    return t;
  }
  if (name == "bttold") return Token::parse("trc10:" + network.bttold_asset);
  try {
    return Token::parse(text);
  } catch (const std::invalid_argument& e) {
    // Name the aliases too; Token::parse knows only the spelled-out forms.
    throw std::invalid_argument(std::string(e.what()) + "; or btt (TRC-20 BTT) or bttold (TRC-10 " +
                                network.bttold_asset + ")");
  }
}

std::optional<std::string> token_symbol(const Token& token, const Network& network) {
  switch (token.kind) {
    case Token::Kind::Trx:
      return "TRX";
    case Token::Kind::Trc10:
      if (token.asset_id == network.bttold_asset) return "BTTOLD";
      return std::nullopt;
    case Token::Kind::Trc20:
      if (network.btt && token.contract == *network.btt) return "BTT";
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tron
