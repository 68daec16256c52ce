// `bttnode wallet` end to end against a real `bttnode devnet` process: import, create,
// address, balance, send of all three token kinds, and sends killed after each payment step
// then run again, with the chain's own balances as the judge.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_files.hpp"
#include "tron/fullnode_client.hpp"
#include "wallet/ledger.hpp"

namespace {

namespace fs = std::filesystem;

struct Result {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

const std::string kGenesisPath = std::string(BTTNODE_SOURCE_DIR) + "/configs/devnet-genesis.json";
const char* kTrc10 = "1002000";

class WalletDevnet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test_support::TempDir();
    auto genesis = nlohmann::json::parse(slurp(kGenesisPath));
    for (const auto& a : genesis["accounts"]) {
      if (a["name"] == "alice") alice_key_ = a["private_key"].get<std::string>();
    }
    trc20_ = genesis["trc20"]["contract_address"].get<std::string>();
    auto log = (*dir_) / "devnet.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      std::freopen(log.c_str(), "w", stdout);
      std::freopen((log.string() + ".err").c_str(), "w", stderr);
      ::execl(BTTNODE_BINARY, BTTNODE_BINARY, "devnet", "--listen", "127.0.0.1:0", "--genesis",
              kGenesisPath.c_str(), "--block-ms", "500", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::regex re("devnet listening on (http://[0-9.]+:[0-9]+)");
    for (int i = 0; i < 600 && url_.empty(); ++i) {
      std::smatch m;
      std::string text = slurp(log);
      if (std::regex_search(text, m, re))
        url_ = m[1];
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
    }
    delete dir_;
  }

  void SetUp() override {
    ASSERT_FALSE(url_.empty()) << "devnet did not start: " << slurp((*dir_) / "devnet.log.err");
  }

  // Runs bttnode with BTTNODE_PASSWORD set, stdin from `input`.
  static Result run(const std::string& args, const std::string& input = "",
                    const std::string& env = "") {
    static int n = 0;
    auto base = (*dir_) / ("cmd" + std::to_string(n++));
    std::ofstream(base.string() + ".in") << input;
    std::string cmd = "cd " + quote(dir_->path().string()) + " && BTTNODE_PASSWORD=pw " + env +
                      " " + quote(BTTNODE_BINARY) + " " + args + " <" +
                      quote(base.string() + ".in") + " >" + quote(base.string() + ".out") + " 2>" +
                      quote(base.string() + ".err");
    int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(base.string() + ".out");
    r.err = slurp(base.string() + ".err");
    return r;
  }

  // Alice's funded genesis key in a keystore, made once.
  static std::string alice_keystore() {
    static bool made = false;
    if (!made) {
      Result r = run("wallet import --keystore alice.json", alice_key_ + "\n");
      EXPECT_EQ(r.code, 0) << r.err;
      made = true;
    }
    return "alice.json";
  }

  static std::int64_t trx_of(const tron::Address& a) {
    tron::FullNodeOptions options;
    options.url = url_;
    tron::FullNodeClient client(options);
    return client.account(a).trx;
  }

  static inline test_support::TempDir* dir_ = nullptr;
  static inline pid_t pid_ = -1;
  static inline std::string url_;
  static inline std::string alice_key_;
  static inline std::string trc20_;
};

const std::regex kTxid("^[0-9a-f]{64}\n");

TEST_F(WalletDevnet, CreateImportAddressBalanceSend) {
  Result created = run("wallet create --keystore fresh.json");
  ASSERT_EQ(created.code, 0) << created.err;
  std::string fresh = created.out.substr(0, created.out.find('\n'));
  ASSERT_TRUE(tron::Address::parse(fresh)) << created.out;
  Result addr = run("wallet address --keystore fresh.json");
  EXPECT_EQ(addr.out, fresh + "\n");
  // Creating over an existing keystore is refused and leaves it alone.
  Result again = run("wallet create --keystore fresh.json");
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  EXPECT_EQ(run("wallet address --keystore fresh.json").out, fresh + "\n");

  const std::string alice = alice_keystore();
  EXPECT_EQ(run("wallet address --keystore " + alice).out, "TYjaKKV4asba9j5JwoEKe4ZdZWieGrQLs8\n");

  struct Send {
    std::string token;
    std::string amount;
  };
  const Send sends[] = {{"trx", "2500000"},
                        {std::string("trc10:") + kTrc10, "700"},
                        {"trc20:" + trc20_, "123456789012345678901"}};
  for (const Send& s : sends) {
    SCOPED_TRACE(s.token);
    Result r = run("wallet send --keystore " + alice + " --node " + url_ + " --to " + fresh +
                   " --amount " + s.amount + " --token " + s.token + " --wait");
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_TRUE(std::regex_search(r.out, kTxid)) << r.out;
    EXPECT_NE(r.out.find("confirmed in block"), std::string::npos) << r.out;
  }

  Result bal = run("wallet balance --keystore fresh.json --node " + url_);
  ASSERT_EQ(bal.code, 0) << bal.err;
  EXPECT_NE(bal.out.find("address: " + fresh + "\n"), std::string::npos) << bal.out;
  EXPECT_NE(bal.out.find("trx: 2500000 sun (2.5 TRX)\n"), std::string::npos) << bal.out;
  EXPECT_NE(bal.out.find(std::string("trc10:") + kTrc10 + ": 700 (0.0007 BTTOLD)\n"),
            std::string::npos)
      << bal.out;
  EXPECT_NE(
      bal.out.find("trc20:" + trc20_ + ": 123456789012345678901 (123.456789012345678901 BTT)\n"),
      std::string::npos)
      << bal.out;
  // An explicit --trc20 gives the same line.
  Result bal2 = run("wallet balance --keystore fresh.json --node " + url_ + " --trc20 " + trc20_);
  EXPECT_NE(bal2.out.find("trc20:" + trc20_ + ": 123456789012345678901"), std::string::npos);

  // The ledger next to the keystore has the three, confirmed.
  wallet::Ledger ledger((*dir_ / (alice + ".ledger.db")).string());
  EXPECT_GE(ledger.list(wallet::PaymentState::Confirmed).size(), 3u);
}

TEST_F(WalletDevnet, NetworksWholeTokensAndFees) {
  const std::string alice = alice_keystore();
  Result created = run("wallet create --keystore fees.json");
  ASSERT_EQ(created.code, 0) << created.err;
  const std::string to = created.out.substr(0, created.out.find('\n'));

  // What a transfer to an account not on chain yet costs: the account and its bandwidth.
  Result fee = run("wallet fee --keystore " + alice + " --network devnet --node " + url_ +
                   " --to " + to + " --amount 0.5trx --token trx");
  ASSERT_EQ(fee.code, 0) << fee.out << fee.err;
  EXPECT_NE(fee.out.find("transfer: 0.5 TRX to " + to + " on devnet\n"), std::string::npos)
      << fee.out;
  EXPECT_NE(fee.out.find("fee: 1100000 sun\n"), std::string::npos) << fee.out;
  EXPECT_NE(fee.out.find("create the recipient's account"), std::string::npos) << fee.out;

  Result sent = run("wallet send --keystore " + alice + " --network devnet --node " + url_ +
                    " --to " + to + " --amount 0.5trx --token trx --wait");
  ASSERT_EQ(sent.code, 0) << sent.out << sent.err;
  EXPECT_NE(sent.out.find(", fee 1100000 sun (1.1 TRX)"), std::string::npos) << sent.out;
  EXPECT_EQ(trx_of(*tron::Address::parse(to)), 500'000);

  // BTT by name, in whole tokens: its fee is energy, recorded when it confirms.
  Result btt_fee = run("wallet fee --keystore " + alice + " --node " + url_ + " --to " + to +
                       " --amount 2.5btt --token btt");
  ASSERT_EQ(btt_fee.code, 0) << btt_fee.out << btt_fee.err;
  EXPECT_NE(btt_fee.out.find("transfer: 2.5 BTT"), std::string::npos) << btt_fee.out;
  EXPECT_NE(btt_fee.out.find("energy burned at 100 sun each"), std::string::npos) << btt_fee.out;
  Result btt = run("wallet send --keystore " + alice + " --node " + url_ + " --to " + to +
                   " --amount 2.5btt --token btt --wait --payment-id btt-fee-test");
  ASSERT_EQ(btt.code, 0) << btt.out << btt.err;
  wallet::Ledger ledger((*dir_ / (alice + ".ledger.db")).string());
  auto attempts = ledger.attempts("wallet-send:btt-fee-test");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(attempts[0].amount, tron::U256("2500000000000000000"));
  ASSERT_TRUE(attempts[0].fee);
  EXPECT_GT(*attempts[0].fee, 0);
  EXPECT_NE(btt.out.find(", fee " + std::to_string(*attempts[0].fee) + " sun"), std::string::npos)
      << btt.out;

  Result bal = run("wallet balance --keystore fees.json --network devnet --node " + url_);
  ASSERT_EQ(bal.code, 0) << bal.err;
  EXPECT_NE(bal.out.find("network: devnet\n"), std::string::npos) << bal.out;
  EXPECT_NE(bal.out.find("trc20:" + trc20_ + ": 2500000000000000000 (2.5 BTT)\n"),
            std::string::npos)
      << bal.out;
  EXPECT_NE(bal.out.find("bandwidth: 600 of 600 free bytes left today, 0 of 0 staked bytes "
                         "left\n"),
            std::string::npos)
      << bal.out;
  EXPECT_NE(bal.out.find("energy: 0 of 0 staked energy left\n"), std::string::npos) << bal.out;

  // A devnet node is not mainnet: the error names both chains.
  Result wrong = run("wallet balance --keystore fees.json --network mainnet --node " + url_);
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("not mainnet (00000000000000001ebf88508a03865c"), std::string::npos)
      << wrong.err;
  EXPECT_NE(wrong.err.find(url_), std::string::npos) << wrong.err;

  Result bad = run("wallet send --keystore " + alice + " --node " + url_ + " --to " + to +
                   " --amount 0.0000001trx --token trx");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("6 decimals"), std::string::npos) << bad.err;

  // The fees show in earnings beside what was spent.
  Result earn = run("earnings --keystore " + alice + " --json");
  ASSERT_EQ(earn.code, 0) << earn.err;
  auto j = nlohmann::json::parse(earn.out);
  EXPECT_GE(std::stoll(j["totals"]["trx"]["fees_sun"].get<std::string>()), 1'100'000) << earn.out;
  EXPECT_GE(std::stoll(j["totals"]["trc20:" + trc20_]["fees_sun"].get<std::string>()),
            *attempts[0].fee)
      << earn.out;
}

TEST_F(WalletDevnet, WrongPasswordAndBadInput) {
  const std::string alice = alice_keystore();
  Result r = run("wallet send --keystore " + alice + " --node " + url_ +
                     " --to TYjaKKV4asba9j5JwoEKe4ZdZWieGrQLs8 --amount 1 --token trx",
                 "", "BTTNODE_PASSWORD=nope");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("wrong password"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  Result bad = run("wallet send --keystore " + alice + " --node " + url_ +
                   " --to nowhere --amount 1 --token trx");
  EXPECT_EQ(bad.code, 2);
  Result key = run("wallet import --keystore x.json", "zz\n");
  EXPECT_EQ(key.code, 2);
  EXPECT_FALSE(fs::exists(dir_->path() / "x.json"));
}

// The sending process dies right after each step; the same send run again (same payment id)
// finishes the payment. The chain must show each amount received exactly once.
TEST_F(WalletDevnet, SendKilledAfterEachStepPaysOnce) {
  const std::string alice = alice_keystore();
  const char* steps[] = {"planned",     "signed",   "broadcast-sent", "broadcast-recorded",
                         "landed-seen", "finalized"};
  int i = 0;
  for (const char* step : steps) {
    SCOPED_TRACE(step);
    tron::Address to = tron::PrivateKey::generate().address();
    std::int64_t amount = 1'000'000 + ++i;
    std::string cmd = "wallet send --keystore " + alice + " --node " + url_ + " --to " +
                      to.to_base58() + " --amount " + std::to_string(amount) +
                      " --token trx --wait --ledger crash.db --payment-id crash-" + step;
    Result crashed = run(cmd, "", std::string("BTTNODE_WALLET_CRASH_AFTER=") + step);
    ASSERT_EQ(crashed.code, 75) << crashed.out << crashed.err;
    Result resumed = run(cmd);
    EXPECT_EQ(resumed.code, 0) << resumed.out << resumed.err;
    EXPECT_NE(resumed.out.find("confirmed in block"), std::string::npos) << resumed.out;
    if (std::string(step) == "broadcast-sent") {
      // Once more: nothing new happens.
      Result third = run(cmd);
      EXPECT_EQ(third.code, 0) << third.out << third.err;
    }
    EXPECT_EQ(trx_of(to), amount);
    wallet::Ledger ledger((dir_->path() / "crash.db").string());
    auto attempts = ledger.attempts(std::string("wallet-send:crash-") + step);
    ASSERT_EQ(attempts.size(), 1u);
    EXPECT_EQ(attempts[0].state, wallet::PaymentState::Confirmed);
  }
}

}  // namespace
