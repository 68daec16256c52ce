// The seeder's settlement verifier against the devnet, served in-process over HTTP: real
// transfers signed with the genesis test keys, broadcast through the full-node client, then
// credited or refused.
#include "node/pay/verifier.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "../tron/devnet_test_util.hpp"
#include "../tron/fullnode_test_server.hpp"
#include "tests/test_files.hpp"
#include "tron/abi.hpp"
#include "tron/devnet/server.hpp"
#include "tron/network.hpp"
#include "tron/proto/contract.pb.h"

namespace bttnode::pay {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using tron::Address;
using tron::FullNodeClient;
using tron::FullNodeOptions;
using tron::Hash32;
using tron::PrivateKey;
using tron::Token;
using tron::U256;
using tron::devnet::testing::key_of;
using tron::devnet::testing::test_genesis;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const std::string kInfoHash = "0123456789abcdef0123456789abcdef01234567";
const std::string kPeer = "2d4254303030312d000102030405060708090a0b";

Hash32 random_txid() {
  std::random_device rd;
  Hash32 id;
  for (auto& b : id) b = static_cast<std::uint8_t>(rd());
  return id;
}

// A port nothing listens on: bound to learn a free one, then closed.
unsigned short closed_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(
      ioc, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

class PayVerifierTest : public ::testing::Test {
 protected:
  PayVerifierTest()
      : service_(
            std::make_shared<tron::devnet::Service>(tron::devnet::Chain(test_genesis()), wall_ms)) {
    tron::devnet::ServerOptions options;
    // Blocks are sealed by the tests themselves, so each knows exactly what is on chain.
    options.block_interval = std::chrono::hours(1);
    server_ = std::make_unique<tron::devnet::Server>(service_, options);
    server_->start();
    node_ = std::make_unique<FullNodeClient>(client_options(url()));
    ledger_ = std::make_unique<wallet::Ledger>((dir_ / "ledger.db").string());
    trc20_.kind = Token::Kind::Trc20;
    trc20_.contract = test_genesis().state.token.contract;
  }

  ~PayVerifierTest() override {
    node_.reset();
    server_->stop();
  }

  static FullNodeOptions client_options(const std::string& url) {
    FullNodeOptions o;
    o.url = url;
    o.timeout = 20s;
    o.retries = 0;
    return o;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  // Signs a transfer by the named test account and broadcasts it; the node must accept it.
  Hash32 pay(const std::string& payer, const Address& to, const Token& token, const U256& amount) {
    PrivateKey key = key_of(payer);
    auto tx = tron::Transaction::transfer(token, key.address(), to, amount, node_->timing());
    tx.sign(key);
    auto sent = node_->broadcast_hex(tx.serialized());
    EXPECT_TRUE(sent.ok) << sent.code << ": " << sent.message;
    return tx.txid();
  }

  // Broadcasts a hand-made transaction signed by the named account.
  Hash32 send(tron::Transaction tx, const std::string& payer) {
    tx.sign(key_of(payer));
    auto sent = node_->broadcast_hex(tx.serialized());
    EXPECT_TRUE(sent.ok) << sent.code << ": " << sent.message;
    return tx.txid();
  }

  std::int64_t seal(int blocks = 1) {
    std::int64_t n = 0;
    for (int i = 0; i < blocks; ++i) n = service_->seal();
    return n;
  }

  ExpectedPayment expect(const Hash32& txid, const std::string& payer, const Token& token,
                         const U256& amount) const {
    ExpectedPayment e;
    e.txid = txid;
    e.from = key_of(payer).address();
    e.to = seeder_;
    e.token = token;
    e.amount = amount;
    e.info_hash = kInfoHash;
    e.peer = kPeer;
    return e;
  }

  // Verifies, expects a refusal with `verdict`, and checks that nothing was credited.
  void expect_refused(const ExpectedPayment& e, Verdict verdict, FullNodeClient* via = nullptr) {
    SettlementVerifier verifier(via ? *via : *node_, *ledger_);
    Verification v = verifier.verify(e);
    EXPECT_EQ(v.verdict, verdict) << to_string(v.verdict) << ": " << v.detail;
    EXPECT_FALSE(v.detail.empty());
    EXPECT_FALSE(ledger_->credit(tron::to_hex(e.txid)).has_value());
    EXPECT_TRUE(ledger_->credits().empty());
  }

  test_support::TempDir dir_;
  std::shared_ptr<tron::devnet::Service> service_;
  std::unique_ptr<tron::devnet::Server> server_;
  std::unique_ptr<FullNodeClient> node_;
  std::unique_ptr<wallet::Ledger> ledger_;
  const Address seeder_ = key_of("bob").address();
  const Token trx_ = Token::parse("trx");
  const Token trc10_ = Token::parse("trc10:1002000");
  Token trc20_;
};

TEST_F(PayVerifierTest, ChainIdIsTheHexOfBlockZerosIdAndStable) {
  std::string id = tron::node_chain_id(*node_);
  ASSERT_EQ(id.size(), 64u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
  // Block 0's id starts with its number, 0.
  EXPECT_EQ(id.substr(0, 16), std::string(16, '0'));
  seal(3);
  EXPECT_EQ(tron::node_chain_id(*node_), id);
  // Another devnet from the same genesis is the same chain; a node's head block is not it.
  tron::devnet::Chain same(test_genesis());
  EXPECT_EQ(tron::to_hex(same.block_id(0)), id);
  EXPECT_NE(tron::to_hex(node_->now_block().id), id);
}

TEST_F(PayVerifierTest, CreditsTrxWithTheExactAmount) {
  Hash32 txid = pay("alice", seeder_, trx_, 1'234'567);
  std::int64_t block = seal();
  SettlementVerifier verifier(*node_, *ledger_);
  Verification v = verifier.verify(expect(txid, "alice", trx_, 1'234'567));
  ASSERT_EQ(v.verdict, Verdict::Credited) << v.detail;
  EXPECT_EQ(v.block_number, block);
  auto credit = ledger_->credit(tron::to_hex(txid));
  ASSERT_TRUE(credit.has_value());
  EXPECT_EQ(credit->token, trx_);
  EXPECT_EQ(credit->amount, U256(1'234'567));
  EXPECT_EQ(credit->from, key_of("alice").address());
  EXPECT_EQ(credit->to, seeder_);
  EXPECT_EQ(credit->block_number, block);
  EXPECT_EQ(credit->info_hash, kInfoHash);
  EXPECT_EQ(credit->peer, kPeer);
  EXPECT_EQ(ledger_->total_earned(trx_), U256(1'234'567));
}

TEST_F(PayVerifierTest, CreditsTrc10WithTheExactAmount) {
  Hash32 txid = pay("alice", seeder_, trc10_, 777'001);
  seal();
  SettlementVerifier verifier(*node_, *ledger_);
  Verification v = verifier.verify(expect(txid, "alice", trc10_, 777'001));
  ASSERT_EQ(v.verdict, Verdict::Credited) << v.detail;
  auto credit = ledger_->credit(tron::to_hex(txid));
  ASSERT_TRUE(credit.has_value());
  EXPECT_EQ(credit->token, trc10_);
  EXPECT_EQ(credit->amount, U256(777'001));
  EXPECT_EQ(ledger_->total_earned(trc10_), U256(777'001));
  EXPECT_EQ(ledger_->total_earned(trx_), U256(0));
}

TEST_F(PayVerifierTest, CreditsTrc20WithTheExactAmountBeyond64Bits) {
  const U256 amount("25000000000000000000007");  // 25000 BTT and 7 base units: over 2^64
  Hash32 txid = pay("alice", seeder_, trc20_, amount);
  seal();
  // The node's info carries the token's Transfer event, which the verifier matches too.
  auto info = node_->transaction_info_by_id(txid);
  ASSERT_TRUE(info.has_value());
  ASSERT_TRUE(info->raw.contains("log")) << info->raw.dump();
  SettlementVerifier verifier(*node_, *ledger_);
  Verification v = verifier.verify(expect(txid, "alice", trc20_, amount));
  ASSERT_EQ(v.verdict, Verdict::Credited) << v.detail;
  auto credit = ledger_->credit(tron::to_hex(txid));
  ASSERT_TRUE(credit.has_value());
  EXPECT_EQ(credit->token, trc20_);
  EXPECT_EQ(credit->amount, amount);
  EXPECT_EQ(node_->trc20_balance(trc20_.contract, seeder_),
            U256("1000000000000000000000000") + amount);
}

TEST_F(PayVerifierTest, ForgedTxidIsUnknown) {
  SettlementVerifier strict(*node_, *ledger_, VerifierOptions{0ms});
  ExpectedPayment e = expect(random_txid(), "alice", trx_, 1000);
  Verification v = strict.verify(e);
  EXPECT_EQ(v.verdict, Verdict::UnknownTx) << v.detail;
  EXPECT_STREQ(reject_reason(v.verdict), "unknown_tx");
  EXPECT_TRUE(ledger_->credits().empty());
}

TEST_F(PayVerifierTest, UnknownTxidIsGivenTheGraceThenRefused) {
  SettlementVerifier verifier(*node_, *ledger_, VerifierOptions{300ms});
  ExpectedPayment e = expect(random_txid(), "alice", trx_, 1000);
  Verification first = verifier.verify(e);
  EXPECT_EQ(first.verdict, Verdict::Unconfirmed);
  EXPECT_FALSE(first.seen_by_node);  // not something to tell the payer as `unconfirmed`
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(verifier.verify(e).verdict, Verdict::UnknownTx);
  EXPECT_EQ(verifier.verify(e).verdict, Verdict::UnknownTx);
  EXPECT_TRUE(ledger_->credits().empty());
}

TEST_F(PayVerifierTest, ReplayedTxidIsCreditedOnce) {
  Hash32 txid = pay("alice", seeder_, trx_, 500'000);
  seal();
  ExpectedPayment e = expect(txid, "alice", trx_, 500'000);
  SettlementVerifier verifier(*node_, *ledger_);
  ASSERT_EQ(verifier.verify(e).verdict, Verdict::Credited);
  Verification again = verifier.verify(e);
  EXPECT_EQ(again.verdict, Verdict::Replayed) << again.detail;
  EXPECT_STREQ(reject_reason(again.verdict), "replayed_tx");
  // Another session, another torrent: still the same txid, still refused.
  SettlementVerifier other(*node_, *ledger_);
  e.info_hash = std::string(40, 'f');
  e.peer = std::string(40, 'e');
  EXPECT_EQ(other.verify(e).verdict, Verdict::Replayed);
  // And after the ledger is reopened.
  ledger_.reset();
  ledger_ = std::make_unique<wallet::Ledger>((dir_ / "ledger.db").string());
  SettlementVerifier reopened(*node_, *ledger_);
  EXPECT_EQ(reopened.verify(e).verdict, Verdict::Replayed);
  auto credits = ledger_->credits();
  ASSERT_EQ(credits.size(), 1u);
  EXPECT_EQ(credits[0].amount, U256(500'000));
  EXPECT_EQ(credits[0].info_hash, kInfoHash);
}

TEST_F(PayVerifierTest, PaymentToAnotherAddressIsRefused) {
  Address other = key_of("carol").address();
  Hash32 trx = pay("alice", other, trx_, 100'000);
  Hash32 trc10 = pay("alice", other, trc10_, 100'000);
  Hash32 trc20 = pay("alice", other, trc20_, 100'000);
  seal();
  expect_refused(expect(trx, "alice", trx_, 100'000), Verdict::WrongRecipient);
  expect_refused(expect(trc10, "alice", trc10_, 100'000), Verdict::WrongRecipient);
  expect_refused(expect(trc20, "alice", trc20_, 100'000), Verdict::WrongRecipient);
  EXPECT_STREQ(reject_reason(Verdict::WrongRecipient), "wrong_recipient");
}

TEST_F(PayVerifierTest, PaymentFromAnotherAddressIsRefused) {
  // carol pays the seeder, but alice is the bound address.
  Hash32 trx = pay("carol", seeder_, trx_, 100'000);
  Hash32 trc20 = pay("carol", seeder_, trc20_, 100'000);
  seal();
  expect_refused(expect(trx, "alice", trx_, 100'000), Verdict::WrongSender);
  expect_refused(expect(trc20, "alice", trc20_, 100'000), Verdict::WrongSender);
}

TEST_F(PayVerifierTest, WrongTokenIsRefused) {
  Hash32 trx = pay("alice", seeder_, trx_, 100'000);
  Hash32 trc10 = pay("alice", seeder_, trc10_, 100'000);
  Hash32 trc20 = pay("alice", seeder_, trc20_, 100'000);
  seal();
  // TRX paid, a TRC-10 asset or the TRC-20 token expected; and the other way round.
  expect_refused(expect(trx, "alice", trc10_, 100'000), Verdict::WrongToken);
  expect_refused(expect(trx, "alice", trc20_, 100'000), Verdict::WrongToken);
  expect_refused(expect(trc10, "alice", trx_, 100'000), Verdict::WrongToken);
  expect_refused(expect(trc20, "alice", trx_, 100'000), Verdict::WrongToken);
  // Asset 1002000 paid, another asset expected.
  expect_refused(expect(trc10, "alice", Token::parse("trc10:1002001"), 100'000),
                 Verdict::WrongToken);
  // The token transfer, but the seeder asked for another TRC-20 contract.
  Token other = Token::parse("trc20:" + key_of("dave").address().to_base58());
  expect_refused(expect(trc20, "alice", other, 100'000), Verdict::WrongToken);
}

TEST_F(PayVerifierTest, TokenCallThatIsNotATransferIsWrongToken) {
  // approve(bob, 100000) on the token: a TriggerSmartContract on the right contract, but it
  // moves nothing to the seeder.
  auto tx = tron::Transaction::transfer(trc20_, key_of("alice").address(), seeder_, 100'000,
                                        node_->timing());
  auto* contract = tx.proto().mutable_raw_data()->mutable_contract(0);
  protocol::TriggerSmartContract call;
  ASSERT_TRUE(call.ParseFromString(contract->parameter().value()));
  std::string data = call.data();
  const char approve[] = {'\x09', '\x5e', '\xa7', '\xb3'};
  data.replace(0, 4, approve, 4);
  call.set_data(data);
  call.SerializeToString(contract->mutable_parameter()->mutable_value());
  Hash32 txid = send(tx, "alice");
  seal();
  expect_refused(expect(txid, "alice", trc20_, 100'000), Verdict::WrongToken);
}

TEST_F(PayVerifierTest, UnderpaidOrOverclaimedIsWrongAmount) {
  Hash32 trx = pay("alice", seeder_, trx_, 999);
  Hash32 trc10 = pay("alice", seeder_, trc10_, 999);
  Hash32 trc20 = pay("alice", seeder_, trc20_, U256("999999999999999999999"));
  seal();
  expect_refused(expect(trx, "alice", trx_, 1000), Verdict::WrongAmount);
  expect_refused(expect(trx, "alice", trx_, 998), Verdict::WrongAmount);
  expect_refused(expect(trc10, "alice", trc10_, 1000), Verdict::WrongAmount);
  expect_refused(expect(trc20, "alice", trc20_, U256("1000000000000000000000")),
                 Verdict::WrongAmount);
  EXPECT_STREQ(reject_reason(Verdict::WrongAmount), "wrong_amount");
}

TEST_F(PayVerifierTest, TooFewConfirmationsIsUnconfirmedUntilEnough) {
  Hash32 txid = pay("alice", seeder_, trx_, 42'000);
  std::int64_t block = seal();
  ExpectedPayment e = expect(txid, "alice", trx_, 42'000);
  e.confirmations = 3;
  SettlementVerifier verifier(*node_, *ledger_);
  Verification v = verifier.verify(e);
  EXPECT_EQ(v.verdict, Verdict::Unconfirmed) << v.detail;
  EXPECT_TRUE(v.seen_by_node);
  EXPECT_TRUE(retry_later(v.verdict));
  EXPECT_EQ(v.block_number, block);
  EXPECT_TRUE(ledger_->credits().empty());
  seal();
  EXPECT_EQ(verifier.verify(e).verdict, Verdict::Unconfirmed);
  EXPECT_TRUE(ledger_->credits().empty());
  seal();  // the block, and two on top of it
  v = verifier.verify(e);
  EXPECT_EQ(v.verdict, Verdict::Credited) << v.detail;
  EXPECT_EQ(v.block_number, block);
  EXPECT_EQ(ledger_->credits().size(), 1u);
}

TEST_F(PayVerifierTest, BroadcastButNotInABlockIsUnconfirmedThenCredited) {
  Hash32 txid = pay("alice", seeder_, trc10_, 31'337);
  ExpectedPayment e = expect(txid, "alice", trc10_, 31'337);
  SettlementVerifier verifier(*node_, *ledger_);
  Verification v = verifier.verify(e);
  EXPECT_EQ(v.verdict, Verdict::Unconfirmed) << v.detail;
  EXPECT_FALSE(v.block_number.has_value());
  EXPECT_STREQ(reject_reason(v.verdict), "unconfirmed");
  EXPECT_TRUE(ledger_->credits().empty());
  seal();
  v = verifier.verify(e);
  EXPECT_EQ(v.verdict, Verdict::Credited) << v.detail;
}

TEST_F(PayVerifierTest, RevertedTokenTransferIsFailed) {
  // dave holds 100000 BTT; sending 200000 reverts in the contract but still lands in a block.
  const U256 amount("200000000000000000000000");
  Hash32 txid = pay("dave", seeder_, trc20_, amount);
  seal();
  auto info = node_->transaction_info_by_id(txid);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->contract_result, "REVERT");
  expect_refused(expect(txid, "dave", trc20_, amount), Verdict::FailedTx);
  EXPECT_STREQ(reject_reason(Verdict::FailedTx), "failed_tx");
}

TEST_F(PayVerifierTest, NodeDownIsRetriedLater) {
  Hash32 txid = pay("alice", seeder_, trx_, 10'000);
  seal();
  ExpectedPayment e = expect(txid, "alice", trx_, 10'000);
  FullNodeOptions o = client_options("http://127.0.0.1:" + std::to_string(closed_port()));
  o.timeout = 2s;
  FullNodeClient down(o);
  SettlementVerifier unreachable(down, *ledger_);
  Verification v = unreachable.verify(e);
  EXPECT_EQ(v.verdict, Verdict::NodeDown) << v.detail;
  EXPECT_NE(v.detail.find("TRANSPORT"), std::string::npos) << v.detail;
  EXPECT_TRUE(retry_later(v.verdict));
  EXPECT_TRUE(ledger_->credits().empty());
  // Once a node answers, the same settlement is credited.
  SettlementVerifier verifier(*node_, *ledger_);
  EXPECT_EQ(verifier.verify(e).verdict, Verdict::Credited);
}

// A node that forwards to the devnet but rewrites its answers to one path. A path the devnet
// answers with an error starts from {}.
class LyingNode {
 public:
  using Rewrite = std::function<void(json& answer, const json& request)>;
  LyingNode(std::shared_ptr<tron::devnet::Service> service, std::string path, Rewrite rewrite)
      : server_([service, path, rewrite](const tron::testing::SeenRequest& r) {
          auto reply = service->handle("POST", r.target, r.body);
          tron::testing::Reply out;
          out.status = static_cast<unsigned>(reply.status);
          out.body = reply.body;
          if (r.target == path) {
            json answer = reply.status == 200 ? json::parse(reply.body) : json::object();
            rewrite(answer, json::parse(r.body));
            out.status = 200;
            out.body = answer.dump();
          }
          return out;
        }) {}
  std::string url() const { return server_.url(); }

 private:
  tron::testing::TestHttpServer server_;
};

const std::string kTxPath = "/wallet/gettransactionbyid";
const std::string kInfoPath = "/wallet/gettransactioninfobyid";
const std::string kPendingPath = "/wallet/gettransactionfrompending";

TEST_F(PayVerifierTest, TransactionInTheDevnetsPendingPoolIsUnconfirmedWithoutGrace) {
  Hash32 txid = pay("alice", seeder_, trx_, 7'000);  // broadcast, not sealed
  SettlementVerifier verifier(*node_, *ledger_, VerifierOptions{0ms});
  ExpectedPayment e = expect(txid, "alice", trx_, 7'000);
  Verification v = verifier.verify(e);
  EXPECT_EQ(v.verdict, Verdict::Unconfirmed) << v.detail;
  EXPECT_NE(v.detail.find("pending"), std::string::npos) << v.detail;
  seal();
  EXPECT_EQ(verifier.verify(e).verdict, Verdict::Credited);
  // A txid the pool does not hold is unknown at once when there is no grace.
  EXPECT_EQ(verifier.verify(expect(Hash32{0x42}, "alice", trx_, 7'000)).verdict,
            Verdict::UnknownTx);
}

TEST_F(PayVerifierTest, LyingNodeCannotSwapTheSignedTransaction) {
  // The node keeps the txid but shows the raw data of a bigger payment.
  Hash32 small = pay("alice", seeder_, trx_, 1'000);
  Hash32 big = pay("alice", seeder_, trx_, 900'000'000);
  seal();
  auto big_json = node_->transaction_by_id(big);
  ASSERT_TRUE(big_json.has_value());
  LyingNode liar(service_, kTxPath, [&](json& j, const json&) {
    j["raw_data_hex"] = (*big_json)["raw_data_hex"];
    j["raw_data"] = (*big_json)["raw_data"];
  });
  FullNodeClient lying(client_options(liar.url()));
  SettlementVerifier verifier(lying, *ledger_);
  Verification v = verifier.verify(expect(small, "alice", trx_, 900'000'000));
  EXPECT_EQ(v.verdict, Verdict::NodeDown) << v.detail;
  EXPECT_NE(v.detail.find("does not hash to the txid"), std::string::npos) << v.detail;
  EXPECT_TRUE(ledger_->credits().empty());
}

TEST_F(PayVerifierTest, SignedBytesWinOverTheNodesJson) {
  Hash32 txid = pay("alice", seeder_, trx_, 1'000);
  seal();
  // The JSON claims 900 TRX; the signed raw_data_hex says 1000 sun.
  LyingNode liar(service_, kTxPath, [](json& j, const json&) {
    j["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = 900'000'000;
  });
  FullNodeClient lying(client_options(liar.url()));
  SettlementVerifier verifier(lying, *ledger_);
  expect_refused(expect(txid, "alice", trx_, 900'000'000), Verdict::WrongAmount, &lying);
  Verification v = verifier.verify(expect(txid, "alice", trx_, 1'000));
  EXPECT_EQ(v.verdict, Verdict::Credited) << v.detail;
  EXPECT_EQ(ledger_->credit(tron::to_hex(txid))->amount, U256(1'000));
}

TEST_F(PayVerifierTest, WithoutRawDataHexTheJsonMustHashToTheTxid) {
  Hash32 honest = pay("alice", seeder_, trc10_, 2'000);
  Hash32 tampered = pay("alice", seeder_, trc10_, 3'000);
  seal();
  const std::string tampered_hex = tron::to_hex(tampered);
  LyingNode liar(service_, kTxPath, [&](json& j, const json&) {
    j.erase("raw_data_hex");
    if (j["txID"] == tampered_hex) {
      j["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = 3'000'000;
    }
  });
  FullNodeClient lying(client_options(liar.url()));
  SettlementVerifier verifier(lying, *ledger_);
  Verification v = verifier.verify(expect(tampered, "alice", trc10_, 3'000'000));
  EXPECT_EQ(v.verdict, Verdict::NodeDown) << v.detail;
  EXPECT_NE(v.detail.find("raw_data"), std::string::npos) << v.detail;
  EXPECT_TRUE(ledger_->credits().empty());
  v = verifier.verify(expect(honest, "alice", trc10_, 2'000));
  EXPECT_EQ(v.verdict, Verdict::Credited) << v.detail;
}

std::string word_hex(const U256& value) {
  return tron::to_hex(tron::abi::encode_uint256(value));
}
std::string word_hex(const Address& address) {
  return tron::to_hex(tron::abi::encode_address(address));
}

TEST_F(PayVerifierTest, TokenTransferEventMustMatchTheCall) {
  Hash32 txid = pay("alice", seeder_, trc20_, 100'000);
  seal();
  ExpectedPayment e = expect(txid, "alice", trc20_, 100'000);
  {
    // The token logs less than the call asked for (as a token taking a fee would).
    LyingNode liar(service_, kInfoPath, [](json& j, const json&) {
      ASSERT_TRUE(j.contains("log"));
      j["log"][0]["data"] = word_hex(U256(99'000));
    });
    FullNodeClient lying(client_options(liar.url()));
    expect_refused(e, Verdict::WrongAmount, &lying);
  }
  {
    // The token logs a transfer to someone else.
    LyingNode liar(service_, kInfoPath, [](json& j, const json&) {
      ASSERT_TRUE(j.contains("log"));
      j["log"][0]["topics"][2] = word_hex(key_of("carol").address());
    });
    FullNodeClient lying(client_options(liar.url()));
    expect_refused(e, Verdict::WrongRecipient, &lying);
  }
  {
    // An event of another contract, or another event, is not the token's Transfer.
    LyingNode liar(service_, kInfoPath, [](json& j, const json&) {
      ASSERT_TRUE(j.contains("log"));
      json other = j["log"][0];
      other["topics"][0] = std::string(64, '1');
      json elsewhere = j["log"][0];
      elsewhere["address"] = tron::to_hex(key_of("dave").address().evm());
      elsewhere["data"] = word_hex(U256(1));
      j["log"] = json::array({other, elsewhere, j["log"][0]});
    });
    FullNodeClient lying(client_options(liar.url()));
    SettlementVerifier verifier(lying, *ledger_);
    Verification v = verifier.verify(e);
    EXPECT_EQ(v.verdict, Verdict::Credited) << v.detail;
  }
  EXPECT_EQ(ledger_->credits().size(), 1u);
}

TEST_F(PayVerifierTest, TokenTransferWithoutItsEventIsRefused) {
  Hash32 txid = pay("alice", seeder_, trc20_, 100'000);
  seal();
  ExpectedPayment e = expect(txid, "alice", trc20_, 100'000);
  {
    // No log at all.
    LyingNode liar(service_, kInfoPath, [](json& j, const json&) { j.erase("log"); });
    FullNodeClient lying(client_options(liar.url()));
    expect_refused(e, Verdict::WrongToken, &lying);
  }
  {
    // Only events that are not the token's Transfer.
    LyingNode liar(service_, kInfoPath, [](json& j, const json&) {
      ASSERT_TRUE(j.contains("log"));
      j["log"][0]["topics"][0] = std::string(64, '1');
    });
    FullNodeClient lying(client_options(liar.url()));
    expect_refused(e, Verdict::WrongToken, &lying);
  }
  EXPECT_TRUE(ledger_->credits().empty());
}

TEST_F(PayVerifierTest, TransactionInTheNodesPendingPoolIsUnconfirmed) {
  // A node with java-tron's gettransactionfrompending: a txid it holds pending is on its way,
  // even with no grace; one it does not hold is unknown at once.
  PrivateKey alice = key_of("alice");
  auto tx = tron::Transaction::transfer(trx_, alice.address(), seeder_, 5'000, node_->timing());
  tx.sign(alice);
  json pending_json = tx.to_json();
  LyingNode node(service_, kPendingPath, [&](json& j, const json& request) {
    if (request.value("value", "") == pending_json["txID"]) j = pending_json;
  });
  FullNodeClient with_pool(client_options(node.url()));
  SettlementVerifier verifier(with_pool, *ledger_, VerifierOptions{0ms});
  Verification v = verifier.verify(expect(tx.txid(), "alice", trx_, 5'000));
  EXPECT_EQ(v.verdict, Verdict::Unconfirmed) << v.detail;
  EXPECT_TRUE(v.seen_by_node);
  EXPECT_NE(v.detail.find("pending"), std::string::npos) << v.detail;
  EXPECT_EQ(verifier.verify(expect(random_txid(), "alice", trx_, 5'000)).verdict,
            Verdict::UnknownTx);
  EXPECT_TRUE(ledger_->credits().empty());
}

TEST_F(PayVerifierTest, PendingAnswerThatDoesNotHashToTheTxidIsNotBelieved) {
  PrivateKey alice = key_of("alice");
  auto tx = tron::Transaction::transfer(trx_, alice.address(), seeder_, 6'000, node_->timing());
  tx.sign(alice);
  json shown = tx.to_json();
  Hash32 forged = random_txid();
  shown["txID"] = tron::to_hex(forged);
  LyingNode node(service_, kPendingPath, [&](json& j, const json&) { j = shown; });
  FullNodeClient lying(client_options(node.url()));
  SettlementVerifier verifier(lying, *ledger_, VerifierOptions{0ms});
  EXPECT_EQ(verifier.verify(expect(forged, "alice", trx_, 6'000)).verdict, Verdict::UnknownTx);
}

TEST(PayVerdicts, EveryRefusalHasTheSpecsReason) {
  EXPECT_STREQ(reject_reason(Verdict::Credited), "");
  EXPECT_STREQ(reject_reason(Verdict::UnknownTx), "unknown_tx");
  EXPECT_STREQ(reject_reason(Verdict::FailedTx), "failed_tx");
  EXPECT_STREQ(reject_reason(Verdict::WrongSender), "wrong_sender");
  EXPECT_STREQ(reject_reason(Verdict::WrongRecipient), "wrong_recipient");
  EXPECT_STREQ(reject_reason(Verdict::WrongToken), "wrong_token");
  EXPECT_STREQ(reject_reason(Verdict::WrongAmount), "wrong_amount");
  EXPECT_STREQ(reject_reason(Verdict::Replayed), "replayed_tx");
  EXPECT_STREQ(reject_reason(Verdict::Unconfirmed), "unconfirmed");
  EXPECT_STREQ(reject_reason(Verdict::NodeDown), "unconfirmed");
  EXPECT_STREQ(to_string(Verdict::NodeDown), "node_down");
  EXPECT_FALSE(retry_later(Verdict::Credited));
  EXPECT_FALSE(retry_later(Verdict::UnknownTx));
}

}  // namespace
}  // namespace bttnode::pay
