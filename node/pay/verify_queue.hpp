#pragma once
// The seeder's queue of settlements waiting for a verification worker, across every peer of
// the process. Pure state, no threads: the caller holds a lock around it.
//
// A settlement is admitted once (admit) and holds a place until it is finished (finish),
// however many times it is queued meanwhile (first look, quick rechecks). Over the cap it is
// refused and the payer is told `busy`. Settlements of unknown payers (the caller says which
// are known: a record of confirmed payments to us, say) share only part of the cap, so a
// flood of them from new addresses leaves room for the known ones; and they are served after
// them. Within a class, first looks come before rechecks, and otherwise the oldest first.
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

namespace bttnode::pay {

struct VerifyQueueLimits {
  int max_total = 64;    // settlements admitted at once, all peers
  int max_unknown = 48;  // of which of unknown payers
};

template <class Job>
class VerifyQueue {
 public:
  explicit VerifyQueue(VerifyQueueLimits limits = {}) : limits_(limits) {}

  // Takes a place for a new settlement of a known or unknown payer; false: over the cap,
  // refuse it as busy.
  bool admit(bool known) {
    if (admitted_ >= limits_.max_total) return false;
    if (!known && admitted_unknown_ >= limits_.max_unknown) return false;
    ++admitted_;
    if (!known) ++admitted_unknown_;
    return true;
  }
  // Gives the place back (the settlement was answered, or dropped).
  void finish(bool known) {
    if (admitted_ > 0) --admitted_;
    if (!known && admitted_unknown_ > 0) --admitted_unknown_;
  }

  // Queues an admitted settlement's next check.
  void push(Job job, bool known, bool recheck) {
    waiting_.emplace(Key{known ? 0 : 1, recheck ? 1 : 0, ++seq_}, std::move(job));
  }
  // The next check to run, best first.
  std::optional<Job> pop() {
    if (waiting_.empty()) return std::nullopt;
    auto it = waiting_.begin();
    Job job = std::move(it->second);
    waiting_.erase(it);
    return job;
  }
  // Drops every waiting check (shutdown); returns how many.
  std::size_t clear() {
    std::size_t n = waiting_.size();
    waiting_.clear();
    return n;
  }

  int admitted() const { return admitted_; }
  int admitted_unknown() const { return admitted_unknown_; }
  std::size_t waiting() const { return waiting_.size(); }
  const VerifyQueueLimits& limits() const { return limits_; }

 private:
  using Key = std::tuple<int, int, std::uint64_t>;  // (class, recheck, arrival)
  VerifyQueueLimits limits_;
  std::map<Key, Job> waiting_;
  std::uint64_t seq_ = 0;
  int admitted_ = 0;
  int admitted_unknown_ = 0;
};

}  // namespace bttnode::pay
