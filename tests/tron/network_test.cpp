// Network presets, chain id checks and the token names they resolve.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tron/network.hpp"

namespace tron {
namespace {

const std::string kGenesis = std::string(BTTNODE_SOURCE_DIR) + "/configs/devnet-genesis.json";

std::string genesis_contract() {
  std::ifstream in(kGenesis);
  return nlohmann::json::parse(in)["trc20"]["contract_address"].get<std::string>();
}

TEST(Network, MainnetPreset) {
  Network n = network_preset("mainnet");
  EXPECT_EQ(n.name, "mainnet");
  EXPECT_EQ(n.node_url, "https://api.trongrid.io");
  EXPECT_EQ(n.chain_id, "00000000000000001ebf88508a03865c71d452e25f4d51194196a1d22b6653dc");
  ASSERT_TRUE(n.btt);
  EXPECT_EQ(n.btt->to_base58(), "TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4");
  EXPECT_EQ(n.bttold_asset, "1002000");
  EXPECT_EQ(network_preset("MainNet").name, "mainnet");
}

TEST(Network, NilePresetHasNoBtt) {
  Network n = network_preset("nile");
  EXPECT_EQ(n.node_url, "https://nile.trongrid.io");
  EXPECT_EQ(n.chain_id, "0000000000000000d698d4192c56cb6be724a558448e2684802de4d6cd8690dc");
  EXPECT_FALSE(n.btt);
  try {
    resolve_token("btt", n);
    FAIL() << "btt resolved on Nile";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("trc20:CONTRACT"), std::string::npos) << e.what();
  }
  // The old TRC-10 asset exists everywhere under the same id.
  EXPECT_EQ(resolve_token("bttold", n).to_string(), "trc10:1002000");
}

TEST(Network, DevnetReadsBttFromGenesis) {
  Network n = network_preset("devnet", kGenesis);
  EXPECT_TRUE(n.node_url.empty());
  EXPECT_TRUE(n.chain_id.empty());
  ASSERT_TRUE(n.btt);
  EXPECT_EQ(n.btt->to_base58(), genesis_contract());
  EXPECT_EQ(resolve_token("BTT", n).to_string(), "trc20:" + genesis_contract());

  Network bare = network_preset("devnet");
  EXPECT_FALSE(bare.btt);
  EXPECT_THROW(resolve_token("btt", bare), std::invalid_argument);
}

TEST(Network, BadGenesisFilesAreNamed) {
  auto dir = std::filesystem::temp_directory_path() / "bttnode-network-test";
  std::filesystem::create_directories(dir);
  auto file = dir / "g.json";
  std::ofstream(file) << R"({"trc20": {"contract_address": "not an address"}})";
  try {
    devnet_btt_contract(file);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("g.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not a TRON address"), std::string::npos) << e.what();
  }
  std::ofstream(file) << "{";
  EXPECT_THROW(devnet_btt_contract(file), std::runtime_error);
  EXPECT_THROW(devnet_btt_contract(dir / "missing.json"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST(Network, UnknownNameIsRefused) {
  try {
    network_preset("shasta");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mainnet, nile or devnet"), std::string::npos);
  }
}

TEST(Network, ChainIdCheckNamesBothChains) {
  Network mainnet = network_preset("mainnet");
  EXPECT_NO_THROW(check_chain_id(mainnet, kMainnetChainId));
  // Case does not matter.
  EXPECT_NO_THROW(
      check_chain_id(mainnet, "00000000000000001EBF88508A03865C71D452E25F4D51194196A1D22B6653DC"));
  try {
    check_chain_id(mainnet, kNileChainId);
    FAIL();
  } catch (const NetworkMismatch& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(std::string(kNileChainId) + " (nile)"), std::string::npos) << what;
    EXPECT_NE(what.find(std::string(kMainnetChainId)), std::string::npos) << what;
    EXPECT_NE(what.find("mainnet"), std::string::npos) << what;
  }
  // A devnet is any chain but the public ones.
  Network devnet = network_preset("devnet");
  EXPECT_NO_THROW(check_chain_id(devnet, std::string(64, 'a')));
  EXPECT_THROW(check_chain_id(devnet, kMainnetChainId), NetworkMismatch);
  EXPECT_THROW(check_chain_id(devnet, kNileChainId), NetworkMismatch);
  EXPECT_THROW(check_chain_id(mainnet, std::string(64, 'a')), NetworkMismatch);
}

TEST(Network, ChainIdNamesTheNetwork) {
  EXPECT_EQ(network_for_chain(kMainnetChainId).name, "mainnet");
  EXPECT_EQ(network_for_chain(kNileChainId).name, "nile");
  EXPECT_EQ(network_for_chain(std::string(64, '0'), kGenesis).name, "devnet");
  EXPECT_TRUE(network_for_chain(std::string(64, '0'), kGenesis).btt);
}

TEST(Network, TokensResolveAndHaveSymbols) {
  Network n = network_preset("mainnet");
  Token btt = resolve_token("btt", n);
  EXPECT_EQ(btt.kind, Token::Kind::Trc20);
  EXPECT_EQ(btt.to_string(), "trc20:TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4");
  EXPECT_EQ(token_symbol(btt, n), "BTT");
  Token old = resolve_token("BttOld", n);
  EXPECT_EQ(old.to_string(), "trc10:1002000");
  EXPECT_EQ(token_symbol(old, n), "BTTOLD");
  EXPECT_EQ(resolve_token("trx", n).kind, Token::Kind::Trx);
  EXPECT_EQ(token_symbol(resolve_token("trx", n), n), "TRX");
  EXPECT_EQ(resolve_token("trc10:1000001", n).asset_id, "1000001");
  EXPECT_FALSE(token_symbol(resolve_token("trc10:1000001", n), n));
  Token other = resolve_token("trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", n);
  EXPECT_FALSE(token_symbol(other, n));
  try {
    resolve_token("bitcoin", n);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("bttold"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tron
