// bttnode earnings, run as a program against a ledger written with wallet::Ledger.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/test_files.hpp"
#include "tron/abi.hpp"
#include "tron/keys.hpp"
#include "wallet/keystore.hpp"
#include "wallet/ledger.hpp"

namespace {

using test_support::TempDir;

namespace fs = std::filesystem;
using tron::U256;

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

tron::Address addr(std::uint8_t b) {
  tron::Address::Raw raw{};
  raw[0] = 0x41;
  raw[20] = b;
  return tron::Address(raw);
}

const std::string kTorrent = std::string(40, 'c');
const std::string kPeer = "2d4254303030312d";
const U256 kBig = (U256(1) << 80) + 1;  // above 2^64

std::string txid(char c) {
  return std::string(64, c);
}

using Cells = std::vector<std::string>;

// The words after `first` on the first line of `text` that starts with it (after spaces).
Cells row(const std::string& text, const std::string& first) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (word != first) continue;
    Cells cells;
    for (std::string w; words >> w;) cells.push_back(w);
    return cells;
  }
  return {};
}

class EarningsCliTest : public ::testing::Test {
 protected:
  Result run(const std::string& args) {
    const fs::path out = dir_.path() / "stdout";
    const fs::path err = dir_.path() / "stderr";
    std::string cmd = "cd " + quote(dir_.path().string()) + " && " + quote(BTTNODE_BINARY) + " " +
                      args + " </dev/null >" + quote(out.string()) + " 2>" + quote(err.string());
    int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path keystore() const { return dir_.path() / "w.json"; }

  // A keystore (cheap scrypt) and its default ledger with credits and payments.
  void prepare() {
    auto key = tron::PrivateKey::generate();
    address_ = key.address().to_base58();
    wallet::create_keystore(keystore(), key, "pw", wallet::ScryptParams{1u << 10, 8, 1});
    wallet::Ledger ledger(keystore().string() + ".ledger.db");

    wallet::Credit c;
    c.txid = txid('1');
    c.token = tron::Token::parse("trc10:1002000");
    c.from = addr(3);
    c.to = key.address();
    c.amount = 4000;
    c.block_number = 12;
    c.info_hash = kTorrent;
    c.peer = kPeer;
    c.credited_at = 1'700'000'000'000;
    ASSERT_TRUE(ledger.credit_once(c));
    c.txid = txid('2');
    c.amount = 2000;
    c.block_number = 13;
    ASSERT_TRUE(ledger.credit_once(c));

    wallet::PaymentRequest r;
    r.token = tron::Token::parse("trc20:" + addr(0x77).to_base58());
    r.from = key.address();
    r.to = addr(4);
    r.info_hash = kTorrent;
    r.peer = kPeer;
    r.debt_key = "btt_pay:" + kTorrent + ":" + kPeer + ":1";
    r.amount = kBig;
    auto id = ledger.plan(r).payment.id;
    ledger.mark_signed(id, txid('a'), {1, 2}, 1000);
    ledger.mark_broadcast(id);
    ledger.mark_confirmed(id, 20, 3'189'500);
    r.debt_key = "btt_pay:" + kTorrent + ":" + kPeer + ":2";
    r.amount = 99;
    id = ledger.plan(r).payment.id;
    ledger.mark_signed(id, txid('b'), {3, 4}, 2000);
    ledger.mark_broadcast(id);

    wallet::PaymentRequest send;
    send.token = tron::Token::parse("trx");
    send.from = key.address();
    send.to = addr(5);
    send.debt_key = "wallet-send:0123";
    send.amount = 1'500'000;
    id = ledger.plan(send).payment.id;
    ledger.mark_signed(id, txid('c'), {5}, 3000);
    ledger.mark_failed(id, wallet::fail_reason::kExpired, "expired");
  }

  TempDir dir_;
  std::string address_;
};

TEST_F(EarningsCliTest, TextShowsSumsAndTxids) {
  prepare();
  Result r = run("earnings --keystore w.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string& out = r.out;
  const std::string big = tron::abi::to_decimal(kBig);
  const std::string trc20 = "trc20:" + addr(0x77).to_base58();
  EXPECT_NE(out.find("wallet " + address_ + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ledger "), std::string::npos) << out;
  EXPECT_NE(out.find("torrent " + kTorrent + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("  peer " + kPeer + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nother\n"), std::string::npos) << out;
  // Totals table rows: token, earned, spent, fees TRX, pending, failed.
  EXPECT_EQ(row(out, "trc10:1002000"), (Cells{"6000", "0", "0", "0", "0"})) << out;
  EXPECT_EQ(row(out, trc20), (Cells{"0", big, "3.1895", "99", "0"})) << out;
  EXPECT_EQ(row(out, "trx"), (Cells{"0", "0", "0", "0", "1"})) << out;
  EXPECT_NE(out.find("pending " + trc20 + ": 1 broadcast (99)"), std::string::npos) << out;
  // Every txid with what it moved.
  Cells credit = row(out, txid('1'));
  ASSERT_EQ(credit.size(), 5u) << out;
  EXPECT_EQ(credit[0], "4000");
  EXPECT_EQ(credit[1], "trc10:1002000");
  EXPECT_EQ(credit[2], addr(3).to_base58());
  EXPECT_EQ(credit[3], "12");
  EXPECT_EQ(credit[4], "2023-11-14T22:13:20Z");
  EXPECT_EQ(row(out, txid('2')).at(0), "2000") << out;
  EXPECT_EQ(row(out, txid('a')), (Cells{big, trc20, addr(4).to_base58(), "confirmed", "20",
                                        "3189500", "btt_pay:" + kTorrent + ":" + kPeer + ":1"}))
      << out;
  EXPECT_EQ(row(out, txid('b')), (Cells{"99", trc20, addr(4).to_base58(), "broadcast", "-", "-",
                                        "btt_pay:" + kTorrent + ":" + kPeer + ":2"}))
      << out;
  EXPECT_EQ(row(out, txid('c')), (Cells{"1500000", "trx", addr(5).to_base58(), "failed:expired",
                                        "-", "-", "wallet-send:0123"}))
      << out;
}

TEST_F(EarningsCliTest, JsonHasTheSums) {
  prepare();
  Result r = run("earnings --keystore w.json --json");
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);  // throws, failing the test, if not JSON
  const std::string trc20 = "trc20:" + addr(0x77).to_base58();
  EXPECT_EQ(j["address"], address_);
  EXPECT_EQ(j["totals"]["trc10:1002000"]["earned"], "6000");
  EXPECT_EQ(j["totals"][trc20]["spent"], tron::abi::to_decimal(kBig));
  EXPECT_EQ(j["totals"][trc20]["pending"], "99");
  EXPECT_EQ(j["totals"][trc20]["pending_by_state"]["broadcast"]["count"], 1);
  EXPECT_EQ(j["totals"]["trx"]["failed"], 1);
  EXPECT_EQ(j["totals"]["trx"]["spent"], "0");
  EXPECT_EQ(j["totals"][trc20]["fees_sun"], "3189500");
  EXPECT_EQ(j["totals"][trc20]["fees_trx"], "3.1895");
  EXPECT_EQ(j["totals"][trc20]["fees_unknown"], 0);
  EXPECT_EQ(j["totals"]["trx"]["fees_sun"], "0");
  EXPECT_EQ(j["torrents"][0]["totals"][trc20]["fees_sun"], "3189500");
  EXPECT_EQ(j["torrents"][0]["peers"][0]["payments"][0]["fee_sun"], 3189500);
  EXPECT_TRUE(j["torrents"][0]["peers"][0]["payments"][1]["fee_sun"].is_null());
  ASSERT_EQ(j["torrents"].size(), 2u);
  EXPECT_EQ(j["torrents"][0]["info_hash"], kTorrent);
  EXPECT_EQ(j["torrents"][0]["peers"][0]["peer"], kPeer);
  EXPECT_EQ(j["torrents"][0]["peers"][0]["credits"].size(), 2u);
  EXPECT_EQ(j["torrents"][0]["peers"][0]["payments"][0]["txid"], txid('a'));
  EXPECT_TRUE(j["torrents"][1]["info_hash"].is_null());
  EXPECT_EQ(j["torrents"][1]["peers"][0]["payments"][0]["debt_key"], "wallet-send:0123");
}

TEST_F(EarningsCliTest, TokenFilterAndExplicitLedger) {
  prepare();
  fs::rename(keystore().string() + ".ledger.db", dir_.path() / "moved.db");
  Result r = run("earnings --keystore w.json --ledger moved.db --json --token trx");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["totals"].size(), 1u);
  EXPECT_EQ(j["totals"]["trx"]["failed"], 1);
  ASSERT_EQ(j["torrents"].size(), 1u);
  EXPECT_TRUE(j["torrents"][0]["info_hash"].is_null());

  // Tokens by name: bttold everywhere, btt per --network (mainnet by default).
  Result old = run("earnings --keystore w.json --ledger moved.db --json --token bttold");
  ASSERT_EQ(old.code, 0) << old.err;
  auto jo = nlohmann::json::parse(old.out);
  EXPECT_EQ(jo["token_filter"], "trc10:1002000");
  EXPECT_EQ(jo["totals"]["trc10:1002000"]["earned"], "6000");
  Result btt = run("earnings --keystore w.json --ledger moved.db --json --token btt");
  ASSERT_EQ(btt.code, 0) << btt.err;
  EXPECT_EQ(nlohmann::json::parse(btt.out)["token_filter"],
            "trc20:TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4");
  Result nile = run("earnings --keystore w.json --ledger moved.db --token btt --network nile");
  EXPECT_EQ(nile.code, 2);
  EXPECT_NE(nile.err.find("Nile"), std::string::npos) << nile.err;

  Result bad = run("earnings --keystore w.json --ledger moved.db --token nope");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--token"), std::string::npos) << bad.err;
}

TEST_F(EarningsCliTest, MissingLedgerIsAClearError) {
  prepare();
  fs::remove(keystore().string() + ".ledger.db");
  Result r = run("earnings --keystore w.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("no ledger at w.json.ledger.db"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  // Nothing is created by looking.
  EXPECT_FALSE(fs::exists(keystore().string() + ".ledger.db"));

  Result other = run("earnings --keystore w.json --ledger nowhere.db --json");
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.out, "");
  EXPECT_NE(other.err.find("no ledger at nowhere.db"), std::string::npos) << other.err;

  // A file that is not a ledger is an error naming it, and is left as it was.
  const std::string junk(4096, 'x');
  std::ofstream(dir_.path() / "junk.db") << junk;
  Result bad = run("earnings --ledger junk.db");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("cannot read the ledger junk.db"), std::string::npos) << bad.err;
  EXPECT_EQ(slurp(dir_.path() / "junk.db"), junk);
}

TEST_F(EarningsCliTest, EmptyLedgerAndUsage) {
  prepare();
  fs::remove(keystore().string() + ".ledger.db");
  { wallet::Ledger empty(keystore().string() + ".ledger.db"); }
  Result r = run("earnings --keystore w.json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("no payments or credits"), std::string::npos) << r.out;

  Result none = run("earnings");
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("--keystore"), std::string::npos) << none.err;
  Result unknown = run("earnings --keystore w.json --node http://x");
  EXPECT_EQ(unknown.code, 2);
  Result help = run("earnings --help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("Usage: bttnode earnings"), std::string::npos);
}

}  // namespace
