// The devnet ledger without sockets: block ids, fees, java-tron's check order, state files.
#include <gtest/gtest.h>

#include <filesystem>

#include "devnet_test_util.hpp"
#include "tron/devnet/block_id.hpp"
#include "tron/devnet/resource.hpp"
#include "tron/devnet/state_file.hpp"

namespace tron::devnet {
namespace {

using namespace testing;
using protocol::Return;

constexpr std::int64_t kT0 = 1'800'000'000'000;

Chain new_chain() {
  Chain c(test_genesis());
  c.seal(kT0);  // block 1, so transactions reference a fresh block
  return c;
}

TEST(DevnetBlockId, NumberThenHashTail) {
  protocol::BlockHeader::raw raw;
  raw.set_number(0x0102030405LL);
  raw.set_timestamp(kT0);
  raw.set_parenthash(std::string(32, '\x11'));
  Hash32 id = block_id(raw);
  Hash32 digest = sha256(as_bytes(raw.SerializeAsString()));
  EXPECT_EQ(to_hex(std::span(id).first(8)), "0000000102030405");
  EXPECT_TRUE(std::equal(id.begin() + 8, id.end(), digest.begin() + 8));
  EXPECT_EQ(block_number_of(id), 0x0102030405LL);
}

TEST(DevnetBlockId, TxTrieRootIsAMerkleTreeOfTransactionHashes) {
  EXPECT_EQ(tx_trie_root({}), Hash32{});
  std::vector<protocol::Transaction> txs(3);
  for (int i = 0; i < 3; ++i) txs[i].mutable_raw_data()->set_timestamp(i + 1);
  auto leaf = [&](int i) { return sha256(as_bytes(txs[i].SerializeAsString())); };
  auto pair = [](const Hash32& a, const Hash32& b) {
    Bytes both(a.begin(), a.end());
    both.insert(both.end(), b.begin(), b.end());
    return sha256(both);
  };
  EXPECT_EQ(tx_trie_root({txs[0]}), leaf(0));
  EXPECT_EQ(tx_trie_root({txs[0], txs[1]}), pair(leaf(0), leaf(1)));
  EXPECT_EQ(tx_trie_root(txs), pair(pair(leaf(0), leaf(1)), leaf(2)));
}

TEST(DevnetBlockId, SealedBlocksChainAndAreSigned) {
  Chain chain = new_chain();
  const auto& b2 = chain.seal(kT0 + 3000);
  const auto& header = b2.block_header().raw_data();
  EXPECT_EQ(header.number(), 2);
  EXPECT_EQ(header.timestamp(), kT0 + 3000);
  Hash32 parent = chain.block_id(1);
  EXPECT_EQ(header.parenthash(), std::string(parent.begin(), parent.end()));
  EXPECT_EQ(chain.block_id(2), block_id(header));
  auto signer = recover_signer(sha256(as_bytes(header.SerializeAsString())),
                               as_bytes(b2.block_header().witness_signature()));
  ASSERT_TRUE(signer.has_value());
  EXPECT_EQ(header.witness_address(), testing::raw(*signer));
  // A clock that went backwards still yields increasing timestamps.
  EXPECT_GT(chain.seal(kT0).block_header().raw_data().timestamp(), kT0 + 3000);
}

TEST(DevnetFees, UsageDecaysLinearlyOverTheDay) {
  EXPECT_EQ(increase_usage(0, 300, 0, 0), 300);
  EXPECT_EQ(increase_usage(600, 0, 0, kWindowSlots / 2), 300);
  EXPECT_EQ(increase_usage(600, 0, 0, kWindowSlots), 0);
  EXPECT_EQ(increase_usage(600, 100, 10, 10), 700);
}

TEST(DevnetFees, BandwidthIsSizeWithoutRetPlus64PerContract) {
  Chain chain = new_chain();
  auto tx = trx_transfer(chain, key_of("alice"), key_of("bob").address(), 1);
  const std::int64_t size = static_cast<std::int64_t>(tx.ByteSizeLong());
  EXPECT_EQ(bandwidth_bytes(tx), size + 64);
  tx.add_ret()->set_contractret(protocol::Transaction::Result::SUCCESS);
  EXPECT_EQ(bandwidth_bytes(tx), size + 64);
}

TEST(DevnetFees, FreeBandwidthFirstThenBurnAtTheTransactionFee) {
  Chain chain = new_chain();
  auto alice = key_of("alice");
  const Address bob = key_of("bob").address();
  std::int64_t balance = chain.state().find(alice.address())->balance;
  std::int64_t used = 0;
  for (int i = 1; i <= 3; ++i) {
    auto tx = trx_transfer(chain, alice, bob, i);
    const std::int64_t bytes = bandwidth_bytes(tx);
    ASSERT_TRUE(chain.broadcast(tx).ok());
    chain.seal(kT0 + 10 * i);
    const auto* info = chain.find_info(transaction_id(tx));
    ASSERT_NE(info, nullptr);
    if (used + bytes <= chain.params().free_net_limit) {
      used += bytes;
      EXPECT_EQ(info->receipt().net_usage(), bytes);
      EXPECT_EQ(info->fee(), 0);
      balance -= i;
    } else {
      EXPECT_EQ(info->receipt().net_fee(), bytes * chain.params().transaction_fee);
      EXPECT_EQ(info->fee(), bytes * 1000);
      balance -= i + bytes * 1000;
    }
    EXPECT_EQ(chain.state().find(alice.address())->balance, balance);
  }
  EXPECT_LT(chain.state().find(alice.address())->balance,
            chain.genesis().state.find(alice.address())->balance - 6);  // the third one burnt
}

TEST(DevnetFees, NewAccountCostsCreationAndSystemContractFees) {
  Chain chain = new_chain();
  auto alice = key_of("alice");
  const Address to = fresh_address();
  const std::int64_t before = chain.state().find(alice.address())->balance;
  auto tx = trx_transfer(chain, alice, to, 5);
  ASSERT_TRUE(chain.broadcast(tx).ok());
  EXPECT_EQ(chain.state().find(alice.address())->balance, before - 5 - 100'000 - 1'000'000);
  EXPECT_EQ(chain.state().find(to)->balance, 5);
  chain.seal(kT0 + 1);
  EXPECT_EQ(chain.find_info(transaction_id(tx))->fee(), 1'100'000);
}

TEST(DevnetFees, Trc20EnergyUnderFeeLimitAndOutOfEnergy) {
  Chain chain = new_chain();
  auto alice = key_of("alice");
  const Address bob = key_of("bob").address();
  const Address fresh = fresh_address();
  const U256 alice_tokens = chain.state().token.balance_of(alice.address());

  auto to_holder = trc20_transfer(chain, alice, bob, 10);
  auto to_new = trc20_transfer(chain, alice, fresh, 10);
  auto starved = trc20_transfer(chain, alice, bob, 10, 1'000'000);  // 10,000 energy
  for (auto* tx : {&to_holder, &to_new, &starved}) ASSERT_TRUE(chain.broadcast(*tx).ok());
  chain.seal(kT0 + 1);
  const auto* a = chain.find_info(transaction_id(to_holder));
  EXPECT_EQ(a->receipt().energy_usage_total(), kTransferEnergy);
  EXPECT_EQ(a->receipt().energy_fee(), kTransferEnergy * 100);
  EXPECT_EQ(a->receipt().result(), protocol::Transaction::Result::SUCCESS);
  ASSERT_EQ(a->log_size(), 1);
  EXPECT_EQ(to_hex(as_bytes(a->log(0).topics(0))),
            "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef");
  const auto* b = chain.find_info(transaction_id(to_new));
  EXPECT_EQ(b->receipt().energy_usage_total(), kTransferNewHolderEnergy);
  const auto* c = chain.find_info(transaction_id(starved));
  EXPECT_EQ(c->receipt().result(), protocol::Transaction::Result::OUT_OF_ENERGY);
  EXPECT_EQ(c->result(), protocol::TransactionInfo::FAILED);
  EXPECT_EQ(c->receipt().energy_fee(), 1'000'000);
  EXPECT_EQ(c->log_size(), 0);
  EXPECT_EQ(chain.state().token.balance_of(alice.address()), alice_tokens - 20);
  EXPECT_EQ(chain.state().token.balance_of(fresh), 10);
}

TEST(DevnetFees, Trc20RevertCarriesTheReason) {
  Chain chain = new_chain();
  auto carol = key_of("carol");
  const U256 held = chain.state().token.balance_of(carol.address());
  auto tx = trc20_transfer(chain, carol, key_of("bob").address(), held + 1);
  ASSERT_TRUE(chain.broadcast(tx).ok());
  chain.seal(kT0 + 1);
  const auto* info = chain.find_info(transaction_id(tx));
  EXPECT_EQ(info->receipt().result(), protocol::Transaction::Result::REVERT);
  EXPECT_EQ(info->contractresult(0), [] {
    Bytes r = revert_reason("ERC20: transfer amount exceeds balance");
    return std::string(r.begin(), r.end());
  }());
  EXPECT_EQ(chain.state().token.balance_of(carol.address()), held);
}

// Each case breaks two rules; java-tron reports the one it checks first.
TEST(DevnetValidation, JavaTronOrder) {
  Chain chain = new_chain();
  auto alice = key_of("alice");
  auto bob = key_of("bob");

  auto bad_sig_and_tapos = trx_transfer(chain, alice, bob.address(), 1);
  bad_sig_and_tapos.clear_signature();
  bad_sig_and_tapos.mutable_raw_data()->set_ref_block_hash(std::string(8, '\x7f'));
  sign(bad_sig_and_tapos, bob);
  auto r = chain.broadcast(bad_sig_and_tapos);
  EXPECT_EQ(r.code, Return::SIGERROR);
  EXPECT_TRUE(r.message.starts_with("validate signature error ")) << r.message;

  auto bad_tapos_and_expired = trx_transfer(chain, alice, bob.address(), 2);
  bad_tapos_and_expired.clear_signature();
  bad_tapos_and_expired.mutable_raw_data()->set_ref_block_hash(std::string(8, '\x7f'));
  bad_tapos_and_expired.mutable_raw_data()->set_expiration(1);
  sign(bad_tapos_and_expired, alice);
  r = chain.broadcast(bad_tapos_and_expired);
  EXPECT_EQ(r.code, Return::TAPOS_ERROR);
  EXPECT_EQ(r.message, "Tapos check error");

  auto expired_and_broke = trx_transfer(chain, alice, bob.address(), 1'000'000'000'000'000);
  expired_and_broke.clear_signature();
  expired_and_broke.mutable_raw_data()->set_expiration(chain.head_timestamp());
  sign(expired_and_broke, alice);
  r = chain.broadcast(expired_and_broke);
  EXPECT_EQ(r.code, Return::TRANSACTION_EXPIRATION_ERROR);
  EXPECT_EQ(r.message, "transaction expired");

  auto too_far = trx_transfer(chain, alice, bob.address(), 3);
  too_far.clear_signature();
  too_far.mutable_raw_data()->set_expiration(chain.head_timestamp() + kMaxTimeUntilExpirationMs +
                                             1);
  sign(too_far, alice);
  EXPECT_EQ(chain.broadcast(too_far).code, Return::TRANSACTION_EXPIRATION_ERROR);

  // A poor account sending more than it has to a new account: bandwidth (the creation fee) is
  // charged before the transfer actuator validates the amount.
  auto poor = PrivateKey::generate();
  ASSERT_TRUE(chain.broadcast(trx_transfer(chain, alice, poor.address(), 50'000)).ok());
  r = chain.broadcast(trx_transfer(chain, poor, fresh_address(), 1'000'000));
  EXPECT_EQ(r.code, Return::BANDWITH_ERROR);
  EXPECT_EQ(r.message, "AccountResourceInsufficient error");
  // To an existing account the free bandwidth pays, and the actuator refuses the amount.
  r = chain.broadcast(trx_transfer(chain, poor, bob.address(), 1'000'000));
  EXPECT_EQ(r.code, Return::CONTRACT_VALIDATE_ERROR);
  EXPECT_EQ(
      r.message,
      "contract validate error : Validate TransferContract error, balance is not sufficient.");

  r = chain.broadcast(trx_transfer(chain, alice, alice.address(), 1));
  EXPECT_EQ(r.message, "contract validate error : Cannot transfer TRX to yourself.");
  r = chain.broadcast(trc10_transfer(chain, alice, bob.address(), 1, "1000001"));
  EXPECT_EQ(r.message, "contract validate error : asset does not exist");
  r = chain.broadcast(trc10_transfer(chain, poor, bob.address(), 1));
  EXPECT_EQ(r.message, "contract validate error : Owner has no asset!");
  r = chain.broadcast(trc10_transfer(chain, alice, bob.address(), 2'000'000'000'000));
  EXPECT_EQ(r.message, "contract validate error : assetBalance is not sufficient.");
  r = chain.broadcast(trx_transfer(chain, PrivateKey::generate(), bob.address(), 1));
  EXPECT_EQ(r.code, Return::CONTRACT_VALIDATE_ERROR);
  EXPECT_TRUE(r.message.ends_with("] does not exist")) << r.message;
}

TEST(DevnetValidation, DuplicatesAndTheBroadcastCache) {
  Chain chain = new_chain();
  auto alice = key_of("alice");
  auto tx = trx_transfer(chain, alice, key_of("bob").address(), 9);
  ASSERT_TRUE(chain.broadcast(tx).ok());
  auto again = chain.broadcast(tx);
  EXPECT_EQ(again.code, Return::DUP_TRANSACTION_ERROR);
  EXPECT_EQ(again.message, "dup transaction");
  // A transaction refused is not remembered (java-tron keeps no txid cache by default): the
  // same raw data, now signed by its owner, is accepted; after its block it is a duplicate.
  auto tx2 = trx_transfer(chain, alice, key_of("bob").address(), 10);
  auto unsigned_tx = tx2;
  unsigned_tx.clear_signature();
  auto wrong_key = unsigned_tx;
  sign(wrong_key, key_of("carol"));
  EXPECT_EQ(chain.broadcast(unsigned_tx).code, Return::SIGERROR);
  EXPECT_EQ(chain.broadcast(unsigned_tx).code, Return::SIGERROR);
  EXPECT_EQ(chain.broadcast(wrong_key).code, Return::SIGERROR);
  auto accepted = chain.broadcast(tx2);
  EXPECT_TRUE(accepted.ok()) << accepted.message;
  EXPECT_EQ(accepted.txid, transaction_id(unsigned_tx));
  chain.seal(kT0 + 5);
  auto mined = chain.broadcast(tx2);
  EXPECT_EQ(mined.code, Return::DUP_TRANSACTION_ERROR);
  // Refused for a contract check, then sent again once the owner can pay: accepted too.
  auto poor = PrivateKey::generate();
  ASSERT_TRUE(chain.broadcast(trx_transfer(chain, alice, poor.address(), 1'000'000)).ok());
  chain.seal(kT0 + 6);
  auto big = trx_transfer(chain, poor, key_of("bob").address(), 5'000'000);
  EXPECT_EQ(chain.broadcast(big).code, Return::CONTRACT_VALIDATE_ERROR);
  ASSERT_TRUE(chain.broadcast(trx_transfer(chain, alice, poor.address(), 9'000'000)).ok());
  EXPECT_TRUE(chain.broadcast(big).ok());
}

TEST(DevnetValidation, TransactionsAreFoundOnlyOnceInABlock) {
  Chain chain = new_chain();
  auto tx = trx_transfer(chain, key_of("alice"), key_of("bob").address(), 11);
  ASSERT_TRUE(chain.broadcast(tx).ok());
  EXPECT_EQ(chain.find_transaction(transaction_id(tx)), nullptr);
  EXPECT_EQ(chain.find_info(transaction_id(tx)), nullptr);
  chain.seal(kT0 + 1);
  const auto* found = chain.find_transaction(transaction_id(tx));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->ret(0).contractret(), protocol::Transaction::Result::SUCCESS);
  EXPECT_EQ(chain.find_info(transaction_id(tx))->blocknumber(), chain.head_number());
  // TAPOS still accepts a reference to an older block among the last 65,536.
  auto old_ref = trx_transfer(chain, key_of("alice"), key_of("bob").address(), 12);
  for (int i = 0; i < 5; ++i) chain.seal(kT0 + 10 + i);
  EXPECT_TRUE(chain.broadcast(old_ref).ok());
}

TEST(DevnetState, SaveAndLoadKeepBalancesAndChain) {
  Chain chain = new_chain();
  auto alice = key_of("alice");
  const Address to = fresh_address();
  auto t1 = trx_transfer(chain, alice, to, 3'000'000);
  auto t2 = trc20_transfer(chain, alice, to, 77);
  ASSERT_TRUE(chain.broadcast(t1).ok());
  ASSERT_TRUE(chain.broadcast(t2).ok());
  chain.seal(kT0 + 5);
  const std::string saved = chain.to_state_json().dump();

  auto dir = std::filesystem::temp_directory_path() / ("devnet-state-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "state.json").string();
  write_file_atomically(path, saved);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  auto text = read_file_if_exists(path);
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  Chain loaded = Chain::from_state_json(test_genesis(), nlohmann::json::parse(*text));
  EXPECT_EQ(loaded.head_number(), chain.head_number());
  EXPECT_EQ(loaded.block_id(loaded.head_number()), chain.block_id(chain.head_number()));
  EXPECT_EQ(loaded.state().find(to)->balance, 3'000'000);
  EXPECT_EQ(loaded.state().token.balance_of(to), 77);
  EXPECT_EQ(loaded.state(true).find(alice.address())->balance,
            chain.state().find(alice.address())->balance);
  ASSERT_NE(loaded.find_info(transaction_id(t2)), nullptr);
  EXPECT_EQ(loaded.find_info(transaction_id(t2))->log_size(), 1);
  // The chain goes on after a restart, and what was sent stays a duplicate.
  EXPECT_EQ(loaded.broadcast(t1).code, Return::DUP_TRANSACTION_ERROR);
  EXPECT_TRUE(loaded.broadcast(trx_transfer(loaded, alice, to, 1)).ok());
  EXPECT_EQ(loaded.seal(kT0 + 9).block_header().raw_data().number(), chain.head_number() + 1);

  // Another genesis, or a damaged file, is refused.
  nlohmann::json other = nlohmann::json::parse(saved);
  other["genesis"] = "00";
  EXPECT_THROW(Chain::from_state_json(test_genesis(), other), std::invalid_argument);
  nlohmann::json damaged = nlohmann::json::parse(saved);
  damaged["blocks"][1] = "00ff";
  EXPECT_THROW(Chain::from_state_json(test_genesis(), damaged), std::invalid_argument);
  std::filesystem::remove_all(dir);
}

TEST(DevnetGenesis, RejectsBadFiles) {
  std::ifstream in(kGenesisPath);
  nlohmann::json g = nlohmann::json::parse(in);
  EXPECT_NO_THROW(Genesis::from_json(g));
  auto broken = g;
  broken["chain_parameters"]["getEnergyFeeTypo"] = 1;
  EXPECT_THROW(Genesis::from_json(broken), std::invalid_argument);
  broken = g;
  broken["accounts"][1]["private_key"] = g["accounts"][2]["private_key"];
  EXPECT_THROW(Genesis::from_json(broken), std::invalid_argument);
  broken = g;
  broken["trc20"]["total_supply"] = "1";
  EXPECT_THROW(Genesis::from_json(broken), std::invalid_argument);
}

}  // namespace
}  // namespace tron::devnet
