// The full-node client against the real devnet (`bttnode devnet`), started by the test.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "tron/abi.hpp"
#include "tron/fullnode_client.hpp"
#include "tron/transaction.hpp"

extern char** environ;

namespace tron {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kGenesisPath = std::string(BTTNODE_SOURCE_DIR) + "/configs/devnet-genesis.json";

// A program run with its stdout and stderr in a pipe, stopped with SIGTERM at the end.
class Process {
 public:
  explicit Process(const std::vector<std::string>& argv) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    out_fd_ = fds[0];
    if (rc != 0) {
      close(out_fd_);
      throw std::runtime_error("cannot start " + argv[0]);
    }
  }

  ~Process() {
    stop();
    if (drain_.joinable()) drain_.join();
    close(out_fd_);
  }

  // Reads output until a line contains `marker` and returns what follows it up to the next
  // space; nullopt if the program ends first or the deadline passes.
  std::optional<std::string> wait_for_line(const std::string& marker,
                                           std::chrono::milliseconds within) {
    auto deadline = Clock::now() + within;
    std::string line;
    while (Clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      int left = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (poll(&p, 1, std::max(left, 1)) <= 0) continue;
      char c;
      ssize_t n = read(out_fd_, &c, 1);
      if (n <= 0) return std::nullopt;  // the program ended
      append(std::string(1, c));
      if (c != '\n') {
        line += c;
        continue;
      }
      if (auto at = line.find(marker); at != std::string::npos) {
        std::string value = line.substr(at + marker.size());
        value = value.substr(0, value.find_first_of(" \r"));
        start_drain();
        return value;
      }
      line.clear();
    }
    return std::nullopt;
  }

  std::string output() {
    std::lock_guard lock(mutex_);
    return output_;
  }

  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  void append(const std::string& s) {
    std::lock_guard lock(mutex_);
    output_ += s;
  }
  // Keeps reading so the program never blocks on a full pipe.
  void start_drain() {
    drain_ = std::thread([this] {
      char buf[4096];
      ssize_t n;
      while ((n = read(out_fd_, buf, sizeof buf)) > 0) append(std::string(buf, n));
    });
  }

  pid_t pid_ = 0;
  int out_fd_ = -1;
  std::mutex mutex_;
  std::string output_;
  std::thread drain_;
};

// Runs a program to its end with `input` on stdin; returns exit code, stdout and stderr.
struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

RunResult run_with_input(const std::vector<std::string>& argv, const std::string& input) {
  char dir_template[] = "/tmp/bttnode-cli-XXXXXX";
  std::string dir = mkdtemp(dir_template);
  std::string in = dir + "/in", out = dir + "/out", err = dir + "/err";
  std::ofstream(in) << input;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  RunResult r;
  if (posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ) == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  posix_spawn_file_actions_destroy(&actions);
  auto slurp = [](const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove_all(dir);
  return r;
}

struct GenesisAccount {
  std::string name;
  Address address;
  std::optional<PrivateKey> key;
  std::int64_t trx = 0;
  std::int64_t trc10 = 0;
  U256 trc20 = 0;
};

struct GenesisFacts {
  std::string trc10_id;
  Address trc20_contract;
  int trc20_decimals = 18;
  json chain_parameters;
  std::vector<GenesisAccount> accounts;  // those with a private key

  const GenesisAccount& named(const std::string& name) const {
    for (const auto& a : accounts) {
      if (a.name == name) return a;
    }
    throw std::runtime_error("no account '" + name + "' in " + kGenesisPath);
  }
};

GenesisFacts read_genesis() {
  std::ifstream in(kGenesisPath);
  if (!in) throw std::runtime_error("cannot read " + kGenesisPath);
  json g = json::parse(in);
  GenesisFacts f;
  f.trc10_id = g.at("trc10").at("id").get<std::string>();
  f.trc20_contract = Address::from_string(g.at("trc20").at("contract_address").get<std::string>());
  f.trc20_decimals = g.at("trc20").value("decimals", 18);
  f.chain_parameters = g.value("chain_parameters", json::object());
  for (const json& a : g.at("accounts")) {
    if (!a.contains("private_key")) continue;
    GenesisAccount acct;
    acct.name = a.value("name", "");
    acct.key = PrivateKey::from_hex(a.at("private_key").get<std::string>());
    acct.address = acct.key->address();
    acct.trx = a.value("trx", std::int64_t{0});
    acct.trc10 = a.value("trc10", std::int64_t{0});
    if (a.contains("trc20")) {
      const json& v = a.at("trc20");
      acct.trc20 = v.is_string() ? abi::parse_amount(v.get<std::string>())
                                 : U256(v.get<std::uint64_t>());
    }
    f.accounts.push_back(std::move(acct));
  }
  return f;
}

class FullNodeDevnet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    devnet_ = std::make_unique<Process>(std::vector<std::string>{
        BTTNODE_BINARY, "devnet", "--listen", "127.0.0.1:0", "--genesis", kGenesisPath,
        "--block-ms", "200"});
    auto url = devnet_->wait_for_line("devnet listening on ", 60s);
    if (url) {
      url_ = *url;
    } else {
      output_ = devnet_->output();
      devnet_.reset();
    }
  }
  static void TearDownTestSuite() { devnet_.reset(); }

  void SetUp() override {
    if (!devnet_) {
      if (output_.find("not available yet") != std::string::npos) {
        GTEST_SKIP() << "bttnode devnet is not built yet";
      }
      FAIL() << "the devnet did not start; its output:\n" << output_;
    }
    genesis_ = read_genesis();
    // Each test spends from its own account, so the tests do not disturb each other on one
    // devnet; dave is never spent from. The witness is left alone (it produces the blocks).
    for (const char* name : {"alice", "bob", "carol", "dave"}) {
      ASSERT_NO_THROW(genesis_.named(name));
    }
  }

  FullNodeClient client() {
    FullNodeOptions o;
    o.url = url_;
    o.timeout = 10s;
    return FullNodeClient(o);
  }

  // Waits until the transaction is in a block and its info is known.
  static std::optional<TxInfo> wait_for_info(FullNodeClient& client, const Hash32& txid) {
    auto deadline = Clock::now() + 20s;
    while (Clock::now() < deadline) {
      if (auto info = client.transaction_info_by_id(txid)) return info;
      std::this_thread::sleep_for(100ms);
    }
    return std::nullopt;
  }

  static inline std::unique_ptr<Process> devnet_;
  static inline std::string url_;
  static inline std::string output_;
  GenesisFacts genesis_;
};

TEST_F(FullNodeDevnet, NowBlockAdvancesAndMatchesBlockByNumber) {
  FullNodeClient node = client();
  BlockRef first = node.now_block();
  EXPECT_EQ(first.id.size(), 32u);
  std::this_thread::sleep_for(700ms);
  BlockRef later = node.now_block();
  EXPECT_GT(later.number, first.number);
  EXPECT_GT(later.timestamp, first.timestamp);

  json block = node.block_by_number(later.number);
  EXPECT_EQ(block["blockID"], to_hex(later.id));
  EXPECT_TRUE(node.block_by_number(later.number + 1'000'000).empty());

  TxTiming timing = node.timing(60s);
  EXPECT_EQ(timing.ref_block_bytes.size(), 2u);
  EXPECT_EQ(timing.ref_block_hash.size(), 8u);
  EXPECT_GT(timing.expiration, timing.timestamp - 60'000);
}

TEST_F(FullNodeDevnet, GenesisAccountBalances) {
  FullNodeClient node = client();
  const GenesisAccount& holder = genesis_.named("dave");
  AccountBalances balances = node.account(holder.address);
  EXPECT_TRUE(balances.exists);
  EXPECT_EQ(balances.trx, holder.trx);
  if (holder.trc10 > 0) {
    EXPECT_EQ(balances.trc10.at(genesis_.trc10_id), holder.trc10);
  }
  EXPECT_EQ(node.trc20_balance(genesis_.trc20_contract, holder.address), holder.trc20);
  EXPECT_EQ(node.trc20_decimals(genesis_.trc20_contract), genesis_.trc20_decimals);

  AccountBalances nobody = node.account(PrivateKey::generate().address());
  EXPECT_FALSE(nobody.exists);
  EXPECT_EQ(nobody.trx, 0);
  EXPECT_TRUE(nobody.trc10.empty());
  EXPECT_EQ(node.trc20_balance(genesis_.trc20_contract, PrivateKey::generate().address()), 0);

  json resource = node.account_resource(holder.address);
  EXPECT_TRUE(resource.is_object());
}

TEST_F(FullNodeDevnet, ChainParameters) {
  FullNodeClient node = client();
  auto params = node.chain_parameters();
  ASSERT_TRUE(params.count("getTransactionFee"));
  ASSERT_TRUE(params.count("getEnergyFee"));
  ASSERT_TRUE(params.count("getFreeNetLimit"));
  for (const auto& [key, value] : genesis_.chain_parameters.items()) {
    if (params.count(key)) {
      EXPECT_EQ(params.at(key), value.get<std::int64_t>()) << key;
    }
  }
}

TEST_F(FullNodeDevnet, BroadcastsATrxTransferAndSeesItInABlock) {
  FullNodeClient node = client();
  const GenesisAccount& payer = genesis_.named("alice");
  Address payee = PrivateKey::generate().address();
  std::int64_t before = node.account(payer.address).trx;

  Transaction tx = Transaction::transfer_trx(payer.address, payee, 2'500'000, node.timing());
  tx.sign(*payer.key);
  BroadcastResult result = node.broadcast_hex(tx.serialized());
  ASSERT_TRUE(result.ok) << result.code << ": " << result.message;
  EXPECT_EQ(result.code, "SUCCESS");
  EXPECT_EQ(result.txid, to_hex(tx.txid()));

  auto info = wait_for_info(node, tx.txid());
  ASSERT_TRUE(info.has_value()) << "the transfer never reached a block";
  EXPECT_TRUE(info->success);
  EXPECT_GT(info->block_number, 0);
  EXPECT_GT(info->block_timestamp, 0);
  EXPECT_GE(info->fee, 0);
  auto found = node.transaction_by_id(tx.txid());
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ((*found)["txID"], to_hex(tx.txid()));
  json block = node.block_by_number(info->block_number);
  bool in_block = false;
  for (const json& t : block.value("transactions", json::array())) {
    in_block = in_block || t.value("txID", "") == to_hex(tx.txid());
  }
  EXPECT_TRUE(in_block);

  AccountBalances received = node.account(payee);
  EXPECT_TRUE(received.exists);
  EXPECT_EQ(received.trx, 2'500'000);
  EXPECT_EQ(node.account(payer.address).trx, before - 2'500'000 - info->fee);

  // The same transaction again is the node's duplicate.
  BroadcastResult again = node.broadcast_hex(tx.serialized());
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.code, "DUP_TRANSACTION_ERROR");
}

TEST_F(FullNodeDevnet, Trc20TransferChangesBalances) {
  FullNodeClient node = client();
  const GenesisAccount& payer = genesis_.named("bob");
  Address payee = PrivateKey::generate().address();
  U256 before = node.trc20_balance(genesis_.trc20_contract, payer.address);
  U256 amount("1234500000000000000");
  ASSERT_GE(before, amount);

  Transaction tx = Transaction::transfer_trc20(genesis_.trc20_contract, payer.address, payee,
                                               amount, kDefaultFeeLimit, node.timing());
  tx.sign(*payer.key);
  BroadcastResult result = node.broadcast_hex(tx.serialized());
  ASSERT_TRUE(result.ok) << result.code << ": " << result.message;
  auto info = wait_for_info(node, tx.txid());
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->success) << info->raw.dump();
  EXPECT_EQ(info->contract_result, "SUCCESS");
  EXPECT_EQ(node.trc20_balance(genesis_.trc20_contract, payee), amount);
  EXPECT_EQ(node.trc20_balance(genesis_.trc20_contract, payer.address), before - amount);
}

TEST_F(FullNodeDevnet, RefusedBroadcastsCarryTheNodeCode) {
  FullNodeClient node = client();
  const GenesisAccount& payer = genesis_.named("alice");
  const GenesisAccount& other = genesis_.named("bob");
  Address payee = PrivateKey::generate().address();

  // Signed by a key that does not own the account.
  Transaction wrong_key = Transaction::transfer_trx(payer.address, payee, 1, node.timing());
  wrong_key.sign(*other.key);
  BroadcastResult r = node.broadcast_hex(wrong_key.serialized());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, "SIGERROR");
  EXPECT_FALSE(r.message.empty());
  EXPECT_EQ(r.txid, to_hex(wrong_key.txid()));

  // More than the balance.
  Transaction too_much =
      Transaction::transfer_trx(payer.address, payee, payer.trx + 1, node.timing());
  too_much.sign(*payer.key);
  r = node.broadcast_hex(too_much.serialized());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, "CONTRACT_VALIDATE_ERROR");
  EXPECT_NE(r.message.find("balance"), std::string::npos) << r.message;

  // A reference block the node never made.
  TxTiming timing = node.timing();
  timing.ref_block_hash = Bytes(8, 0x5a);
  Transaction bad_tapos = Transaction::transfer_trx(payer.address, payee, 1, timing);
  bad_tapos.sign(*payer.key);
  r = node.broadcast_hex(bad_tapos.serialized());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.code, "TAPOS_ERROR");
}

TEST_F(FullNodeDevnet, CommandLineBroadcast) {
  FullNodeClient node = client();
  const GenesisAccount& payer = genesis_.named("carol");
  Address payee = PrivateKey::generate().address();
  Transaction tx = Transaction::transfer_trx(payer.address, payee, 700'000, node.timing());
  tx.sign(*payer.key);

  RunResult run = run_with_input({BTTNODE_BINARY, "tx", "broadcast", "--node", url_},
                                 tx.to_json().dump() + "\n");
  if (run.err.find("not available yet") != std::string::npos) {
    GTEST_SKIP() << "bttnode tx is not built yet";
  }
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, to_hex(tx.txid()) + "\n");
  auto info = wait_for_info(node, tx.txid());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(node.account(payee).trx, 700'000);

  // Sent again: the node refuses, the command says why and fails.
  run = run_with_input({BTTNODE_BINARY, "tx", "broadcast", "--node", url_},
                       tx.to_json(true).dump());
  EXPECT_NE(run.exit_code, 0);
  EXPECT_EQ(run.out, "");
  EXPECT_NE(run.err.find("DUP_TRANSACTION_ERROR"), std::string::npos) << run.err;

  // Not signed, or not a transaction: refused before anything is sent.
  Transaction unsigned_tx = Transaction::transfer_trx(payer.address, payee, 1, node.timing());
  run = run_with_input({BTTNODE_BINARY, "tx", "broadcast", "--node", url_},
                       unsigned_tx.to_json().dump());
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("not signed"), std::string::npos) << run.err;
  run = run_with_input({BTTNODE_BINARY, "tx", "broadcast", "--node", url_}, "hello");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("JSON"), std::string::npos) << run.err;
  run = run_with_input({BTTNODE_BINARY, "tx", "broadcast"}, "{}");
  EXPECT_EQ(run.exit_code, 2);
}

}  // namespace
}  // namespace tron
