// The devnet's HTTP API without sockets: java-tron's reply shapes, the visible flag, and
// error shapes for malformed requests (never a crash).
#include <gtest/gtest.h>

#include <random>

#include "devnet_test_util.hpp"
#include "tron/devnet/json_codec.hpp"
#include "tron/devnet/service.hpp"

namespace tron::devnet {
namespace {

using namespace testing;
using nlohmann::json;

constexpr std::int64_t kT0 = 1'800'000'000'000;

struct DevnetApi : ::testing::Test {
  std::int64_t now = kT0;
  Service service{Chain(test_genesis()), [this] { return now; }};

  json post(const std::string& path, const std::string& body, int status = 200) {
    ApiReply r = service.handle("POST", path, body);
    EXPECT_EQ(r.status, status) << path << " " << body << " -> " << r.body;
    return json::parse(r.body);
  }
  json post(const std::string& path, const json& body) { return post(path, body.dump()); }
  json get(const std::string& target) {
    ApiReply r = service.handle("GET", target, "");
    EXPECT_EQ(r.status, 200) << target << " -> " << r.body;
    return json::parse(r.body);
  }
  void seal() {
    now += 3000;
    service.seal();
  }
};

std::string error_of(const json& j) { return j.value("Error", std::string()); }

TEST_F(DevnetApi, MalformedRequestsGetJavaTronErrorShapes) {
  EXPECT_TRUE(error_of(post("/wallet/getaccount", std::string("{\"address\":")))
                  .starts_with("class com.alibaba.fastjson.JSONException : "));
  EXPECT_TRUE(error_of(post("/wallet/broadcasttransaction", std::string("[1,2]"))).starts_with("class "));
  EXPECT_EQ(error_of(post("/wallet/broadcasttransaction", json::object())),
            "class java.lang.NullPointerException : null");
  auto wrong_type = post("/wallet/createtransaction",
                         json{{"owner_address", "TYjaKKV4asba9j5JwoEKe4ZdZWieGrQLs8"},
                              {"to_address", "TXFotncHrYd2AcxaWvTHCHZa6A5iBKUxPZ"},
                              {"amount", "lots"},
                              {"visible", true}});
  EXPECT_TRUE(error_of(wrong_type).find("ParseException") != std::string::npos) << wrong_type;
  auto bad_address = post("/wallet/getaccount", json{{"address", "Tnotanaddress"}, {"visible", true}});
  EXPECT_TRUE(error_of(bad_address).starts_with("class java.lang.IllegalArgumentException"));
  EXPECT_TRUE(error_of(post("/wallet/broadcasthex", json{{"transaction", "zz"}})).starts_with("class "));
  EXPECT_TRUE(error_of(post("/wallet/broadcasthex", json{{"transaction", "0aff"}}))
                  .starts_with("class com.google.protobuf.InvalidProtocolBufferException"));
  EXPECT_TRUE(error_of(post("/wallet/nosuchthing", std::string("{}"), 404)).find("404") !=
              std::string::npos);
  EXPECT_EQ(service.handle("GET", "/wallet/broadcasttransaction", "").status, 405);
  EXPECT_EQ(service.handle("POST", "/walletsolidity/broadcasttransaction", "{}").status, 404);
  EXPECT_EQ(post("/wallet/getaccount", std::string("")), json::object());
  EXPECT_EQ(post("/wallet/gettransactionbyid", json{{"value", "00"}}), json::object());
}

TEST_F(DevnetApi, RandomBodiesNeverCrash) {
  std::mt19937 rng(7);
  const std::vector<std::string> paths = {
      "/wallet/getaccount", "/wallet/createtransaction", "/wallet/transferasset",
      "/wallet/triggersmartcontract", "/wallet/triggerconstantcontract",
      "/wallet/broadcasttransaction", "/wallet/broadcasthex", "/wallet/getblockbynum",
      "/wallet/getblock", "/wallet/gettransactionbyid", "/wallet/getcontract"};
  const std::vector<std::string> pieces = {
      "{", "}", "[", "]", "\"raw_data\":", "\"contract\":", "\"value\":", "\"amount\":", "-1",
      "1e99", "\"41ff\"", "null", "true", ",", ":", "\"visible\":true", "\"parameter\":",
      "\"type\":\"TransferContract\"", "\"transaction\":\"0a00\"", "\"num\":\"x\"", "\"\\u0000\""};
  for (int i = 0; i < 3000; ++i) {
    std::string body;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 12); ++k) body += pieces[rng() % pieces.size()];
    ApiReply r = service.handle("POST", paths[rng() % paths.size()], body);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(json::parse(r.body, nullptr, false).is_discarded()) << r.body;
  }
}

TEST_F(DevnetApi, CreateSignBroadcastAndFindOnlyAfterTheBlock) {
  seal();
  auto alice = key_of("alice");
  json created = post("/wallet/createtransaction",
                      json{{"owner_address", alice.address().to_base58()},
                           {"to_address", key_of("bob").address().to_base58()},
                           {"amount", 1234},
                           {"visible", true}});
  ASSERT_TRUE(created.contains("txID")) << created;
  EXPECT_EQ(created["visible"], true);
  EXPECT_EQ(created["raw_data"]["contract"][0]["parameter"]["value"]["owner_address"],
            alice.address().to_base58());
  EXPECT_EQ(created["raw_data"]["expiration"].get<std::int64_t>(),
            created["raw_data"]["timestamp"].get<std::int64_t>() + 60'000 - 0);
  Bytes raw = from_hex(created["raw_data_hex"].get<std::string>());
  EXPECT_EQ(to_hex(sha256(raw)), created["txID"]);
  Hash32 txid;
  Bytes id = from_hex(created["txID"].get<std::string>());
  std::copy(id.begin(), id.end(), txid.begin());
  Signature s = alice.sign_digest(txid);
  created["signature"] = json::array({to_hex(s)});

  json r = post("/wallet/broadcasttransaction", created);
  EXPECT_EQ(r, (json{{"result", true}, {"txid", created["txID"]}}));
  EXPECT_EQ(post("/wallet/gettransactionbyid", json{{"value", created["txID"]}}), json::object());
  EXPECT_EQ(get("/wallet/gettransactioninfobyid?value=" + created["txID"].get<std::string>()),
            json::object());
  // Until its block it sits in the pending pool, as java-tron shows it.
  json pending = post("/wallet/gettransactionfrompending", json{{"value", created["txID"]}});
  EXPECT_EQ(pending["txID"], created["txID"]);
  EXPECT_EQ(pending["raw_data_hex"], created["raw_data_hex"]);
  EXPECT_EQ(get("/wallet/gettransactionlistfrompending"),
            (json{{"txId", json::array({created["txID"]})}}));
  EXPECT_EQ(get("/wallet/getpendingsize"), (json{{"pendingSize", 1}}));
  EXPECT_EQ(post("/wallet/gettransactionfrompending", json{{"value", std::string(64, '0')}}),
            json::object());
  json account = get("/wallet/getaccount?address=" + key_of("bob").address().to_base58() + "&visible=true");
  EXPECT_EQ(account["address"], key_of("bob").address().to_base58());
  seal();
  json tx = post("/wallet/gettransactionbyid", json{{"value", created["txID"]}});
  EXPECT_EQ(tx["txID"], created["txID"]);
  EXPECT_EQ(post("/wallet/gettransactionfrompending", json{{"value", created["txID"]}}),
            json::object());
  EXPECT_EQ(get("/wallet/getpendingsize"), (json{{"pendingSize", 0}}));
  EXPECT_EQ(tx["ret"][0]["contractRet"], "SUCCESS");
  EXPECT_EQ(tx["raw_data"]["contract"][0]["parameter"]["value"]["owner_address"],
            alice.address().to_hex());
  json info = post("/walletsolidity/gettransactioninfobyid", json{{"value", created["txID"]}});
  EXPECT_EQ(info["blockNumber"], 2);
  EXPECT_EQ(info["contractResult"], json::array({""}));
  EXPECT_GT(info["receipt"]["net_usage"].get<int>(), 0);

  // The message of a refusal is hex text, as java-tron sends it.
  json dup = post("/wallet/broadcasttransaction", created);
  EXPECT_EQ(dup["code"], "DUP_TRANSACTION_ERROR");
  json block = post("/wallet/getblockbynum", json{{"num", 2}});
  EXPECT_EQ(block["transactions"][0]["txID"], created["txID"]);
  EXPECT_EQ(block["block_header"]["raw_data"]["number"], 2);
  EXPECT_EQ(post("/wallet/getblockbynum", json{{"num", 99}}), json::object());
}

TEST_F(DevnetApi, ReadsInJavaTronShapes) {
  json params = get("/wallet/getchainparameters");
  bool found = false;
  for (const auto& p : params["chainParameter"]) {
    if (p["key"] == "getEnergyFee") found = p["value"] == 100;
  }
  EXPECT_TRUE(found);
  json asset = post("/wallet/getassetissuebyid", json{{"value", "1002000"}});
  EXPECT_EQ(asset["id"], "1002000");
  EXPECT_EQ(asset["precision"], 6);
  EXPECT_EQ(asset["name"], to_hex(as_bytes("BitTorrent")));
  EXPECT_EQ(post("/wallet/getassetissuebyid", json{{"value", "1002000"}, {"visible", true}})["abbr"], "BTT");

  const std::string token = test_genesis().state.token.contract.to_base58();
  json contract = post("/wallet/getcontract", json{{"value", token}, {"visible", true}});
  EXPECT_EQ(contract["contract_address"], token);
  EXPECT_EQ(contract["abi"]["entrys"].size(), 7u);

  json call = post("/wallet/triggerconstantcontract",
                   json{{"owner_address", key_of("alice").address().to_base58()},
                        {"contract_address", token},
                        {"function_selector", "balanceOf(address)"},
                        {"parameter", "000000000000000000000000" +
                                          to_hex(key_of("alice").address().evm())},
                        {"visible", true}});
  EXPECT_EQ(call["result"]["result"], true);
  EXPECT_EQ(call["constant_result"][0], to_hex(abi_word(U256("1000000000000000000000000"))));

  json missing = post("/wallet/triggersmartcontract",
                      json{{"owner_address", key_of("alice").address().to_base58()},
                           {"contract_address", key_of("bob").address().to_base58()},
                           {"function_selector", "transfer(address,uint256)"},
                           {"visible", true}});
  EXPECT_EQ(missing["result"]["code"], "CONTRACT_VALIDATE_ERROR");

  json resource = post("/wallet/getaccountresource",
                       json{{"address", key_of("alice").address().to_base58()}, {"visible", true}});
  EXPECT_EQ(resource["freeNetLimit"], 600);
  EXPECT_EQ(get("/wallet/getnodeinfo")["configNodeInfo"]["codeVersion"], "4.8.0");
  json block = get("/wallet/getblock?detail=false");
  EXPECT_EQ(block["blockID"].get<std::string>().size(), 64u);
}

}  // namespace
}  // namespace tron::devnet
