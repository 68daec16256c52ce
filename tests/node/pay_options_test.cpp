// The btt_pay options of seed and download: networks, token names, amounts in whole tokens,
// fee caps; the parts that ask the node are run against an in-process devnet.
#include "node/pay/options.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "../tron/devnet_test_util.hpp"
#include "node/cli/network_options.hpp"
#include "tron/devnet/server.hpp"

namespace bttnode {
namespace {

using tron::U256;

// Args from words, as main() would get them after the command name.
struct Argv {
  explicit Argv(std::vector<std::string> words) : words_(std::move(words)) {
    ptrs_.push_back(const_cast<char*>("bttnode"));
    for (auto& w : words_) ptrs_.push_back(w.data());
  }
  Args args(const std::set<std::string>& flags = {}) {
    return Args::from_words(words_, flags);
  }
  std::vector<std::string> words_;
  std::vector<char*> ptrs_;
};

template <typename F>
std::string usage_error(F f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no usage error)";
}

BuyOptions buy(std::vector<std::string> words) {
  Argv a(std::move(words));
  return parse_buy_options(a.args());
}

TEST(PayOptions, BuyerTokensAndWholeTokenAmounts) {
  BuyOptions o = buy({"--token", "btt", "--max-price", "0.001btt", "--budget", "2.5btt"});
  EXPECT_EQ(o.settings.token.to_string(), "trc20:TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4");
  EXPECT_EQ(o.settings.max_price, U256("1000000000000000"));
  EXPECT_EQ(o.budget, U256("2500000000000000000"));
  EXPECT_FALSE(o.fee_cap_sun_per_gib);
  EXPECT_FALSE(o.stop_over_fee_cap);

  o = buy({"--token", "bttold", "--max-price", "1000"});
  EXPECT_EQ(o.settings.token.to_string(), "trc10:1002000");
  EXPECT_EQ(o.settings.max_price, 1000);
  o = buy({"--token", "trx", "--max-price", "0.001trx"});
  EXPECT_EQ(o.settings.max_price, 1000);
  o = buy({"--token", "trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "--max-price", "77"});
  EXPECT_EQ(o.settings.max_price, 77);
}

TEST(PayOptions, BadAmountsAreUsageErrors) {
  std::string e = usage_error([] { buy({"--token", "btt", "--max-price", "2.5"}); });
  EXPECT_NE(e.find("--max-price"), std::string::npos) << e;
  EXPECT_NE(e.find("must be whole"), std::string::npos) << e;
  e = usage_error([] { buy({"--token", "trx", "--max-price", "0.0000001trx"}); });
  EXPECT_NE(e.find("6 decimals"), std::string::npos) << e;
  e = usage_error([] { buy({"--token", "trx", "--max-price", "1btt"}); });
  EXPECT_NE(e.find("the token is TRX"), std::string::npos) << e;
  // Whole units of a token with no known decimals need the node, which is not given here.
  e = usage_error([] {
    buy({"--token", "trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "--max-price", "1token"});
  });
  EXPECT_NE(e.find("not known here"), std::string::npos) << e;
  e = usage_error([] { buy({"--network", "nile", "--token", "btt", "--max-price", "1"}); });
  EXPECT_NE(e.find("no BTT contract is known on Nile"), std::string::npos) << e;
  e = usage_error([] { buy({"--network", "moon", "--token", "btt", "--max-price", "1"}); });
  EXPECT_NE(e.find("--network"), std::string::npos) << e;
}

TEST(PayOptions, FeeCap) {
  BuyOptions o = buy({"--token", "btt", "--max-price", "1", "--fee-cap", "2.5"});
  EXPECT_EQ(o.fee_cap_sun_per_gib, 2'500'000);
  EXPECT_FALSE(o.stop_over_fee_cap);
  o = buy(
      {"--token", "btt", "--max-price", "1", "--fee-cap", "0.000001TRX", "--over-fee-cap", "stop"});
  EXPECT_EQ(o.fee_cap_sun_per_gib, 1);
  EXPECT_TRUE(o.stop_over_fee_cap);
  o = buy({"--token", "btt", "--max-price", "1", "--fee-cap", "3", "--over-fee-cap", "free"});
  EXPECT_EQ(o.fee_cap_sun_per_gib, 3'000'000);
  EXPECT_FALSE(o.stop_over_fee_cap);

  std::string e = usage_error([] {
    buy({"--token", "btt", "--max-price", "1", "--fee-cap", "0.0000001"});
  });
  EXPECT_NE(e.find("--fee-cap"), std::string::npos) << e;
  e = usage_error([] { buy({"--token", "btt", "--max-price", "1", "--fee-cap", "lots"}); });
  EXPECT_NE(e.find("--fee-cap"), std::string::npos) << e;
  e = usage_error([] {
    buy({"--token", "btt", "--max-price", "1", "--fee-cap", "1", "--over-fee-cap", "maybe"});
  });
  EXPECT_NE(e.find("free or stop"), std::string::npos) << e;
  e = usage_error([] { buy({"--token", "btt", "--max-price", "1", "--over-fee-cap", "stop"}); });
  EXPECT_NE(e.find("needs --fee-cap"), std::string::npos) << e;

  for (const char* name : {"fee-cap", "over-fee-cap", "network", "genesis", "max-price"}) {
    EXPECT_TRUE(buy_option_names().count(name)) << name;
  }
  EXPECT_TRUE(sell_option_names().count("network"));
  EXPECT_FALSE(sell_option_names().count("fee-cap"));
}

TEST(PayOptions, SellerAmounts) {
  Argv a({"--token", "bttold", "--price", "0.5bttold", "--min-settle", "2bttold"});
  pay::SellerSettings s = parse_sell_options(a.args());
  EXPECT_EQ(s.token.to_string(), "trc10:1002000");
  EXPECT_EQ(s.price, 500'000);
  EXPECT_EQ(s.min_settle, 2'000'000);
}

TEST(PayOptions, OptionsWithoutKeystoreAreRefused) {
  for (const char* name : {"network", "fee-cap", "over-fee-cap"}) {
    Argv a({std::string("--") + name, "x"});
    std::string e = usage_error([&] { parse_pay_wallet(a.args()); });
    EXPECT_NE(e.find("needs --keystore"), std::string::npos) << name << ": " << e;
  }
  Argv none({});
  EXPECT_FALSE(parse_pay_wallet(none.args()));
}

TEST(PayOptions, DevnetWithoutNodeIsAUsageError) {
  Argv a({"--keystore", "k.json", "--network", "devnet"});
  std::string e = usage_error([&] { parse_pay_wallet(a.args()); });
  EXPECT_NE(e.find("--node"), std::string::npos) << e;
}

// ---- against the devnet

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class PayOptionsDevnet : public ::testing::Test {
 protected:
  void SetUp() override {
    auto service = std::make_shared<tron::devnet::Service>(
        tron::devnet::Chain(tron::devnet::testing::test_genesis()), wall_ms);
    tron::devnet::ServerOptions options;
    options.block_interval = std::chrono::milliseconds(500);
    server_ = std::make_unique<tron::devnet::Server>(service, options);
    server_->start();
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override { server_->stop(); }

  PayWallet wallet(std::vector<std::string> extra) {
    std::vector<std::string> words = {
        "--keystore", "k.json", "--node", url_, "--genesis", tron::devnet::testing::kGenesisPath};
    words.insert(words.end(), extra.begin(), extra.end());
    Argv a(words);
    auto w = parse_pay_wallet(a.args());
    if (!w) throw std::runtime_error("no wallet");
    return *w;
  }

  std::unique_ptr<tron::devnet::Server> server_;
  std::string url_;
};

TEST_F(PayOptionsDevnet, NetworkIsCheckedAgainstTheNode) {
  PayWallet w = wallet({"--network", "devnet"});
  EXPECT_EQ(w.network.name, "devnet");
  EXPECT_EQ(w.chain_id.size(), 64u);
  EXPECT_EQ(w.ledger, "k.json.ledger.db");
  ASSERT_TRUE(w.network.btt);
  EXPECT_EQ(w.network.btt->to_base58(),
            tron::devnet_btt_contract(tron::devnet::testing::kGenesisPath).to_base58());

  // Without --network the node's chain names it.
  EXPECT_EQ(wallet({}).network.name, "devnet");

  try {
    wallet({"--network", "mainnet"});
    FAIL() << "a devnet node passed for mainnet";
  } catch (const tron::NetworkMismatch& e) {
    std::string what = e.what();
    EXPECT_NE(what.find(url_), std::string::npos) << what;
    EXPECT_NE(what.find(w.chain_id), std::string::npos) << what;
    EXPECT_NE(what.find(std::string(tron::kMainnetChainId)), std::string::npos) << what;
  }
}

TEST_F(PayOptionsDevnet, UnreachableNodeIsNamed) {
  // Port 1 on loopback: nothing listens there.
  const std::string nowhere = "http://127.0.0.1:1";
  Argv a({"--keystore", "k.json", "--node", nowhere});
  try {
    parse_pay_wallet(a.args());
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot read the chain id of the node " + nowhere),
              std::string::npos)
        << e.what();
  }
}

TEST_F(PayOptionsDevnet, WholeTokenAmountsOfUnnamedTokensUseTheNodesDecimals) {
  PayWallet w = wallet({"--network", "devnet"});
  const std::string contract = w.network.btt->to_base58();
  // Forget the names, so that the decimals must come from the node: decimals() of the
  // contract, precision of the TRC-10 asset.
  w.network.btt.reset();
  w.network.bttold_asset = "1000001";
  Argv a({"--token", "trc20:" + contract, "--max-price", "1.5token"});
  BuyOptions o = parse_buy_options(a.args(), &w);
  EXPECT_EQ(o.settings.max_price, U256("1500000000000000000"));
  Argv b({"--token", "trc10:1002000", "--price", "0.25token"});
  EXPECT_EQ(parse_sell_options(b.args(), &w).price, 250'000);
  Argv c({"--token", "trc10:1002000", "--price", "0.0000001token"});
  std::string e = usage_error([&] { parse_sell_options(c.args(), &w); });
  EXPECT_NE(e.find("6 decimals"), std::string::npos) << e;
  Argv d({"--token", "trc10:1000002", "--price", "1token"});
  e = usage_error([&] { parse_sell_options(d.args(), &w); });
  EXPECT_NE(e.find("knows no TRC-10 asset 1000002"), std::string::npos) << e;
}

TEST_F(PayOptionsDevnet, BttOnTheDevnetIsItsGenesisContract) {
  PayWallet w = wallet({"--network", "devnet"});
  Argv a({"--token", "btt", "--max-price", "0.01btt"});
  BuyOptions o = parse_buy_options(a.args(), &w);
  EXPECT_EQ(o.settings.token.contract, *w.network.btt);
  EXPECT_EQ(o.settings.max_price, U256("10000000000000000"));
}

}  // namespace
}  // namespace bttnode
