#include "node/pay/daily_budget.hpp"

#include <algorithm>
#include <utility>

#include "wallet/ledger_store.hpp"

namespace bttnode::pay {

std::int64_t DailyBudget::day_start(std::int64_t ms) {
  std::int64_t r = ms % kDayMs;
  if (r < 0) r += kDayMs;
  return ms - r;
}

DailyBudget::DailyBudget(tron::Token token, U256 per_day, U256 spent_today, Clock now)
    : token_(std::move(token)), per_day_(std::move(per_day)), now_(std::move(now)) {
  day_ = day_start(this->now());
  spent_ = std::move(spent_today);
}

DailyBudget::DailyBudget(tron::Token token, U256 per_day, wallet::LedgerStore& ledger, Clock now)
    : DailyBudget(token, std::move(per_day), U256(0), std::move(now)) {
  spent_ = ledger.committed_since(token_, day_);
}

std::int64_t DailyBudget::now() const {
  return now_ ? now_() : wallet::now_ms();
}

void DailyBudget::roll() {
  const std::int64_t today = day_start(now());
  if (today > day_) {
    day_ = today;
    spent_ = 0;
  }
}

bool DailyBudget::allows(const U256& amount) {
  std::lock_guard lock(mu_);
  roll();
  return !limited() || (spent_ <= per_day_ && amount <= per_day_ - spent_);
}

bool DailyBudget::try_take(const U256& amount, std::int64_t* day) {
  std::lock_guard lock(mu_);
  roll();
  if (limited() && (spent_ > per_day_ || amount > per_day_ - spent_)) return false;
  spent_ += amount;
  if (day) *day = day_;
  return true;
}

void DailyBudget::give_back(const U256& amount, std::int64_t day) {
  std::lock_guard lock(mu_);
  roll();
  if (day != day_) return;  // yesterday's budget is gone either way
  spent_ -= std::min(spent_, amount);
}

DailyBudget::U256 DailyBudget::spent_today() {
  std::lock_guard lock(mu_);
  roll();
  return spent_;
}

DailyBudget::U256 DailyBudget::left_today() {
  std::lock_guard lock(mu_);
  roll();
  return spent_ < per_day_ ? per_day_ - spent_ : U256(0);
}

}  // namespace bttnode::pay
