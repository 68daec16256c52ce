#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <utility>

#include <nlohmann/json.hpp>

#include "tron/abi.hpp"
#include "tron/proto/contract.pb.h"
#include "tron/transaction.hpp"

namespace {

using nlohmann::json;
using tron::Address;
using tron::Token;
using tron::Transaction;
using tron::U256;

const char* kBlockId = "0000000003546431212a13dbe72ac5c09a684deb83257258a6fcdc1115835077";

tron::TxTiming timing() {
  return tron::TxTiming::from_block_id(tron::from_hex(kBlockId), 1751466432131, 1751466492131);
}

tron::PrivateKey key() {
  return tron::PrivateKey::from_hex(
      "279ff36d9bf9f305af3280034bb4187c6dd299bac6b26a3c20b999c7c0d50e6e");
}

Address to() { return Address::from_string("413c9b65b212316904572826240224750eccce29a2"); }
Address usdt() { return Address::from_string("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"); }

TEST(TxTiming, TakesBytesSixToFifteenOfTheBlockId) {
  auto t = timing();
  EXPECT_EQ(tron::to_hex(t.ref_block_bytes), "6431");
  EXPECT_EQ(tron::to_hex(t.ref_block_hash), "212a13dbe72ac5c0");
  EXPECT_THROW(tron::TxTiming::from_block_id(tron::Bytes(31), 0, 0), std::invalid_argument);
  EXPECT_THROW(tron::TxTiming::from_block_id(tron::Bytes(33), 0, 0), std::invalid_argument);
}

TEST(Transaction, JavaTronJsonShapeForTrx) {
  auto tx = Transaction::transfer_trx(key().address(), to(), 1, timing());
  json j = tx.to_json();
  EXPECT_EQ(j["visible"], false);
  EXPECT_EQ(j["txID"], "c93cdd6b4d9f5b3c617060ea0a9c7b6080d9855f599cc987f69105a5e3e9c9b4");
  EXPECT_FALSE(j.contains("signature"));
  const json& raw = j["raw_data"];
  EXPECT_EQ(raw["ref_block_bytes"], "6431");
  EXPECT_EQ(raw["ref_block_hash"], "212a13dbe72ac5c0");
  EXPECT_EQ(raw["expiration"], 1751466492131);
  EXPECT_EQ(raw["timestamp"], 1751466432131);
  EXPECT_FALSE(raw.contains("fee_limit"));
  ASSERT_EQ(raw["contract"].size(), 1u);
  const json& c = raw["contract"][0];
  EXPECT_EQ(c["type"], "TransferContract");
  EXPECT_EQ(c["parameter"]["type_url"], "type.googleapis.com/protocol.TransferContract");
  EXPECT_EQ(c["parameter"]["value"],
            json({{"owner_address", "4194a15629b2b2bbd3a5453e6d6696b2875278633b"},
                  {"to_address", "413c9b65b212316904572826240224750eccce29a2"},
                  {"amount", 1}}));

  json v = tx.to_json(true);
  EXPECT_EQ(v["visible"], true);
  EXPECT_EQ(v["raw_data"]["contract"][0]["parameter"]["value"]["owner_address"],
            "TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1");
  EXPECT_EQ(v["raw_data_hex"], j["raw_data_hex"]);
}

TEST(Transaction, Trc10AssetNameIsHexOrTextByVisibility) {
  auto tx = Transaction::transfer(Token::parse("trc10:1002000"), key().address(), to(), 5,
                                  timing());
  protocol::TransferAssetContract c;
  ASSERT_TRUE(c.ParseFromString(tx.proto().raw_data().contract(0).parameter().value()));
  EXPECT_EQ(c.asset_name(), "1002000");  // ASCII bytes of the id
  EXPECT_EQ(tx.proto().raw_data().contract(0).parameter().type_url(),
            "type.googleapis.com/protocol.TransferAssetContract");
  EXPECT_EQ(tx.proto().raw_data().contract(0).type(),
            protocol::Transaction::Contract::TransferAssetContract);
  EXPECT_EQ(tx.to_json()["raw_data"]["contract"][0]["parameter"]["value"]["asset_name"],
            "31303032303030");
  EXPECT_EQ(tx.to_json(true)["raw_data"]["contract"][0]["parameter"]["value"]["asset_name"],
            "1002000");
  EXPECT_FALSE(tx.to_json()["raw_data"].contains("fee_limit"));
}

TEST(Transaction, Trc20CarriesFeeLimitAndCalldata) {
  auto tx = Transaction::transfer(Token{Token::Kind::Trc20, "", usdt()}, key().address(), to(),
                                  U256("1000000000000000000000"), timing(), 30'000'000);
  json j = tx.to_json();
  EXPECT_EQ(j["raw_data"]["fee_limit"], 30'000'000);
  const json& value = j["raw_data"]["contract"][0]["parameter"]["value"];
  EXPECT_EQ(value["contract_address"], usdt().to_hex());
  EXPECT_EQ(value["data"], tron::to_hex(tron::abi::encode_transfer(to(), U256("1000000000000000000000"))));
  EXPECT_FALSE(value.contains("call_value"));
  EXPECT_EQ(j["raw_data"]["contract"][0]["type"], "TriggerSmartContract");
}

TEST(Transaction, TransferRejectsAmountsThatDoNotFit) {
  const U256 too_big = U256(std::numeric_limits<std::int64_t>::max()) + 1;
  EXPECT_THROW(Transaction::transfer(Token{}, key().address(), to(), too_big, timing()),
               std::invalid_argument);
  EXPECT_THROW(
      Transaction::transfer(Token::parse("trc10:1002000"), key().address(), to(), too_big, timing()),
      std::invalid_argument);
  EXPECT_NO_THROW(Transaction::transfer(Token{}, key().address(), to(), too_big - 1, timing()));
  EXPECT_THROW(Transaction::transfer(Token{}, key().address(), to(), 0, timing()),
               std::invalid_argument);
  EXPECT_NO_THROW(Transaction::transfer(Token{Token::Kind::Trc20, "", usdt()}, key().address(),
                                        to(), std::numeric_limits<U256>::max(), timing()));
}

TEST(Transaction, SignRoundTripsThroughJsonAndBytes) {
  for (const Token& token : {Token{}, Token::parse("trc10:1002000"),
                             Token{Token::Kind::Trc20, "", usdt()}}) {
    SCOPED_TRACE(token.to_string());
    auto tx = Transaction::transfer(token, key().address(), to(), 123456789, timing());
    tx.sign(key());
    auto signers = tx.signers();
    ASSERT_EQ(signers.size(), 1u);
    EXPECT_EQ(signers[0], key().address());
    EXPECT_EQ(tx.owner(), key().address());
    auto payment = tx.payment();
    ASSERT_TRUE(payment);
    EXPECT_EQ(*payment, (tron::Payment{token, key().address(), to(), 123456789}));

    for (bool visible : {false, true}) {
      json j = tx.to_json(visible);
      ASSERT_EQ(j["signature"].size(), 1u);
      auto back = Transaction::from_json(json::parse(j.dump()));
      EXPECT_EQ(back.serialized(), tx.serialized());
      EXPECT_EQ(back.to_json(visible), j);
      // raw_data alone (no hex) is enough too.
      json no_hex = j;
      no_hex.erase("raw_data_hex");
      EXPECT_EQ(Transaction::from_json(no_hex).serialized(), tx.serialized());
    }
    auto reparsed = Transaction::from_bytes(tx.serialized());
    EXPECT_EQ(reparsed.serialized(), tx.serialized());
    EXPECT_EQ(reparsed.txid(), tx.txid());
    // Our fast serialization is the protobuf one.
    const std::string whole = std::as_const(tx).proto().SerializeAsString();
    EXPECT_EQ(tx.serialized(), tron::Bytes(whole.begin(), whole.end()));
  }
}

TEST(Transaction, MutatingTheProtoRefreshesTheCachedRawData) {
  auto tx = Transaction::transfer_trx(key().address(), to(), 1, timing());
  auto before = tx.txid();
  tx.proto().mutable_raw_data()->set_expiration(1751466492132);
  EXPECT_NE(tx.txid(), before);
  EXPECT_EQ(tx.raw_data_hex(), tron::to_hex(tron::as_bytes(tx.proto().raw_data().SerializeAsString())));
}

json good_json() {
  return Transaction::transfer_trx(key().address(), to(), 7, timing()).to_json();
}

void expect_rejected(const json& j, const std::string& needle) {
  try {
    Transaction::from_json(j);
    ADD_FAILURE() << "accepted: " << j.dump();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Transaction, FromJsonRejectsInconsistentOrMalformedInput) {
  json j = good_json();
  {
    json bad = j;
    bad["txID"] = std::string(64, '0');
    expect_rejected(bad, "txID does not match");
  }
  {
    json bad = j;
    bad["txID"] = "abcd";
    expect_rejected(bad, "txID does not match");
  }
  {
    json bad = j;
    bad["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = 8;
    expect_rejected(bad, "raw_data does not match raw_data_hex");
  }
  {
    json bad = j;
    bad["raw_data_hex"] = "zz";
    expect_rejected(bad, "raw_data_hex is not hex");
  }
  {
    json bad = j;
    bad["raw_data_hex"] = std::string(j["raw_data_hex"]).substr(1);
    expect_rejected(bad, "odd number");
  }
  {
    json bad = j;
    bad["raw_data_hex"] = "ff";
    expect_rejected(bad, "not a serialized");
  }
  {
    json bad = j;
    bad["signature"] = json::array({std::string(128, 'a')});
    expect_rejected(bad, "65 bytes");
  }
  {
    json bad = j;
    bad["signature"] = "00";
    expect_rejected(bad, "array");
  }
  {
    json bad = j;
    bad.erase("raw_data_hex");
    bad.erase("raw_data");
    expect_rejected(bad, "neither");
  }
  {
    json bad = j;
    bad.erase("raw_data_hex");
    bad["raw_data"]["contract"][0]["parameter"]["value"]["to_address"] = "41abcd";
    expect_rejected(bad, "not a TRON address");
  }
  {
    json bad = j;
    bad.erase("raw_data_hex");
    bad["raw_data"]["contract"][0]["type"] = "FreezeBalanceContract";
    expect_rejected(bad, "unsupported contract type");
  }
  {
    json bad = j;
    bad.erase("raw_data_hex");
    bad["raw_data"]["contract"][0]["parameter"]["type_url"] =
        "type.googleapis.com/protocol.TriggerSmartContract";
    expect_rejected(bad, "does not match type");
  }
  {
    json bad = j;
    bad["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = "7";
    expect_rejected(bad, "must be an integer");
  }
  {
    json bad = j;
    bad["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = 1.5;
    expect_rejected(bad, "must be an integer");
  }
  {
    json bad = j;
    bad["raw_data"]["contract"][0]["parameter"]["value"]["amount"] =
        std::numeric_limits<std::uint64_t>::max();
    expect_rejected(bad, "64-bit");
  }
  {
    json bad = j;
    bad["raw_data"]["auths"] = json::array();
    expect_rejected(bad, "unsupported field 'auths'");
  }
  {
    json bad = j;
    bad["raw_data"]["contract"].push_back(bad["raw_data"]["contract"][0]);
    expect_rejected(bad, "exactly one contract");
  }
  {
    json bad = j;
    bad["visible"] = "no";
    expect_rejected(bad, "visible");
  }
  expect_rejected(json::array(), "JSON object");
  // A non-canonical encoding of the same raw_data (fields out of order) hashes differently
  // from what java-tron computes, so it is refused.
  {
    tron::Bytes raw = tron::from_hex(j["raw_data_hex"].get<std::string>());
    // ref_block_bytes (4 bytes: 0a 02 64 31) moved to the end.
    tron::Bytes reordered(raw.begin() + 4, raw.end());
    reordered.insert(reordered.end(), raw.begin(), raw.begin() + 4);
    json bad = {{"raw_data_hex", tron::to_hex(reordered)}};
    expect_rejected(bad, "canonical");
  }
}

TEST(Transaction, FromBytesRejectsGarbage) {
  EXPECT_THROW(Transaction::from_bytes(tron::Bytes{}), std::invalid_argument);
  EXPECT_THROW(Transaction::from_bytes(tron::Bytes{0xff, 0xff, 0xff}), std::invalid_argument);
  auto good = Transaction::transfer_trx(key().address(), to(), 1, timing()).serialized();
  tron::Bytes truncated(good.begin(), good.end() - 3);
  EXPECT_THROW(Transaction::from_bytes(truncated), std::invalid_argument);
}

TEST(Transaction, PaymentIsNulloptForOtherShapes) {
  auto tx = Transaction::transfer_trc20(usdt(), key().address(), to(), 5, 1000, timing());
  protocol::TriggerSmartContract c;
  ASSERT_TRUE(c.ParseFromString(tx.proto().raw_data().contract(0).parameter().value()));
  c.set_call_value(1);
  *tx.proto().mutable_raw_data()->mutable_contract(0)->mutable_parameter()->mutable_value() =
      c.SerializeAsString();
  EXPECT_FALSE(tx.payment());
  c.set_call_value(0);
  c.set_data("\x70\xa0\x82\x31");
  *tx.proto().mutable_raw_data()->mutable_contract(0)->mutable_parameter()->mutable_value() =
      c.SerializeAsString();
  EXPECT_FALSE(tx.payment());
  EXPECT_EQ(tx.owner(), key().address());
}

}  // namespace

namespace {

// Mutated bytes and JSON never crash the readers: they either parse or throw
// std::invalid_argument, and whatever parses can be printed and inspected.
TEST(Transaction, MutatedInputIsRefusedOrHandledCleanly) {
  std::mt19937 rng(12345);
  const auto key = tron::PrivateKey::from_hex(
      "279ff36d9bf9f305af3280034bb4187c6dd299bac6b26a3c20b999c7c0d50e6e");
  const tron::Address usdt = tron::Address::from_string("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t");
  auto timing = tron::TxTiming::from_block_id(tron::Bytes(32, 7), 1, 2);
  std::vector<tron::Bytes> seeds;
  for (const tron::Token& token : {tron::Token{}, tron::Token::parse("trc10:1002000"),
                                   tron::Token{tron::Token::Kind::Trc20, "", usdt}}) {
    auto tx = tron::Transaction::transfer(token, key.address(), usdt, 99, timing);
    tx.sign(key);
    seeds.push_back(tx.serialized());
  }
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    tron::Bytes bytes = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[at] = static_cast<std::uint8_t>(rng());
          break;
        case 1:
          bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
          break;
        default:
          bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                       static_cast<std::uint8_t>(rng()));
      }
      if (bytes.empty()) bytes.push_back(0);
    }
    try {
      auto tx = tron::Transaction::from_bytes(bytes);
      ++parsed;
      json j = tx.to_json(i % 2 == 0);
      (void)tx.payment();
      (void)tx.owner();
      (void)tx.signers();
      // What we print, we read back (or refuse cleanly for kinds we do not build).
      try {
        tron::Transaction::from_json(j);
      } catch (const std::invalid_argument&) {
      }
    } catch (const std::invalid_argument&) {
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace

namespace {

TEST(Transaction, VisibleJsonPrintsNonTextAssetNamesAsHex) {
  auto timing = tron::TxTiming::from_block_id(tron::Bytes(32, 1), 1, 2);
  auto tx = Transaction::transfer_trc10("\xff\xfe", key().address(), to(), 1, timing);
  json v = tx.to_json(true);
  EXPECT_EQ(v["raw_data"]["contract"][0]["parameter"]["value"]["asset_name"], "fffe");
  EXPECT_NO_THROW((void)v.dump());
}

}  // namespace
