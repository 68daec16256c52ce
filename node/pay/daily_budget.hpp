#pragma once
// What the node may still pay today, in one token, shared by every buyer of the node. The day
// is the UTC day; at start, what the ledger holds as paid (or in flight) since the last UTC
// midnight counts as spent, so a restart does not hand out the day's budget again. Payments
// are taken when ordered (before they are signed), so payments in flight count too.
#include <cstdint>
#include <functional>
#include <mutex>

#include "tron/token.hpp"
#include "tron/transaction.hpp"

namespace wallet {
class LedgerStore;
}

namespace bttnode::pay {

class DailyBudget {
 public:
  using U256 = tron::U256;
  using Clock = std::function<std::int64_t()>;  // ms since the Unix epoch (UTC)
  static constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

  // The UTC midnight at or before `ms`.
  static std::int64_t day_start(std::int64_t ms);

  // per_day 0: no limit (nothing is counted against it, spending is still reported).
  // `ledger` is read once here for what was committed since today's UTC midnight.
  DailyBudget(tron::Token token, U256 per_day, wallet::LedgerStore& ledger, Clock now = {});
  DailyBudget(tron::Token token, U256 per_day, U256 spent_today, Clock now = {});

  const tron::Token& token() const { return token_; }
  U256 per_day() const { return per_day_; }
  bool limited() const { return per_day_ > 0; }

  // Whether `amount` fits in what is left today.
  bool allows(const U256& amount);
  // Counts `amount` against today if it fits (false: nothing taken). `day` gets the day (its
  // UTC midnight) it was counted in, so that it is given back to that day only.
  bool try_take(const U256& amount, std::int64_t* day = nullptr);
  // A payment taken on `day` that was never made.
  void give_back(const U256& amount, std::int64_t day);

  U256 spent_today();
  U256 left_today();  // per_day - spent (0 when over); per_day 0: 0

 private:
  void roll();  // with mu_ held: a new UTC day starts from nothing spent
  std::int64_t now() const;

  tron::Token token_;
  U256 per_day_;
  Clock now_;
  std::mutex mu_;
  std::int64_t day_ = 0;
  U256 spent_ = 0;
};

}  // namespace bttnode::pay
