#pragma once
// A chain for executor tests, kept in its own SQLite file so that it outlives a process that
// is killed mid-payment: the child of fork() broadcasts into it, the parent inspects it.
// Broadcast parses and verifies the signed TRX transfer (owner signature, expiration,
// duplicates) and normally puts it in the next block at once. It can also be told to take
// transactions without ever landing them (a lost mempool), and its clock moves only when
// the test says.
#include <map>
#include <string>

#include "tron/keys.hpp"
#include "tron/proto/contract.pb.h"
#include "tron/proto/tron.pb.h"
#include "wallet/chain.hpp"
#include "wallet/sqlite.hpp"

namespace wallet_test {

class FakeChain : public wallet::Chain {
 public:
  explicit FakeChain(const std::string& path) : db_(path) {
    db_.exec(
        "CREATE TABLE IF NOT EXISTS txs(txid TEXT PRIMARY KEY, to_addr TEXT, amount INTEGER, "
        "block INTEGER, broadcasts INTEGER NOT NULL DEFAULT 1);"
        "CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER);"
        "INSERT OR IGNORE INTO meta VALUES('head_time', 1700000000000), ('head_block', 100), "
        "('drop', 0), ('balance', 1000000000000), ('fee', 0);");
  }

  // --- what the test controls and inspects
  void set_drop(bool drop) { set("drop", drop ? 1 : 0); }
  void set_balance(std::int64_t sun) { set("balance", sun); }
  // What gettransactioninfobyid says a landed transaction burned.
  void set_fee(std::int64_t sun) { set("fee", sun); }
  void advance_time(std::int64_t ms) { set("head_time", get("head_time") + ms); }
  // Transactions in blocks, and the sum they paid to an address.
  int landed() {
    wallet::Statement s(db_, "SELECT COUNT(*) FROM txs WHERE block IS NOT NULL");
    s.step();
    return static_cast<int>(s.int64(0));
  }
  std::int64_t landed_to(const tron::Address& to) {
    wallet::Statement s(db_,
                        "SELECT COALESCE(SUM(amount),0) FROM txs WHERE block IS NOT NULL AND "
                        "to_addr = ?1");
    s.bind(1, std::string_view(to.to_base58()));
    s.step();
    return s.int64(0);
  }
  int broadcasts(const std::string& txid) {
    wallet::Statement s(db_, "SELECT broadcasts FROM txs WHERE txid = ?1");
    s.bind(1, std::string_view(txid));
    return s.step() ? static_cast<int>(s.int64(0)) : 0;
  }
  int known() {
    wallet::Statement s(db_, "SELECT COUNT(*) FROM txs");
    s.step();
    return static_cast<int>(s.int64(0));
  }

  // --- Chain
  tron::TxTiming timing() override {
    tron::TxTiming t;
    std::int64_t block = get("head_block");
    t.ref_block_bytes = {static_cast<std::uint8_t>(block >> 8), static_cast<std::uint8_t>(block)};
    t.ref_block_hash = tron::Bytes(8, 0xab);
    t.timestamp = get("head_time");
    t.expiration = t.timestamp + 60'000;
    return t;
  }
  std::int64_t head_block_time() override { return get("head_time"); }

  wallet::BroadcastOutcome broadcast(const tron::Bytes& signed_tx) override {
    protocol::Transaction tx;
    if (!tx.ParseFromArray(signed_tx.data(), static_cast<int>(signed_tx.size())) ||
        tx.raw_data().contract_size() != 1 || tx.signature_size() != 1) {
      return {false, "OTHER_ERROR", "malformed"};
    }
    std::string raw = tx.raw_data().SerializeAsString();
    std::string txid = tron::to_hex(tron::sha256(tron::as_bytes(raw)));
    protocol::TransferContract c;
    if (!tx.raw_data().contract(0).parameter().UnpackTo(&c)) {
      return {false, "CONTRACT_VALIDATE_ERROR", "not a TRX transfer"};
    }
    auto signer =
        tron::recover_signer(tron::sha256(tron::as_bytes(raw)), tron::as_bytes(tx.signature(0)));
    auto owner = tron::Address::from_bytes(tron::as_bytes(c.owner_address()));
    auto to = tron::Address::from_bytes(tron::as_bytes(c.to_address()));
    if (!signer || !owner || *signer != *owner || !to) return {false, "SIGERROR", "bad signature"};
    wallet::Statement dup(db_, "UPDATE txs SET broadcasts = broadcasts + 1 WHERE txid = ?1");
    dup.bind(1, std::string_view(txid));
    dup.run();
    if (db_.changes() == 1) return {false, wallet::kDuplicateCode, "dup transaction"};
    if (tx.raw_data().expiration() <= get("head_time")) {
      return {false, "TRANSACTION_EXPIRATION_ERROR", "expired"};
    }
    std::optional<std::int64_t> block;
    if (!get("drop")) {
      block = get("head_block") + 1;
      set("head_block", *block);
    }
    wallet::Statement ins(db_, "INSERT INTO txs(txid, to_addr, amount, block) VALUES(?1,?2,?3,?4)");
    ins.bind(1, std::string_view(txid))
        .bind(2, std::string_view(to->to_base58()))
        .bind(3, c.amount())
        .bind(4, block);
    ins.run();
    return {true, "SUCCESS", ""};
  }

  std::optional<wallet::TxStatus> lookup(const tron::Hash32& txid) override {
    wallet::Statement s(db_, "SELECT block FROM txs WHERE txid = ?1 AND block IS NOT NULL");
    s.bind(1, std::string_view(tron::to_hex(txid)));
    if (!s.step()) return std::nullopt;
    return wallet::TxStatus{s.int64(0), true, "SUCCESS", get("fee")};
  }

  // A negative stored balance stands for "more than anything".
  tron::U256 balance(const tron::Address&, const tron::Token&) override {
    std::int64_t v = get("balance");
    return v < 0 ? tron::U256(1) << 200 : tron::U256(v);
  }

 private:
  std::int64_t get(const char* key) {
    wallet::Statement s(db_, "SELECT v FROM meta WHERE k = ?1");
    s.bind(1, std::string_view(key));
    s.step();
    return s.int64(0);
  }
  void set(const char* key, std::int64_t v) {
    wallet::Statement s(db_, "UPDATE meta SET v = ?2 WHERE k = ?1");
    s.bind(1, std::string_view(key)).bind(2, v);
    s.run();
  }

  wallet::Db db_;
};

}  // namespace wallet_test
