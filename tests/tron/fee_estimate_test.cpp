// What a transfer costs: the pure arithmetic, then estimates checked against what the devnet
// (which charges as java-tron does) really burns for the same transfers.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "devnet_test_util.hpp"
#include "tron/amount.hpp"
#include "tron/devnet/server.hpp"
#include "tron/fee_estimate.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/network.hpp"

namespace tron {
namespace {

TransferFigures trx_figures(std::int64_t bytes, std::int64_t free_left) {
  TransferFigures f;
  f.kind = Token::Kind::Trx;
  f.tx_bytes = bytes;
  f.payer.free_net_limit = 600;
  f.payer.free_net_used = 600 - free_left;
  return f;
}

TEST(SettlementCost, FreeBandwidthCostsNothing) {
  SettlementCost c = settlement_cost(trx_figures(267, 600));
  EXPECT_EQ(c.bandwidth, 267);
  EXPECT_EQ(c.bandwidth_source, BandwidthSource::Free);
  EXPECT_EQ(c.sun, 0);
  EXPECT_EQ(c.text, "no TRX: 267 bytes of the free bandwidth (600 a day, 600 left)");
}

TEST(SettlementCost, BandwidthBeyondTheFreeIsBurnedWhole) {
  // 100 bytes left is not enough for 345: all 345 are paid, none of the free ones.
  SettlementCost c = settlement_cost(trx_figures(345, 100));
  EXPECT_EQ(c.bandwidth_source, BandwidthSource::Burned);
  EXPECT_EQ(c.bandwidth_sun, 345'000);
  EXPECT_EQ(c.sun, 345'000);
  EXPECT_EQ(c.text,
            "about 0.345 TRX: 345 bytes of bandwidth burned at 1,000 sun a byte, beyond the free "
            "600 a day (100 left)");
}

TEST(SettlementCost, StakedBandwidthComesFirst) {
  TransferFigures f = trx_figures(300, 600);
  f.payer.net_limit = 5000;
  f.payer.net_used = 4000;
  SettlementCost c = settlement_cost(f);
  EXPECT_EQ(c.bandwidth_source, BandwidthSource::Staked);
  EXPECT_EQ(c.sun, 0);
  EXPECT_NE(c.text.find("staked bandwidth (1,000 left)"), std::string::npos) << c.text;
  // Staked bandwidth too short falls to the free, then to burning.
  f.payer.net_used = 4900;
  EXPECT_EQ(settlement_cost(f).bandwidth_source, BandwidthSource::Free);
  f.payer.free_net_used = 500;
  c = settlement_cost(f);
  EXPECT_EQ(c.bandwidth_source, BandwidthSource::Burned);
  EXPECT_NE(c.text.find("the staked 100 left"), std::string::npos) << c.text;
}

TEST(SettlementCost, CreatingTheRecipientsAccount) {
  TransferFigures f = trx_figures(270, 600);
  f.creates_account = true;
  SettlementCost c = settlement_cost(f);
  // The free bandwidth does not pay for a transfer that creates an account.
  EXPECT_EQ(c.bandwidth_sun, 100'000);
  EXPECT_EQ(c.account_sun, 1'000'000);
  EXPECT_EQ(c.sun, 1'100'000);
  EXPECT_NE(c.text.find("about 1.1 TRX"), std::string::npos) << c.text;
  EXPECT_NE(c.text.find("create the recipient's account"), std::string::npos) << c.text;
  // Staked bandwidth (bytes x rate) saves the 0.1 TRX.
  f.payer.net_limit = 10'000;
  f.prices.create_account_bandwidth_rate = 2;
  c = settlement_cost(f);
  EXPECT_EQ(c.bandwidth_source, BandwidthSource::Staked);
  EXPECT_EQ(c.sun, 1'000'000);
  EXPECT_NE(c.text.find("540 bytes of staked bandwidth"), std::string::npos) << c.text;
}

TEST(SettlementCost, Trc20EnergyFromStakeThenBurned) {
  TransferFigures f;
  f.kind = Token::Kind::Trc20;
  f.tx_bytes = 345;
  f.payer.free_net_limit = 600;
  f.energy = 31'895;
  f.prices.energy_fee = 100;
  f.creates_account = true;  // no account is made by a TRC-20 transfer
  SettlementCost c = settlement_cost(f);
  EXPECT_EQ(c.account_sun, 0);
  EXPECT_EQ(c.energy, 31'895);
  EXPECT_EQ(c.energy_sun, 3'189'500);
  EXPECT_EQ(c.sun, 3'189'500);
  EXPECT_NE(c.text.find("31,895 energy burned at 100 sun each (3.1895 TRX)"), std::string::npos)
      << c.text;
  f.payer.energy_limit = 20'000;
  f.payer.energy_used = 5'000;
  c = settlement_cost(f);
  EXPECT_EQ(c.energy_staked, 15'000);
  EXPECT_EQ(c.energy_sun, 1'689'500);
  EXPECT_NE(c.text.find("15,000 of it from stake"), std::string::npos) << c.text;
  f.payer.energy_limit = 100'000;
  c = settlement_cost(f);
  EXPECT_EQ(c.sun, 0);
  EXPECT_NE(c.text.find("31,895 energy from stake"), std::string::npos) << c.text;
}

TEST(SettlementCost, HostileFiguresSaturate) {
  TransferFigures f = trx_figures(400, 0);
  f.prices.transaction_fee = std::numeric_limits<std::int64_t>::max() / 2;
  f.kind = Token::Kind::Trc20;
  f.energy = std::numeric_limits<std::int64_t>::max();
  f.prices.energy_fee = 1000;
  SettlementCost c = settlement_cost(f);
  EXPECT_EQ(c.sun, std::numeric_limits<std::int64_t>::max());
  // Used beyond the limit counts as nothing left, not as negative.
  f = trx_figures(300, 600);
  f.payer.free_net_used = 10'000;
  EXPECT_EQ(settlement_cost(f).bandwidth_source, BandwidthSource::Burned);
}

TEST(SettlementCost, BytesPerSettlementUnderAFeeCap) {
  // 0.35 TRX a settlement under a cap of 2.5 TRX per GiB: at least 0.14 GiB per settlement.
  auto bytes = min_bytes_per_settlement(350'000, 2'500'000);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, U256((350'000ull << 30) / 2'500'000 + 1));  // rounded up
  EXPECT_EQ(*min_bytes_per_settlement(1'000, 1'000), U256(1) << 30);
  EXPECT_EQ(*min_bytes_per_settlement(0, 0), 0);
  EXPECT_FALSE(min_bytes_per_settlement(1, 0));
  EXPECT_EQ(*min_bytes_per_settlement(std::numeric_limits<std::int64_t>::max(), 1),
            U256(std::numeric_limits<std::int64_t>::max()) << 30);
}

// ---- against the devnet

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class FeeDevnet : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ =
        std::make_shared<devnet::Service>(devnet::Chain(devnet::testing::test_genesis()), wall_ms);
    devnet::ServerOptions options;
    options.block_interval = std::chrono::hours(1);  // blocks when the test seals them
    server_ = std::make_unique<devnet::Server>(service_, options);
    server_->start();
    // A first block moves the head from the genesis time to now; bandwidth used at the
    // genesis time would have recovered by now.
    service_->seal();
    FullNodeOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<FullNodeClient>(o);
    network_ = network_preset("devnet", devnet::testing::kGenesisPath);
  }
  void TearDown() override { server_->stop(); }

  // Pays and returns the chain's record of it.
  TxInfo pay(const PrivateKey& key, const Token& token, const Address& to, const U256& amount) {
    Transaction tx = Transaction::transfer(token, key.address(), to, amount, client_->timing());
    tx.sign(key);
    BroadcastResult r = client_->broadcast_hex(tx.serialized());
    EXPECT_TRUE(r.ok) << r.code << ": " << r.message;
    service_->seal();
    auto info = client_->transaction_info_by_id(tx.txid());
    EXPECT_TRUE(info);
    return info ? *info : TxInfo{};
  }

  std::shared_ptr<devnet::Service> service_;
  std::unique_ptr<devnet::Server> server_;
  std::unique_ptr<FullNodeClient> client_;
  Network network_;
};

TEST_F(FeeDevnet, MeasuredBytesAreWhatTheChainCharges) {
  const PrivateKey alice = devnet::testing::key_of("alice");
  const Address bob = devnet::testing::key_of("bob").address();
  Token trx;
  std::int64_t bytes = transfer_bandwidth_bytes(trx, alice.address(), bob, 1'000'000);
  TxInfo info = pay(alice, trx, bob, 1'000'000);
  ASSERT_TRUE(info.raw.contains("receipt")) << info.raw.dump();
  EXPECT_EQ(info.raw["receipt"].value("net_usage", 0), bytes) << info.raw.dump();
}

TEST_F(FeeDevnet, TrxEstimatesMatchTheFeesBurned) {
  const PrivateKey alice = devnet::testing::key_of("alice");
  const Address bob = devnet::testing::key_of("bob").address();
  Token trx;
  // The free 600 bytes a day pay for two transfers; the third burns its bandwidth.
  for (int i = 0; i < 3; ++i) {
    SettlementCost c = estimate_transfer_cost(*client_, trx, alice.address(), bob, 1'000'000);
    TxInfo info = pay(alice, trx, bob, 1'000'000);
    EXPECT_EQ(c.sun, info.fee) << "transfer " << i << ": " << c.text;
    if (i < 2) {
      EXPECT_EQ(c.bandwidth_source, BandwidthSource::Free) << c.text;
    } else {
      EXPECT_EQ(c.bandwidth_source, BandwidthSource::Burned) << c.text;
      EXPECT_GT(c.sun, 0);
      EXPECT_NE(c.text.find("beyond the free 600 a day"), std::string::npos) << c.text;
    }
  }
}

TEST_F(FeeDevnet, Trc10ToANewAccountPaysForTheAccount) {
  const PrivateKey alice = devnet::testing::key_of("alice");
  const Address fresh = PrivateKey::generate().address();
  Token bttold = resolve_token("bttold", network_);
  SettlementCost c = estimate_transfer_cost(*client_, bttold, alice.address(), fresh, 5);
  EXPECT_EQ(c.account_sun, 1'000'000);
  TxInfo info = pay(alice, bttold, fresh, 5);
  EXPECT_EQ(c.sun, info.fee) << c.text;
  EXPECT_EQ(info.fee, 1'100'000);
  // Now the account exists: the next transfer rides on the free bandwidth.
  c = estimate_transfer_cost(*client_, bttold, alice.address(), fresh, 5);
  EXPECT_EQ(c.account_sun, 0);
  EXPECT_EQ(c.sun, pay(alice, bttold, fresh, 5).fee) << c.text;
}

TEST_F(FeeDevnet, Trc20EnergyMatchesTheReceipt) {
  const PrivateKey carol = devnet::testing::key_of("carol");
  const Address fresh = PrivateKey::generate().address();
  Token btt = resolve_token("btt", network_);
  const U256 amount = parse_token_amount("2.5btt", btt, network_);
  for (int i = 0; i < 2; ++i) {
    SettlementCost c = estimate_transfer_cost(*client_, btt, carol.address(), fresh, amount);
    EXPECT_GT(c.energy, 0);
    TxInfo info = pay(carol, btt, fresh, amount);
    ASSERT_TRUE(info.success) << info.raw.dump();
    EXPECT_EQ(info.raw["receipt"].value("energy_usage_total", 0), c.energy) << info.raw.dump();
    EXPECT_EQ(c.sun, info.fee) << c.text;
    EXPECT_EQ(c.energy_sun, c.energy * 100);
  }
}

TEST_F(FeeDevnet, Trc20TransferBeyondTheBalanceIsRefused) {
  const PrivateKey carol = devnet::testing::key_of("carol");
  Token btt = resolve_token("btt", network_);
  try {
    estimate_transfer_cost(*client_, btt, carol.address(), PrivateKey::generate().address(),
                           parse_token_amount("1000000000btt", btt, network_));
    FAIL() << "an impossible transfer got an estimate";
  } catch (const NodeError& e) {
    EXPECT_NE(std::string(e.what()).find("would fail"), std::string::npos) << e.what();
  }
}

TEST_F(FeeDevnet, ChainIdAndDecimalsFromTheNode) {
  std::string id = node_chain_id(*client_);
  EXPECT_EQ(id.size(), 64u);
  EXPECT_NO_THROW(check_chain_id(network_, id));
  EXPECT_THROW(check_chain_id(network_preset("mainnet"), id), NetworkMismatch);
  EXPECT_EQ(network_for_chain(id).name, "devnet");
  EXPECT_EQ(node_token_decimals(*client_, resolve_token("bttold", network_)), 6u);
  EXPECT_EQ(node_token_decimals(*client_, resolve_token("btt", network_)), 18u);
  EXPECT_THROW(node_token_decimals(*client_, Token::parse("trc10:1000001")), std::invalid_argument);
}

TEST_F(FeeDevnet, AccountResourcesOfAGenesisAccount) {
  const Address alice = devnet::testing::key_of("alice").address();
  AccountResources r = account_resources(*client_, alice);
  EXPECT_EQ(r.free_net_limit, 600);
  EXPECT_EQ(r.free_net_left(), 600);
  pay(devnet::testing::key_of("alice"), Token{}, devnet::testing::key_of("bob").address(), 1);
  r = account_resources(*client_, alice);
  EXPECT_GT(r.free_net_used, 200);
  EXPECT_EQ(r.free_net_left(), 600 - r.free_net_used);
  ResourcePrices p = resource_prices(*client_);
  EXPECT_EQ(p.transaction_fee, 1000);
  EXPECT_EQ(p.energy_fee, 100);
  EXPECT_EQ(p.create_account_fee, 100'000);
  EXPECT_EQ(p.create_account_system_fee, 1'000'000);
}

}  // namespace
}  // namespace tron
