// Every vector of ../shared/tron-vectors.json, checked against our implementation.
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "tron/abi.hpp"
#include "tron/address.hpp"
#include "tron/keys.hpp"
#include "tron/tip191.hpp"
#include "tron/transaction.hpp"

namespace {

using nlohmann::json;
using tron::Address;

const json& vectors() {
  static const json v = [] {
    std::ifstream in(BTTNODE_SHARED_DIR "/tron-vectors.json");
    if (!in) throw std::runtime_error("cannot open " BTTNODE_SHARED_DIR "/tron-vectors.json");
    return json::parse(in);
  }();
  return v;
}

TEST(Vectors, KeysAndAddresses) {
  ASSERT_GE(vectors()["keys"].size(), 2u);
  for (const auto& k : vectors()["keys"]) {
    auto key = tron::PrivateKey::from_hex(k["priv"].get<std::string>());
    EXPECT_EQ(key.address().to_base58(), k["address"]);
    EXPECT_EQ(key.address().to_hex(), k["address_hex"]);
    EXPECT_EQ(Address::from_string(k["address"].get<std::string>()),
              Address::from_string(k["address_hex"].get<std::string>()));
  }
}

TEST(Vectors, ZeroAddress) {
  const auto& z = vectors()["zero_address"];
  Address zero;
  EXPECT_EQ(zero.to_hex(), z["address_hex"]);
  EXPECT_EQ(zero.to_base58(), z["address"]);
  EXPECT_EQ(Address::from_string(z["address"].get<std::string>()), zero);
}

tron::Transaction build_vector(const json& v) {
  auto block_id = tron::from_hex(v["ref_block_id"].get<std::string>());
  auto timing = tron::TxTiming::from_block_id(block_id, v["timestamp"], v["expiration"]);
  auto owner = Address::from_string(v["owner_address"].get<std::string>());
  const std::string kind = v["kind"];
  if (kind == "TransferContract") {
    return tron::Transaction::transfer_trx(owner,
                                           Address::from_string(v["to_address"].get<std::string>()),
                                           v["amount"], timing);
  }
  if (kind == "TriggerSmartContract") {
    auto call = tron::abi::decode_transfer(tron::from_hex(v["data"].get<std::string>()));
    auto tx = tron::Transaction::transfer_trc20(
        Address::from_string(v["contract_address"].get<std::string>()), owner, call.to,
        call.amount, v["fee_limit"], timing);
    EXPECT_EQ(tron::to_hex(tron::abi::encode_transfer(call.to, call.amount)), v["data"]);
    return tx;
  }
  throw std::runtime_error("unknown vector kind " + kind);
}

TEST(Vectors, Transactions) {
  ASSERT_EQ(vectors()["transactions"].size(), 2u);
  for (const auto& v : vectors()["transactions"]) {
    SCOPED_TRACE(v["kind"].get<std::string>());
    tron::Transaction tx = build_vector(v);
    EXPECT_EQ(tx.raw_data_hex(), v["raw_data_hex"]);
    EXPECT_EQ(tron::to_hex(tx.txid()), v["txID"]);

    // The same transaction read back from its bytes and from its JSON, both ways.
    auto reread = tron::Transaction::from_bytes(tx.serialized());
    EXPECT_EQ(reread.raw_data_hex(), v["raw_data_hex"]);
    for (bool visible : {false, true}) {
      auto from_json = tron::Transaction::from_json(tx.to_json(visible));
      EXPECT_EQ(tron::to_hex(from_json.txid()), v["txID"]);
    }
    json only_raw = {{"raw_data_hex", v["raw_data_hex"]}, {"txID", v["txID"]}};
    EXPECT_EQ(tron::Transaction::from_json(only_raw).raw_data_hex(), v["raw_data_hex"]);
  }
}

TEST(Vectors, SignedTransactionRecoversToSigner) {
  const auto& s = vectors()["signed_transaction"];
  json in = {{"raw_data_hex", s["raw_data_hex"]},
             {"txID", s["txID"]},
             {"signature", json::array({s["signature"]})}};
  auto tx = tron::Transaction::from_json(in);
  EXPECT_EQ(tron::to_hex(tx.txid()), s["txID"]);
  auto signers = tx.signers();
  ASSERT_EQ(signers.size(), 1u);
  ASSERT_TRUE(signers[0].has_value());
  EXPECT_EQ(signers[0]->to_base58(), s["signer"]);
  // It pays TRX from the signer.
  auto payment = tx.payment();
  ASSERT_TRUE(payment.has_value());
  EXPECT_EQ(payment->token.kind, tron::Token::Kind::Trx);
  EXPECT_EQ(payment->from.to_base58(), s["signer"]);
  // Signatures are byte-exact in the JSON we print.
  EXPECT_EQ(tx.to_json()["signature"][0], s["signature"]);
}

TEST(Vectors, Tip191Signature) {
  for (const auto& m : vectors()["tip191_messages"]) {
    auto key = tron::PrivateKey::from_hex(m["priv"].get<std::string>());
    const std::string message = m["message_utf8"];
    const std::string expected = m["signature"];
    EXPECT_EQ(tron::sign_message_hex(key, message), "0x" + expected);
    EXPECT_TRUE(tron::verify_message(message, expected, key.address()));
    EXPECT_TRUE(tron::verify_message(message, "0x" + expected, key.address()));
    EXPECT_FALSE(tron::verify_message(message + "!", expected, key.address()));
    EXPECT_FALSE(tron::verify_message(message, expected, Address()));
  }
}

TEST(Vectors, AbiSelectorsAndTopic) {
  const auto& a = vectors()["abi"];
  auto hex4 = [](const tron::abi::Selector& s) { return tron::to_hex(s); };
  EXPECT_EQ(hex4(tron::abi::selector("transfer(address,uint256)")), a["transfer_selector"]);
  EXPECT_EQ(hex4(tron::abi::selector("balanceOf(address)")), a["balanceOf_selector"]);
  EXPECT_EQ(hex4(tron::abi::selector("decimals()")), a["decimals_selector"]);
  EXPECT_EQ(hex4(tron::abi::kTransferSelector), a["transfer_selector"]);
  EXPECT_EQ(hex4(tron::abi::kBalanceOfSelector), a["balanceOf_selector"]);
  EXPECT_EQ(hex4(tron::abi::kDecimalsSelector), a["decimals_selector"]);
  EXPECT_EQ(hex4(tron::abi::selector("Error(string)")), "08c379a0");
  EXPECT_EQ(tron::to_hex(tron::abi::event_topic("Transfer(address,address,uint256)")),
            a["transfer_event_topic0"]);
}

}  // namespace
