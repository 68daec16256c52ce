#include "node/pay/verify_pool.hpp"

#include <algorithm>

namespace bttnode::pay {

VerifyPool::VerifyPool(const tron::FullNodeOptions& node, VerifyPoolOptions options)
    : queue_(options.limits) {
  const int n = std::clamp(options.workers, 1, 64);
  for (int i = 0; i < n; ++i) nodes_.push_back(std::make_unique<tron::FullNodeClient>(node));
  for (int i = 0; i < n; ++i) threads_.emplace_back([this, i] { work(*nodes_[i]); });
}

bool VerifyPool::admit(bool known) {
  std::lock_guard lock(mutex_);
  return !stopping_ && queue_.admit(known);
}

void VerifyPool::finish(bool known) {
  std::lock_guard lock(mutex_);
  queue_.finish(known);
}

int VerifyPool::admitted() const {
  std::lock_guard lock(mutex_);
  return queue_.admitted();
}

void VerifyPool::post(Task task, bool known, bool recheck) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    queue_.push(std::move(task), known, recheck);
  }
  wake_.notify_one();
}

void VerifyPool::post_after(std::chrono::milliseconds delay, Task task, bool known) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    delayed_.emplace(std::chrono::steady_clock::now() + delay, Delayed{std::move(task), known});
  }
  // A sleeping worker must learn of the earlier deadline.
  wake_.notify_all();
}

void VerifyPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
    delayed_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void VerifyPool::work(tron::FullNodeClient& node) {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      auto d = std::move(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
      queue_.push(std::move(d.task), d.known, true);
    }
    if (auto task = queue_.pop()) {
      lock.unlock();
      try {
        (*task)(node);
      } catch (const std::exception&) {
        // A task reports its own failures; one that escapes must not end the worker.
      }
      lock.lock();
      continue;
    }
    if (delayed_.empty()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, delayed_.begin()->first);
    }
  }
}

}  // namespace bttnode::pay
