// The node's budget for the day: filled from the ledger since UTC midnight, never exceeded,
// reset at the next UTC midnight.
#include <gtest/gtest.h>

#include "node/pay/daily_budget.hpp"
#include "tests/test_files.hpp"
#include "wallet/ledger.hpp"
#include "wallet/sqlite.hpp"

using bttnode::pay::DailyBudget;
using tron::U256;

namespace {

constexpr std::int64_t kMidnight = 1796083200000;  // 2026-12-01T00:00:00Z
constexpr std::int64_t kHour = 60 * 60 * 1000;

tron::Address addr(std::uint8_t b) {
  tron::Address::Raw raw{};
  raw[0] = 0x41;
  raw[20] = b;
  return tron::Address(raw);
}

wallet::PaymentRequest request(const std::string& debt, std::uint64_t amount,
                               const std::string& token = "trx") {
  wallet::PaymentRequest r;
  r.debt_key = debt;
  r.token = tron::Token::parse(token);
  r.from = addr(1);
  r.to = addr(2);
  r.amount = amount;
  r.info_hash = std::string(40, 'a');
  r.peer = "2d4254303030312d";
  return r;
}

}  // namespace

TEST(PayDailyBudget, DayStartIsTheUtcMidnight) {
  EXPECT_EQ(DailyBudget::day_start(kMidnight), kMidnight);
  EXPECT_EQ(DailyBudget::day_start(kMidnight + 23 * kHour), kMidnight);
  EXPECT_EQ(DailyBudget::day_start(kMidnight - 1), kMidnight - DailyBudget::kDayMs);
  EXPECT_EQ(DailyBudget::day_start(kMidnight + DailyBudget::kDayMs),
            kMidnight + DailyBudget::kDayMs);
}

TEST(PayDailyBudget, FillsFromTheLedgerSinceUtcMidnightRefusesBeyondAndResetsNextMidnight) {
  test_support::TempDir dir;
  const std::string path = (dir.path() / "ledger.db").string();
  std::int64_t now = kMidnight + 10 * kHour;
  {
    wallet::Ledger ledger(path);
    auto yesterday = ledger.plan(request("btt_pay:a:1", 400)).payment.id;
    auto at_midnight = ledger.plan(request("btt_pay:a:2", 100)).payment.id;
    auto morning = ledger.plan(request("btt_pay:a:3", 200)).payment.id;
    auto failed = ledger.plan(request("btt_pay:a:4", 50)).payment.id;
    ledger.mark_failed(failed, wallet::fail_reason::kRefused, "cap");
    auto other_token = ledger.plan(request("btt_pay:a:5", 70, "trc10:1002000")).payment.id;
    wallet::Db db(path);
    auto set_time = [&](std::int64_t id, std::int64_t ms) {
      wallet::Statement(db, "UPDATE payments SET created_at = ?1 WHERE id = ?2")
          .bind(1, ms)
          .bind(2, id)
          .run();
    };
    set_time(yesterday, kMidnight - 1);
    set_time(at_midnight, kMidnight);
    set_time(morning, kMidnight + 5 * kHour);
    set_time(failed, kMidnight + 6 * kHour);
    set_time(other_token, kMidnight + 6 * kHour);
  }
  wallet::Ledger ledger(path);
  DailyBudget daily(tron::Token::parse("trx"), U256(1000), ledger, [&] { return now; });
  EXPECT_EQ(daily.spent_today(), 300);  // 100 + 200: not yesterday's, the failed one, nor BTTOLD
  EXPECT_EQ(daily.left_today(), 700);

  EXPECT_FALSE(daily.allows(701));
  EXPECT_FALSE(daily.try_take(701));
  EXPECT_EQ(daily.spent_today(), 300);  // a refused payment takes nothing
  std::int64_t day = 0;
  ASSERT_TRUE(daily.try_take(500, &day));
  EXPECT_EQ(day, kMidnight);
  EXPECT_EQ(daily.left_today(), 200);
  // A payment in flight counts: the next one has only what is left.
  EXPECT_FALSE(daily.try_take(201));
  ASSERT_TRUE(daily.try_take(200));
  EXPECT_EQ(daily.left_today(), 0);
  EXPECT_FALSE(daily.allows(1));
  // The 500 was never made: it comes back.
  daily.give_back(500, day);
  EXPECT_EQ(daily.left_today(), 500);
  ASSERT_TRUE(daily.try_take(500));

  now = kMidnight + DailyBudget::kDayMs - 1;  // still today
  EXPECT_FALSE(daily.allows(1));
  now = kMidnight + DailyBudget::kDayMs;  // the next UTC midnight
  EXPECT_EQ(daily.spent_today(), 0);
  EXPECT_EQ(daily.left_today(), 1000);
  // Yesterday's payment given back does not grow today's budget.
  daily.give_back(500, day);
  EXPECT_EQ(daily.left_today(), 1000);
  EXPECT_FALSE(daily.try_take(1001));
  EXPECT_TRUE(daily.try_take(1000));
}

TEST(PayDailyBudget, ZeroMeansNoLimitButSpendingIsCounted) {
  std::int64_t now = kMidnight + kHour;
  DailyBudget daily(tron::Token::parse("trx"), U256(0), U256(0), [&] { return now; });
  EXPECT_FALSE(daily.limited());
  EXPECT_TRUE(daily.try_take(U256(1) << 200));
  EXPECT_EQ(daily.spent_today(), U256(1) << 200);
  EXPECT_EQ(daily.left_today(), 0);
}
