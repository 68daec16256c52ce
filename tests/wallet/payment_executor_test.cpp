#include "wallet/payment_executor.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/test_files.hpp"
#include "tests/wallet/fake_chain.hpp"

namespace {

using wallet::Ledger;
using wallet::Payment;
using wallet::PaymentExecutor;
using wallet::PaymentState;
using wallet::Step;
using wallet_test::FakeChain;

struct SimulatedCrash : std::runtime_error {
  SimulatedCrash() : std::runtime_error("simulated crash") {}
};

const Step kSteps[] = {Step::Planned,           Step::Signed,     Step::BroadcastSent,
                       Step::BroadcastRecorded, Step::LandedSeen, Step::Finalized};

tron::Address recipient(int i) {
  tron::Address::Raw raw{};
  raw[0] = 0x41;
  raw[19] = 0x77;
  raw[20] = static_cast<std::uint8_t>(i);
  return tron::Address(raw);
}

class ExecutorTest : public ::testing::Test {
 protected:
  std::string ledger_path() const { return (dir_ / "ledger.db").string(); }
  std::string chain_path() const { return (dir_ / "chain.db").string(); }

  wallet::PaymentRequest request(int i) const {
    wallet::PaymentRequest r;
    r.debt_key = "test:" + std::to_string(i);
    r.token = tron::Token::parse("trx");
    r.from = key_.address();
    r.to = recipient(i);
    r.amount = 1000 + i;
    return r;
  }

  // Options for tests: no real sleeping; each poll lets chain time pass.
  wallet::ExecutorOptions options(FakeChain& chain) const {
    wallet::ExecutorOptions o;
    o.sleep = [&chain](std::chrono::milliseconds) { chain.advance_time(3000); };
    return o;
  }

  // After recovery every debt is paid exactly once, for its amount.
  void expect_each_paid_once(FakeChain& chain, Ledger& ledger, int debts) {
    for (int i = 0; i < debts; ++i) {
      SCOPED_TRACE("debt " + std::to_string(i));
      EXPECT_EQ(chain.landed_to(recipient(i)), 1000 + i);
      auto attempts = ledger.attempts(request(i).debt_key);
      ASSERT_FALSE(attempts.empty());
      EXPECT_EQ(attempts.back().state, PaymentState::Confirmed);
      int confirmed = 0;
      for (const auto& a : attempts) confirmed += a.state == PaymentState::Confirmed;
      EXPECT_EQ(confirmed, 1);
    }
    EXPECT_EQ(chain.landed(), debts);
    EXPECT_TRUE(ledger.pending().empty());
  }

  // Restart: a fresh ledger connection and executor, recovery, then each debt submitted again
  // (as a caller that does not know what happened would) and waited for.
  void restart_and_settle(FakeChain& chain, int debts) {
    Ledger ledger(ledger_path());
    PaymentExecutor ex(ledger, chain, key_, {}, options(chain));
    ex.recover();
    for (int i = 0; i < debts; ++i) {
      Payment p = ex.submit(request(i));
      p = ex.wait(p.id, std::chrono::minutes(5));
      EXPECT_EQ(p.state, PaymentState::Confirmed) << p.error.value_or("");
    }
    expect_each_paid_once(chain, ledger, debts);
  }

  test_support::TempDir dir_;
  tron::PrivateKey key_ = tron::PrivateKey::generate();
};

TEST_F(ExecutorTest, HappyPath) {
  FakeChain chain(chain_path());
  Ledger ledger(ledger_path());
  PaymentExecutor ex(ledger, chain, key_, {}, options(chain));
  Payment p = ex.submit(request(0));
  EXPECT_EQ(p.state, PaymentState::Broadcast);
  ASSERT_TRUE(p.txid);
  EXPECT_FALSE(p.signed_tx.empty());
  p = ex.wait(p.id, std::chrono::seconds(30));
  EXPECT_EQ(p.state, PaymentState::Confirmed);
  EXPECT_TRUE(p.block_number.has_value());
  EXPECT_EQ(chain.broadcasts(*p.txid), 1);
  // The same debt again: nothing new is paid.
  Payment again = ex.submit(request(0));
  EXPECT_EQ(again.id, p.id);
  expect_each_paid_once(chain, ledger, 1);
  EXPECT_EQ(ledger.total_spent(tron::Token::parse("trx")), 1000);
  EXPECT_EQ(p.fee, 0);
}

TEST_F(ExecutorTest, ConfirmationRecordsTheFeeBurned) {
  FakeChain chain(chain_path());
  chain.set_fee(268'000);
  Ledger ledger(ledger_path());
  PaymentExecutor ex(ledger, chain, key_, {}, options(chain));
  Payment p = ex.wait(ex.submit(request(0)).id, std::chrono::seconds(30));
  ASSERT_EQ(p.state, PaymentState::Confirmed);
  EXPECT_EQ(p.fee, 268'000);
  EXPECT_EQ(ledger.get(p.id)->fee, 268'000);
  EXPECT_EQ(ledger.total_fees(tron::Token::parse("trx")), 268'000);
}

// A crash (an exception that abandons everything) right after each step, then a restart.
TEST_F(ExecutorTest, CrashAfterEachStepInProcess) {
  for (Step crash_at : kSteps) {
    SCOPED_TRACE(wallet::to_string(crash_at));
    std::filesystem::remove(ledger_path());
    std::filesystem::remove(chain_path());
    FakeChain chain(chain_path());
    const int debts = 3;
    {
      Ledger ledger(ledger_path());
      auto o = options(chain);
      int crashes = 0;
      o.hook = [&](Step s, const Payment& p) {
        // Debt 1 crashes; the others go through to show they are not disturbed.
        if (s == crash_at && p.debt_key == "test:1" && crashes++ == 0) throw SimulatedCrash();
      };
      PaymentExecutor ex(ledger, chain, key_, {}, o);
      for (int i = 0; i < debts; ++i) {
        try {
          Payment p = ex.submit(request(i));
          ex.wait(p.id, std::chrono::seconds(30));
        } catch (const SimulatedCrash&) {
        }
      }
      EXPECT_EQ(crashes, 1);
    }
    restart_and_settle(chain, debts);
  }
}

// The same with a real process death: the child _exit()s at the step, skipping every
// destructor and buffered write.
TEST_F(ExecutorTest, CrashAfterEachStepKilledProcess) {
  for (Step crash_at : kSteps) {
    SCOPED_TRACE(wallet::to_string(crash_at));
    std::filesystem::remove(ledger_path());
    std::filesystem::remove(chain_path());
    { FakeChain init(chain_path()); }
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      try {
        FakeChain chain(chain_path());
        Ledger ledger(ledger_path());
        auto o = options(chain);
        o.hook = [&](Step s, const Payment&) {
          if (s == crash_at) ::_exit(42);
        };
        PaymentExecutor ex(ledger, chain, key_, {}, o);
        Payment p = ex.submit(request(0));
        ex.wait(p.id, std::chrono::seconds(30));
      } catch (...) {
        ::_exit(1);
      }
      ::_exit(0);  // the step never came: a test failure seen by the parent
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), 42);
    FakeChain chain(chain_path());
    restart_and_settle(chain, 1);
  }
}

// Accepted by the node but lost: after expiration (by head block time, plus the margin) and
// absent from the chain, the attempt fails as expired and exactly one new attempt pays.
TEST_F(ExecutorTest, ExpiredUnlandedMakesExactlyOneNewAttempt) {
  FakeChain chain(chain_path());
  Ledger ledger(ledger_path());
  auto o = options(chain);
  o.sleep = [](std::chrono::milliseconds) {};
  PaymentExecutor ex(ledger, chain, key_, {}, o);
  chain.set_drop(true);
  Payment p = ex.submit(request(0));
  EXPECT_EQ(p.state, PaymentState::Broadcast);
  // Not expired yet: only re-broadcasts of the same bytes.
  for (int i = 0; i < 3; ++i) p = ex.advance(p.id);
  EXPECT_EQ(p.state, PaymentState::Broadcast);
  EXPECT_EQ(p.attempt, 1);
  EXPECT_EQ(chain.broadcasts(*p.txid), 4);
  // Past expiration but within the margin: still not proof.
  chain.advance_time(60'000 + 10'000);
  p = ex.advance(p.id);
  EXPECT_EQ(p.attempt, 1);
  EXPECT_NE(p.state, PaymentState::Failed);
  chain.set_drop(false);
  chain.advance_time(30'000);
  p = ex.advance(p.id);
  EXPECT_EQ(p.attempt, 2);
  p = ex.wait(p.id, std::chrono::seconds(30));
  EXPECT_EQ(p.state, PaymentState::Confirmed);
  auto attempts = ledger.attempts("test:0");
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].state, PaymentState::Failed);
  EXPECT_EQ(attempts[0].fail_reason, wallet::fail_reason::kExpired);
  EXPECT_NE(attempts[0].txid, attempts[1].txid);
  EXPECT_EQ(chain.known(), 2);
  expect_each_paid_once(chain, ledger, 1);
}

// A crash between the expiry being recorded and the new attempt: recovery makes the attempt.
TEST_F(ExecutorTest, CrashAfterExpiryStillSettlesOnce) {
  FakeChain chain(chain_path());
  {
    Ledger ledger(ledger_path());
    auto o = options(chain);
    o.hook = [](Step s, const Payment& p) {
      if (s == Step::Finalized && p.state == PaymentState::Failed) throw SimulatedCrash();
    };
    PaymentExecutor ex(ledger, chain, key_, {}, o);
    chain.set_drop(true);
    Payment p = ex.submit(request(0));
    chain.set_drop(false);
    chain.advance_time(200'000);
    EXPECT_THROW(ex.advance(p.id), SimulatedCrash);
    EXPECT_TRUE(ledger.pending().empty());
  }
  Ledger ledger(ledger_path());
  PaymentExecutor ex(ledger, chain, key_, {}, options(chain));
  auto touched = ex.recover();
  ASSERT_EQ(touched.size(), 1u);
  EXPECT_EQ(touched[0].attempt, 2);
  ex.wait(touched[0].id, std::chrono::seconds(30));
  expect_each_paid_once(chain, ledger, 1);
}

// The tx landed but the process died before knowing; long after expiration the restart must
// find it on chain and never pay again.
TEST_F(ExecutorTest, LandedButUnrecordedIsNeverRepaidEvenAfterExpiry) {
  FakeChain chain(chain_path());
  {
    Ledger ledger(ledger_path());
    auto o = options(chain);
    o.hook = [](Step s, const Payment&) {
      if (s == Step::BroadcastSent) throw SimulatedCrash();
    };
    PaymentExecutor ex(ledger, chain, key_, {}, o);
    EXPECT_THROW(ex.submit(request(0)), SimulatedCrash);
  }
  chain.advance_time(3'600'000);
  restart_and_settle(chain, 1);
  Ledger ledger(ledger_path());
  EXPECT_EQ(ledger.attempts("test:0").size(), 1u);
}

TEST_F(ExecutorTest, CapsCheckedBeforeSigning) {
  FakeChain chain(chain_path());
  Ledger ledger(ledger_path());
  wallet::SpendingPolicy policy;
  policy.max_per_payment = 1004;
  policy.daily_limit = 2500;
  policy.balance_floor = 100;
  PaymentExecutor ex(ledger, chain, key_, policy, options(chain));
  Payment over = ex.submit(request(5));  // 1005 > 1004
  EXPECT_EQ(over.state, PaymentState::Failed);
  EXPECT_EQ(over.fail_reason, wallet::fail_reason::kRefused);
  EXPECT_NE(over.error->find("per-payment cap"), std::string::npos);
  EXPECT_FALSE(over.txid.has_value());
  EXPECT_EQ(ex.submit(request(0)).state, PaymentState::Broadcast);  // 1000
  EXPECT_EQ(ex.submit(request(1)).state, PaymentState::Broadcast);  // 2001
  Payment daily = ex.submit(request(2));                            // would be 3003
  EXPECT_EQ(daily.state, PaymentState::Failed);
  EXPECT_NE(daily.error->find("daily cap"), std::string::npos);
  chain.set_balance(1050);
  wallet::SpendingPolicy floor_only;
  floor_only.balance_floor = 100;
  wallet::PaymentExecutor ex2(ledger, chain, key_, floor_only, options(chain));
  auto r = request(3);
  r.debt_key = "floor";
  Payment floor = ex2.submit(r);  // 1050 - 1003 < 100
  EXPECT_EQ(floor.state, PaymentState::Failed);
  EXPECT_NE(floor.error->find("balance floor"), std::string::npos);
  EXPECT_EQ(chain.known(), 2);
}

TEST_F(ExecutorTest, RefusesToPayFromAnotherAddress) {
  FakeChain chain(chain_path());
  Ledger ledger(ledger_path());
  PaymentExecutor ex(ledger, chain, key_, {}, options(chain));
  auto r = request(0);
  r.from = recipient(9);
  EXPECT_THROW(ex.submit(r), wallet::PaymentRefused);
  EXPECT_TRUE(ledger.list().empty());
}

TEST_F(ExecutorTest, RecoveryLeavesOtherKeysPaymentsAlone) {
  FakeChain chain(chain_path());
  Ledger ledger(ledger_path());
  tron::PrivateKey other = tron::PrivateKey::generate();
  auto r = request(0);
  r.from = other.address();
  auto planned = ledger.plan(r).payment;
  PaymentExecutor ex(ledger, chain, key_, {}, options(chain));
  EXPECT_TRUE(ex.recover().empty());
  EXPECT_THROW(ex.advance(planned.id), wallet::PaymentRefused);
  EXPECT_EQ(ledger.get(planned.id)->state, PaymentState::Planned);
  // Its own key finishes it.
  PaymentExecutor mine(ledger, chain, other, {}, options(chain));
  ASSERT_EQ(mine.recover().size(), 1u);
  EXPECT_EQ(chain.landed_to(recipient(0)), 1000);
}

TEST_F(ExecutorTest, UnbuildablePaymentFailsOnce) {
  FakeChain chain(chain_path());
  Ledger ledger(ledger_path());
  PaymentExecutor ex(ledger, chain, key_, {}, options(chain));
  chain.set_balance(-1);  // unlimited
  auto r = request(0);
  r.amount = tron::U256(1) << 70;  // TRX amounts are 64-bit
  Payment p = ex.submit(r);
  EXPECT_EQ(p.state, PaymentState::Failed);
  EXPECT_EQ(p.fail_reason, wallet::fail_reason::kRefused);
  EXPECT_TRUE(ex.recover().empty());
  EXPECT_EQ(chain.known(), 0);
}

}  // namespace
