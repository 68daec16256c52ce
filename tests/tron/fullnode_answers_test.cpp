// The full-node client reads java-tron's answer shapes, and a node that lies or answers
// nonsense gets a clear NodeError, never a crash or a wrong value.
#include <gtest/gtest.h>

#include <mutex>

#include "tests/tron/fullnode_test_server.hpp"
#include "tests/tron/fullnode_test_util.hpp"
#include "tron/fullnode_client.hpp"

namespace tron {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::Reply;
using testing::SeenRequest;
using testing::TestHttpServer;

const Address kAlice = Address::from_string("41a614f803b6fd780986a42c78ec9c7f77e6ded13c");
const Address kBob = Address::from_string("41b9f9a4f4f5bd0a1dc2f7ab3c1c2f7e1d8f3a4b5c");
const Address kToken = Address::from_string("41" + std::string(40, 'e'));

// Serves a fixed answer body per path, and records requests.
class ScriptedNode {
 public:
  ScriptedNode()
      : server_([this](const SeenRequest& req) {
          std::lock_guard lock(mutex_);
          Reply r;
          auto it = answers_.find(req.target);
          r.body = it == answers_.end() ? "{}" : it->second;
          return r;
        }) {}

  void answer(const std::string& path, const std::string& body) {
    std::lock_guard lock(mutex_);
    answers_[path] = body;
  }
  void answer(const std::string& path, const json& body) { answer(path, body.dump()); }

  FullNodeClient client() {
    FullNodeOptions o;
    o.url = server_.url();
    o.timeout = 5s;
    o.retries = 0;
    return FullNodeClient(o);
  }
  json last_body() const { return json::parse(server_.requests().back().body); }
  std::size_t request_count() const { return server_.requests().size(); }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> answers_;
  TestHttpServer server_;
};

#define EXPECT_INVALID_ANSWER(statement, words)                                         \
  do {                                                                                  \
    try {                                                                               \
      statement;                                                                        \
      ADD_FAILURE() << "no NodeError from " #statement;                                 \
    } catch (const NodeError& e) {                                                      \
      EXPECT_EQ(e.code, "INVALID_ANSWER") << e.what();                                  \
      EXPECT_FALSE(e.transport);                                                        \
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();      \
    }                                                                                   \
  } while (0)

TEST(FullNodeAnswers, NowBlockAndTiming) {
  ScriptedNode node;
  node.answer("/wallet/getnowblock", testing::block_answer(0x1234abcd, 1'700'000'000'000));
  FullNodeClient client = node.client();
  BlockRef block = client.now_block();
  EXPECT_EQ(block.number, 0x1234abcd);
  EXPECT_EQ(block.timestamp, 1'700'000'000'000);
  EXPECT_EQ(to_hex(block.id), testing::block_id_hex(0x1234abcd));

  TxTiming timing = client.timing(std::chrono::seconds(90));
  EXPECT_EQ(to_hex(timing.ref_block_bytes), "abcd");
  EXPECT_EQ(to_hex(timing.ref_block_hash), "abababababababab");
  EXPECT_EQ(timing.expiration, 1'700'000'000'000 + 90'000);
  EXPECT_GE(timing.timestamp, 1'700'000'000'000);
}

TEST(FullNodeAnswers, LyingBlockAnswers) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  json block = testing::block_answer(5, 1);
  block["blockID"] = block["blockID"].get<std::string>().substr(2);  // 31 bytes
  node.answer("/wallet/getnowblock", block);
  EXPECT_INVALID_ANSWER(client.now_block(), "32 bytes");

  block = testing::block_answer(5, 1);
  block["block_header"]["raw_data"]["number"] = 6;
  node.answer("/wallet/getnowblock", block);
  EXPECT_INVALID_ANSWER(client.now_block(), "block number");

  block = testing::block_answer(5, 1);
  block["blockID"] = std::string(64, 'z');
  node.answer("/wallet/getnowblock", block);
  EXPECT_INVALID_ANSWER(client.now_block(), "not hex");

  block = testing::block_answer(5, 1);
  block["block_header"]["raw_data"]["timestamp"] = "yesterday";
  node.answer("/wallet/getnowblock", block);
  EXPECT_INVALID_ANSWER(client.now_block(), "timestamp");

  node.answer("/wallet/getnowblock", json::object());
  EXPECT_INVALID_ANSWER(client.now_block(), "blockID");

  node.answer("/wallet/getblockbynum", testing::block_answer(8, 1));
  EXPECT_INVALID_ANSWER(client.block_by_number(9), "asked for block 9");
  EXPECT_EQ(client.block_by_number(8)["blockID"], testing::block_id_hex(8));
  EXPECT_EQ(node.last_body()["num"], 8);
  node.answer("/wallet/getblockbynum", json::object());
  EXPECT_TRUE(client.block_by_number(1'000'000).empty());
}

TEST(FullNodeAnswers, NonsenseIsAClearError) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  node.answer("/wallet/getnowblock", std::string("<html>not json</html>"));
  EXPECT_INVALID_ANSWER(client.now_block(), "not JSON");
  node.answer("/wallet/getnowblock", std::string("[1,2,3]"));
  EXPECT_INVALID_ANSWER(client.now_block(), "not a JSON object");
  node.answer("/wallet/getnowblock", std::string("{\"blockID\": \"ab"));
  EXPECT_INVALID_ANSWER(client.now_block(), "not JSON");
  node.answer("/wallet/getnowblock", std::string(100'000, '['));
  EXPECT_INVALID_ANSWER(client.now_block(), "JSON nests deeper than 64 levels");
  node.answer("/wallet/getnowblock", std::string(""));
  EXPECT_INVALID_ANSWER(client.now_block(), "not JSON");
  node.answer("/wallet/getchainparameters", json{{"chainParameter", "none"}});
  EXPECT_INVALID_ANSWER(client.chain_parameters(), "chainParameter");
}

TEST(FullNodeAnswers, Accounts) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  // java-tron's answer for an account that does not exist.
  AccountBalances none = client.account(kAlice);
  EXPECT_FALSE(none.exists);
  EXPECT_EQ(none.trx, 0);
  EXPECT_EQ(node.last_body()["address"], kAlice.to_hex());

  node.answer("/wallet/getaccount",
              json{{"address", kAlice.to_hex()},
                   {"balance", 123'456'789},
                   {"create_time", 1},
                   {"assetV2", {{{"key", "1002000"}, {"value", 5'000'000}}, {{"key", "1000001"}}}}});
  AccountBalances alice = client.account(kAlice);
  EXPECT_TRUE(alice.exists);
  EXPECT_EQ(alice.trx, 123'456'789);
  EXPECT_EQ(alice.trc10.at("1002000"), 5'000'000);
  EXPECT_EQ(alice.trc10.at("1000001"), 0);

  // An account with no balance: java-tron omits the zero.
  node.answer("/wallet/getaccount", json{{"address", kAlice.to_hex()}, {"create_time", 1}});
  EXPECT_EQ(client.account(kAlice).trx, 0);
  EXPECT_TRUE(client.account(kAlice).exists);

  EXPECT_INVALID_ANSWER(client.account(kBob), "not " + kBob.to_hex());
  node.answer("/wallet/getaccount", json{{"address", kAlice.to_hex()}, {"balance", -5}});
  EXPECT_INVALID_ANSWER(client.account(kAlice), "negative");
  node.answer("/wallet/getaccount", json{{"address", kAlice.to_hex()}, {"balance", "100"}});
  EXPECT_INVALID_ANSWER(client.account(kAlice), "balance");
  node.answer("/wallet/getaccount",
              json{{"address", kAlice.to_hex()}, {"balance", 18446744073709551615ull}});
  EXPECT_INVALID_ANSWER(client.account(kAlice), "64-bit");
  node.answer("/wallet/getaccount", json{{"address", kAlice.to_hex()}, {"assetV2", {{"k", 1}}}});
  EXPECT_INVALID_ANSWER(client.account(kAlice), "assetV2");

  node.answer("/wallet/getaccountresource", json{{"freeNetLimit", 600}});
  EXPECT_EQ(client.account_resource(kAlice)["freeNetLimit"], 600);
}

TEST(FullNodeAnswers, RawPostNeedsAnAbsolutePath) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  EXPECT_THROW(client.post("wallet/getnowblock", json::object()), std::invalid_argument);
  EXPECT_EQ(client.post("/wallet/getnodeinfo", json::object()), json::object());
  EXPECT_EQ(node.request_count(), 1u);
}

TEST(FullNodeAnswers, ChainParametersWithOmittedZeros) {
  ScriptedNode node;
  node.answer("/wallet/getchainparameters",
              json{{"chainParameter",
                    {{{"key", "getTransactionFee"}, {"value", 1000}},
                     {{"key", "getAllowCreationOfContracts"}},
                     {{"key", "getEnergyFee"}, {"value", 420}}}}});
  FullNodeClient client = node.client();
  auto params = client.chain_parameters();
  EXPECT_EQ(params.size(), 3u);
  EXPECT_EQ(params.at("getTransactionFee"), 1000);
  EXPECT_EQ(params.at("getAllowCreationOfContracts"), 0);
  EXPECT_EQ(params.at("getEnergyFee"), 420);
}

TEST(FullNodeAnswers, Trc20Reads) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  std::string word = std::string(48, '0') + "0de0b6b3a7640000";  // 10^18
  node.answer("/wallet/triggerconstantcontract",
              json{{"result", {{"result", true}}},
                   {"energy_used", 900},
                   {"constant_result", {word}},
                   {"transaction", {{"ret", {json::object()}}}}});
  EXPECT_EQ(client.trc20_balance(kToken, kAlice), U256("1000000000000000000"));
  json sent = node.last_body();
  EXPECT_EQ(sent["contract_address"], kToken.to_hex());
  EXPECT_EQ(sent["owner_address"], kAlice.to_hex());
  EXPECT_EQ(sent["function_selector"], "balanceOf(address)");
  EXPECT_EQ(sent["parameter"], std::string(24, '0') + kAlice.to_hex().substr(2));

  node.answer("/wallet/triggerconstantcontract",
              json{{"result", {{"result", true}}}, {"constant_result", {std::string(62, '0') + "12"}}});
  EXPECT_EQ(client.trc20_decimals(kToken), 18);
  EXPECT_EQ(node.last_body()["function_selector"], "decimals()");
  EXPECT_FALSE(node.last_body().contains("parameter"));

  node.answer("/wallet/triggerconstantcontract",
              json{{"result", {{"result", true}}}, {"constant_result", {std::string(60, '0') + "012c"}}});
  EXPECT_INVALID_ANSWER(client.trc20_decimals(kToken), "uint8");
  node.answer("/wallet/triggerconstantcontract",
              json{{"result", {{"result", true}}}, {"constant_result", {"0102030405"}}});
  EXPECT_INVALID_ANSWER(client.trc20_balance(kToken, kAlice), "not 32");
  node.answer("/wallet/triggerconstantcontract", json{{"result", {{"result", true}}}});
  EXPECT_INVALID_ANSWER(client.trc20_balance(kToken, kAlice), "constant_result");
  node.answer("/wallet/triggerconstantcontract", json{{"constant_result", {word}}});
  EXPECT_INVALID_ANSWER(client.trc20_balance(kToken, kAlice), "'result'");
  node.answer("/wallet/triggerconstantcontract",
              json{{"result", {{"result", true}}}, {"constant_result", {"xyz"}}});
  EXPECT_INVALID_ANSWER(client.trc20_balance(kToken, kAlice), "not hex");
}

TEST(FullNodeAnswers, RevertCarriesTheNodeCodeAndReason) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  // Error(string) "no such holder"
  std::string revert =
      "08c379a0" + std::string(62, '0') + "20" + std::string(62, '0') + "0e" +
      to_hex(as_bytes("no such holder")) + std::string(64 - 28, '0');
  node.answer("/wallet/triggerconstantcontract",
              json{{"result",
                    {{"code", "CONTRACT_EXE_ERROR"},
                     {"message", to_hex(as_bytes("REVERT opcode executed"))}}},
                   {"constant_result", {revert}},
                   {"transaction", {{"ret", {{{"ret", "FAILED"}, {"contractRet", "REVERT"}}}}}}});
  try {
    client.trc20_balance(kToken, kAlice);
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "CONTRACT_EXE_ERROR");
    EXPECT_FALSE(e.transport);
    EXPECT_NE(std::string(e.what()).find("REVERT opcode executed: no such holder"),
              std::string::npos)
        << e.what();
  }
  // Reverted, yet result.result true: the contractRet tells.
  node.answer("/wallet/triggerconstantcontract",
              json{{"result", {{"result", true}}},
                   {"constant_result", {revert}},
                   {"transaction", {{"ret", {{{"contractRet", "REVERT"}}}}}}});
  try {
    client.trc20_decimals(kToken);
    FAIL();
  } catch (const NodeError& e) {
    EXPECT_EQ(e.code, "REVERT");
    EXPECT_NE(std::string(e.what()).find("no such holder"), std::string::npos) << e.what();
  }
}

TEST(FullNodeAnswers, Broadcast) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  auto tx = testing::sample_transaction();
  node.answer("/wallet/broadcasthex",
              json{{"result", true}, {"code", "SUCCESS"}, {"txid", tx.txid}});
  BroadcastResult ok = client.broadcast_hex(tx.bytes);
  EXPECT_TRUE(ok.ok);
  EXPECT_EQ(ok.code, "SUCCESS");
  EXPECT_EQ(ok.txid, tx.txid);
  EXPECT_EQ(node.last_body()["transaction"], to_hex(tx.bytes));

  // A node naming another transaction than the one we sent is lying.
  auto other = testing::sample_transaction(2);
  node.answer("/wallet/broadcasthex", json{{"result", true}, {"txid", other.txid}});
  EXPECT_INVALID_ANSWER(client.broadcast_hex(tx.bytes), "txID is " + tx.txid);

  node.answer("/wallet/broadcasthex", json{{"txid", tx.txid}});
  EXPECT_INVALID_ANSWER(client.broadcast_hex(tx.bytes), "neither success");

  node.answer("/wallet/broadcasthex",
              json{{"code", "TAPOS_ERROR"},
                   {"txid", tx.txid},
                   {"message", to_hex(as_bytes("Tapos check error"))}});
  BroadcastResult refused = client.broadcast_hex(tx.bytes);
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.code, "TAPOS_ERROR");
  EXPECT_EQ(refused.message, "Tapos check error");

  // Messages are hex of UTF-8 text; anything else is shown as the node sent it.
  node.answer("/wallet/broadcasthex",
              json{{"code", "OTHER_ERROR"}, {"txid", tx.txid}, {"message", "e282ac206f6b"}});
  EXPECT_EQ(client.broadcast_hex(tx.bytes).message, "\u20ac ok");
  node.answer("/wallet/broadcasthex",
              json{{"code", "OTHER_ERROR"}, {"txid", tx.txid}, {"message", "abcd"}});
  EXPECT_EQ(client.broadcast_hex(tx.bytes).message, "abcd");
  node.answer("/wallet/broadcasthex",
              json{{"code", "OTHER_ERROR"}, {"txid", tx.txid}, {"message", "e282"}});
  EXPECT_EQ(client.broadcast_hex(tx.bytes).message, "e282");
  node.answer("/wallet/broadcasthex",
              json{{"code", "SERVER_BUSY"}, {"txid", tx.txid}, {"message", "Server busy"}});
  EXPECT_EQ(client.broadcast_hex(tx.bytes).message, "Server busy");

  std::size_t before = node.request_count();
  EXPECT_THROW(client.broadcast_hex(Bytes{0xff, 0xff, 0xff}), std::invalid_argument);
  EXPECT_EQ(node.request_count(), before);  // garbage never leaves
}

TEST(FullNodeAnswers, TransactionLookups) {
  ScriptedNode node;
  FullNodeClient client = node.client();
  auto tx = testing::sample_transaction();
  Hash32 id{};
  Bytes raw = from_hex(tx.txid);
  std::copy(raw.begin(), raw.end(), id.begin());

  // Unknown or not yet in a block: java-tron answers {}.
  EXPECT_FALSE(client.transaction_by_id(id).has_value());
  EXPECT_EQ(node.last_body()["value"], tx.txid);
  EXPECT_FALSE(client.transaction_info_by_id(id).has_value());

  node.answer("/wallet/gettransactionbyid",
              json{{"txID", tx.txid}, {"ret", {{{"contractRet", "SUCCESS"}}}}});
  auto found = client.transaction_by_id(id);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ((*found)["txID"], tx.txid);

  node.answer("/wallet/gettransactioninfobyid",
              json{{"id", tx.txid},
                   {"fee", 1100000},
                   {"blockNumber", 77},
                   {"blockTimeStamp", 1'700'000'003'000},
                   {"contractResult", {""}},
                   {"receipt", {{"net_fee", 100000}}}});
  auto info = client.transaction_info_by_id(id);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->success);
  EXPECT_EQ(info->block_number, 77);
  EXPECT_EQ(info->block_timestamp, 1'700'000'003'000);
  EXPECT_EQ(info->fee, 1100000);
  EXPECT_EQ(info->raw["receipt"]["net_fee"], 100000);

  node.answer("/wallet/gettransactioninfobyid",
              json{{"id", tx.txid},
                   {"blockNumber", 78},
                   {"result", "FAILED"},
                   {"resMessage", to_hex(as_bytes("REVERT opcode executed"))},
                   {"receipt", {{"result", "REVERT"}, {"energy_usage_total", 500}}}});
  info = client.transaction_info_by_id(id);
  ASSERT_TRUE(info.has_value());
  EXPECT_FALSE(info->success);
  EXPECT_EQ(info->contract_result, "REVERT");
  EXPECT_EQ(info->res_message, "REVERT opcode executed");

  auto other = testing::sample_transaction(3);
  node.answer("/wallet/gettransactionbyid", json{{"txID", other.txid}});
  EXPECT_INVALID_ANSWER(client.transaction_by_id(id), "not " + tx.txid);
  node.answer("/wallet/gettransactioninfobyid", json{{"id", other.txid}, {"blockNumber", 3}});
  EXPECT_INVALID_ANSWER(client.transaction_info_by_id(id), "not " + tx.txid);
}

}  // namespace
}  // namespace tron
