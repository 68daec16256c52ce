// The devnet in its mainnet profile: mainnet's chain parameters, the fees java-tron charges
// for bandwidth and energy as the API reports them, and a solidified block 19 behind the head.
#include <gtest/gtest.h>

#include <fstream>

#include "devnet_test_util.hpp"
#include "tron/devnet/json_codec.hpp"
#include "tron/devnet/profile.hpp"
#include "tron/devnet/resource.hpp"
#include "tron/devnet/service.hpp"

namespace tron::devnet {
namespace {

using namespace testing;
using nlohmann::json;

constexpr std::int64_t kT0 = 1'800'000'000'000;

Chain mainnet_chain() {
  Profile profile = profile_named("mainnet");
  Genesis g = test_genesis();
  g.params = *profile.params;
  Chain chain(std::move(g));
  chain.set_solid_lag(profile.solid_lag);
  return chain;
}

struct DevnetMainnet : ::testing::Test {
  std::int64_t now = kT0;
  Service service{mainnet_chain(), [this] { return now; }};
  // As `bttnode devnet` does, serve from block 1: block 0 carries the genesis time, and
  // usage charged at that time would look a day old one block later.
  DevnetMainnet() { seal(); }

  json post(const std::string& path, const json& body) {
    ApiReply r = service.handle("POST", path, body.dump());
    EXPECT_EQ(r.status, 200) << path << " " << body << " -> " << r.body;
    return json::parse(r.body);
  }
  void seal(int blocks = 1) {
    for (int i = 0; i < blocks; ++i) {
      now += 3000;
      service.seal();
    }
  }
  // Signs a transaction the node built (createtransaction / transferasset).
  static protocol::Transaction signed_tx(const json& created, const PrivateKey& key) {
    protocol::Transaction tx = tx_from_json(created, true);
    sign(tx, key);
    return tx;
  }
  std::string send(const json& created, const PrivateKey& key) {
    return broadcast(signed_tx(created, key));
  }
  std::string broadcast(const protocol::Transaction& tx) {
    json body = tx_to_json(tx, true);
    body["visible"] = true;
    json r = post("/wallet/broadcasttransaction", body);
    EXPECT_EQ(r.value("result", false), true) << r;
    return r.value("txid", std::string());
  }
  std::int64_t balance(const std::string& address, bool solid = false) {
    json a = post(solid ? "/walletsolidity/getaccount" : "/wallet/getaccount",
                  {{"address", address}, {"visible", true}});
    return a.value("balance", std::int64_t{0});
  }
};

const std::string kAlice = "TYjaKKV4asba9j5JwoEKe4ZdZWieGrQLs8";
const std::string kBob = "TXFotncHrYd2AcxaWvTHCHZa6A5iBKUxPZ";

TEST(DevnetProfile, MainnetIsMainnetsParametersAndTiming) {
  Profile p = profile_named("mainnet");
  EXPECT_EQ(p.block_ms, 3000);
  EXPECT_EQ(p.solid_lag, 19);
  ASSERT_TRUE(p.params);
  EXPECT_EQ(p.params->transaction_fee, 1000);
  EXPECT_EQ(p.params->energy_fee, 100);
  EXPECT_EQ(p.params->free_net_limit, 600);
  EXPECT_EQ(p.params->create_account_fee, 100'000);
  EXPECT_EQ(p.params->create_new_account_fee_in_system_contract, 1'000'000);
  EXPECT_EQ(p.params->max_fee_limit, 15'000'000'000);
  Profile d = profile_named("devnet");
  EXPECT_EQ(d.solid_lag, 0);
  EXPECT_FALSE(d.params);
  EXPECT_THROW(profile_named("nile"), std::invalid_argument);
}

TEST_F(DevnetMainnet, ChainParametersAsJavaTronListsThem) {
  json list = post("/wallet/getchainparameters", json::object())["chainParameter"];
  std::map<std::string, std::int64_t> values;
  for (const auto& e : list) values[e["key"]] = e.value("value", std::int64_t{0});
  EXPECT_EQ(values["getTransactionFee"], 1000);
  EXPECT_EQ(values["getEnergyFee"], 100);
  EXPECT_EQ(values["getFreeNetLimit"], 600);
  EXPECT_EQ(values["getCreateAccountFee"], 100'000);
  EXPECT_EQ(values["getCreateNewAccountFeeInSystemContract"], 1'000'000);
  EXPECT_EQ(values["getMaxFeeLimit"], 15'000'000'000);
}

// Free bandwidth first (600 bytes a day); past it the whole transaction is paid at 1000 sun a
// byte, and the info and the account resource say so.
TEST_F(DevnetMainnet, Trc10PastTheFreeBandwidthBurnsSizeTimes1000) {
  const std::int64_t start = balance(kBob);
  std::int64_t free_used = 0, burnt = 0;
  for (int i = 1; i <= 4; ++i) {
    json built = post("/wallet/transferasset", {{"owner_address", kBob},
                                                {"to_address", kAlice},
                                                {"asset_name", "1002000"},
                                                {"amount", i},
                                                {"visible", true}});
    protocol::Transaction tx = signed_tx(built, key_of("bob"));
    const std::int64_t bytes = bandwidth_bytes(tx);
    const std::string txid = broadcast(tx);
    seal();
    json info = post("/wallet/gettransactioninfobyid", {{"value", txid}});
    json res = post("/wallet/getaccountresource", {{"address", kBob}, {"visible", true}});
    EXPECT_EQ(res["freeNetLimit"], 600);
    if (free_used + bytes <= 600) {
      free_used += bytes;
      EXPECT_EQ(info["receipt"]["net_usage"], bytes) << info;
      EXPECT_FALSE(info.contains("fee")) << info;
      EXPECT_FALSE(info["receipt"].contains("net_fee")) << info;
    } else {
      EXPECT_EQ(info["fee"], bytes * 1000) << info;
      EXPECT_EQ(info["receipt"]["net_fee"], bytes * 1000) << info;
      EXPECT_FALSE(info["receipt"].contains("net_usage")) << info;
      burnt += bytes * 1000;
      EXPECT_EQ(balance(kBob), start - burnt);
    }
    // Usage decays over 24 h; three seconds take off less than a byte here.
    EXPECT_NEAR(res.value("freeNetUsed", std::int64_t{0}), free_used, 1) << res;
    EXPECT_EQ(res["TotalNetLimit"], 43'200'000'000);
    if (i == 1) {
      // The slot of the last free use, as a time: genesis + slot * 3 s (the head's, here).
      json account = post("/wallet/getaccount", {{"address", kBob}, {"visible", true}});
      EXPECT_EQ(account["latest_consume_free_time"], now - 3000) << account;
    }
  }
  EXPECT_GT(burnt, 0);  // 4 transfers of ~280 bytes pass the 600 free bytes
  EXPECT_EQ(balance(kBob), start - burnt);
}

// With no energy staked, a TRC-20 transfer burns all its energy at getEnergyFee, and the
// estimates say the same energy beforehand.
TEST_F(DevnetMainnet, Trc20WithoutStakedEnergyBurnsEnergyTimesEnergyFee) {
  const std::string contract = "TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4";
  json call = {
      {"owner_address", kBob},
      {"contract_address", contract},
      {"function_selector", "transfer(address,uint256)"},
      {"parameter", to_hex(abi_word(U256(0))).substr(0, 24) +
                        to_hex(Address::from_string(kAlice).evm()) + to_hex(abi_word(U256(5)))},
      {"fee_limit", 100'000'000},
      {"visible", true}};
  json estimate = post("/wallet/estimateenergy", call);
  EXPECT_EQ(estimate["energy_required"], kTransferEnergy) << estimate;
  json constant = post("/wallet/triggerconstantcontract", call);
  EXPECT_EQ(constant["energy_used"], kTransferEnergy) << constant;
  json built = post("/wallet/triggersmartcontract", call);
  ASSERT_TRUE(built["result"].value("result", false)) << built;
  const std::int64_t start = balance(kBob);
  const std::string txid = send(built["transaction"], key_of("bob"));
  seal();
  json info = post("/wallet/gettransactioninfobyid", {{"value", txid}});
  const json& receipt = info["receipt"];
  EXPECT_EQ(receipt["energy_usage_total"], kTransferEnergy) << info;
  EXPECT_EQ(receipt["energy_fee"], kTransferEnergy * 100) << info;
  EXPECT_FALSE(receipt.contains("energy_usage")) << info;  // none from a stake
  EXPECT_EQ(receipt["result"], "SUCCESS");
  // Bandwidth from the free allowance: net_usage, no net_fee; the fee is the energy burnt.
  EXPECT_GT(receipt.value("net_usage", 0), 300);
  EXPECT_FALSE(receipt.contains("net_fee"));
  EXPECT_EQ(info["fee"], kTransferEnergy * 100);
  EXPECT_EQ(balance(kBob), start - kTransferEnergy * 100);
}

TEST_F(DevnetMainnet, SolidifiedBlockTrailsTheHeadBy19) {
  seal(24);
  json head = post("/wallet/getnowblock", json::object());
  json solid = post("/walletsolidity/getnowblock", json::object());
  const std::int64_t head_n = head["block_header"]["raw_data"]["number"];
  EXPECT_EQ(head_n, 25);
  EXPECT_EQ(solid["block_header"]["raw_data"]["number"], head_n - 19);
  EXPECT_TRUE(post("/walletsolidity/getblockbynum", {{"num", head_n}}).empty());
  EXPECT_FALSE(post("/walletsolidity/getblockbynum", {{"num", head_n - 19}}).empty());
  json info = post("/wallet/getnodeinfo", json::object());
  EXPECT_TRUE(info["solidityBlock"].get<std::string>().starts_with("Num:6,")) << info;

  const std::int64_t bob_before = balance(kBob);
  json built =
      post("/wallet/createtransaction",
           {{"owner_address", kAlice}, {"to_address", kBob}, {"amount", 7}, {"visible", true}});
  const std::string txid = send(built, key_of("alice"));
  seal();
  EXPECT_FALSE(post("/wallet/gettransactionbyid", {{"value", txid}}).empty());
  EXPECT_FALSE(post("/wallet/gettransactioninfobyid", {{"value", txid}}).empty());
  EXPECT_EQ(balance(kBob), bob_before + 7);
  for (int i = 0; i < 18; ++i) {
    EXPECT_TRUE(post("/walletsolidity/gettransactionbyid", {{"value", txid}}).empty()) << i;
    EXPECT_TRUE(post("/walletsolidity/gettransactioninfobyid", {{"value", txid}}).empty()) << i;
    EXPECT_EQ(balance(kBob, true), bob_before) << i;
    seal();
  }
  // 19 blocks on top of the transaction's block: solid now.
  seal();
  EXPECT_FALSE(post("/walletsolidity/gettransactionbyid", {{"value", txid}}).empty());
  json solid_info = post("/walletsolidity/gettransactioninfobyid", {{"value", txid}});
  EXPECT_EQ(solid_info["id"], txid);
  EXPECT_EQ(balance(kBob, true), bob_before + 7);
}

TEST(DevnetSolid, ConstantCallsUnderWalletsolidityReadTheSolidState) {
  Chain chain(test_genesis());
  chain.set_solid_lag(2);
  auto alice = key_of("alice");
  const Address dave = key_of("dave").address();
  const U256 before = chain.state().token.balance_of(dave);
  ASSERT_TRUE(chain.broadcast(trc20_transfer(chain, alice, dave, 5)).ok());
  chain.seal(kT0 + 1);
  Bytes balance_of = {0x70, 0xa0, 0x82, 0x31};
  Bytes word(12, 0);
  word.insert(word.end(), dave.evm().begin(), dave.evm().end());
  balance_of.insert(balance_of.end(), word.begin(), word.end());
  const Address token = chain.state().token.contract;
  auto read = [&](bool solid) {
    CallOutcome c = chain.constant_call(dave, token, balance_of, 0, solid);
    return U256("0x" + to_hex(c.output));
  };
  EXPECT_EQ(read(false), before + 5);
  EXPECT_EQ(read(true), before);
  chain.seal(kT0 + 2);
  EXPECT_EQ(read(true), before);
  chain.seal(kT0 + 3);
  EXPECT_EQ(chain.solid_number(), chain.head_number() - 2);
  EXPECT_EQ(read(true), before + 5);
}

// An account with TRX staked (a genesis field) pays bandwidth and energy from its stake: its
// share of the daily totals by weight, reported by getaccountresource and in the receipt.
TEST(DevnetStake, StakedBandwidthAndEnergyPayBeforeTRXIsBurnt) {
  std::ifstream in(kGenesisPath);
  json g = json::parse(in);
  PrivateKey erin = PrivateKey::generate();
  const std::string who = erin.address().to_base58();
  g["accounts"].push_back({{"name", "erin"},
                           {"address", who},
                           {"trx", 1'000'000'000},
                           {"staked_for_bandwidth", 1'000'000'000},
                           {"staked_for_energy", 4'000'000'000},
                           {"trc20", "1000000"}});
  Genesis genesis = Genesis::from_json(g);
  genesis.params = mainnet_params();
  std::int64_t now = kT0;
  Service service(Chain(std::move(genesis)), [&] { return now; });
  service.seal();
  auto post = [&](const std::string& path, const json& body) {
    return json::parse(service.handle("POST", path, body.dump()).body);
  };
  auto send = [&](const json& created) {
    protocol::Transaction tx = tx_from_json(created, true);
    sign(tx, erin);
    json body = tx_to_json(tx, true);
    body["visible"] = true;
    json r = post("/wallet/broadcasttransaction", body);
    EXPECT_EQ(r.value("result", false), true) << r;
    now += 3000;
    service.seal();
    return std::make_pair(post("/wallet/gettransactioninfobyid", {{"value", r["txid"]}}),
                          bandwidth_bytes(tx));
  };
  json res = post("/wallet/getaccountresource", {{"address", who}, {"visible", true}});
  // The only staker: weight 1000 TRX of bandwidth, 4000 of energy, all of both totals.
  EXPECT_EQ(res["TotalNetWeight"], 1000);
  EXPECT_EQ(res["TotalEnergyWeight"], 4000);
  EXPECT_EQ(res["NetLimit"], 43'200'000'000);
  EXPECT_EQ(res["EnergyLimit"], 180'000'000'000);
  EXPECT_FALSE(res.contains("NetUsed"));
  json account = post("/wallet/getaccount", {{"address", who}, {"visible", true}});
  EXPECT_EQ(account["frozenV2"][1]["type"], "ENERGY");
  EXPECT_EQ(account["frozenV2"][1]["amount"], 4'000'000'000);
  EXPECT_EQ(account["balance"], 1'000'000'000);

  // A TRX transfer: bandwidth from the stake (not the free allowance), nothing burnt.
  auto [trx_info, trx_bytes] =
      send(post("/wallet/createtransaction",
                {{"owner_address", who}, {"to_address", kBob}, {"amount", 1}, {"visible", true}}));
  EXPECT_EQ(trx_info["receipt"]["net_usage"], trx_bytes) << trx_info;
  EXPECT_FALSE(trx_info.contains("fee")) << trx_info;
  res = post("/wallet/getaccountresource", {{"address", who}, {"visible", true}});
  EXPECT_NEAR(res.value("NetUsed", std::int64_t{0}), trx_bytes, 1) << res;
  EXPECT_FALSE(res.contains("freeNetUsed")) << res;

  // A TRC-20 transfer: energy from the stake, so energy_usage = total and no energy_fee.
  json call = {{"owner_address", who},
               {"contract_address", "TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4"},
               {"function_selector", "transfer(address,uint256)"},
               {"parameter", std::string(24, '0') + to_hex(Address::from_string(kBob).evm()) +
                                 to_hex(abi_word(U256(5)))},
               {"fee_limit", 100'000'000},
               {"visible", true}};
  auto [info, bytes] = send(post("/wallet/triggersmartcontract", call)["transaction"]);
  EXPECT_EQ(info["receipt"]["energy_usage"], kTransferEnergy) << info;
  EXPECT_EQ(info["receipt"]["energy_usage_total"], kTransferEnergy) << info;
  EXPECT_FALSE(info["receipt"].contains("energy_fee")) << info;
  EXPECT_FALSE(info.contains("fee")) << info;
  res = post("/wallet/getaccountresource", {{"address", who}, {"visible", true}});
  EXPECT_NEAR(res.value("EnergyUsed", std::int64_t{0}), kTransferEnergy, 1) << res;
  EXPECT_EQ(post("/wallet/getaccount", {{"address", who}, {"visible", true}})["balance"],
            1'000'000'000 - 1);
}

}  // namespace
}  // namespace tron::devnet
