#pragma once
// One background thread for the blocking chain and ledger work of the payment layer (full
// node requests, signing, SQLite), so the peer engine's I/O thread never waits on them.
// Jobs run in order; their results go back to the engine's io_context with `reply`.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

namespace bttnode {

class ChainWorker {
 public:
  explicit ChainWorker(boost::asio::io_context& io) : io_(io), pool_(1) {}
  ~ChainWorker() { join(); }
  ChainWorker(const ChainWorker&) = delete;
  ChainWorker& operator=(const ChainWorker&) = delete;

  // Runs `job` on the worker thread.
  void run(std::function<void()> job) {
    ++queued_;
    boost::asio::post(pool_, [this, job = std::move(job)] {
      job();
      --queued_;
    });
  }
  // Runs `job` on the worker thread after `delay`, leaving the thread free meanwhile. It counts
  // as busy, and join() waits for it, from now on.
  void run_after(std::chrono::milliseconds delay, std::function<void()> job) {
    ++queued_;
    auto timer = std::make_shared<boost::asio::steady_timer>(pool_.get_executor(), delay);
    timer->async_wait([this, timer, job = std::move(job)](const boost::system::error_code&) {
      job();
      --queued_;
    });
  }
  // Runs `fn` on the engine's thread (call from a job).
  void reply(std::function<void()> fn) { boost::asio::post(io_, std::move(fn)); }
  // Jobs queued or running.
  int busy() const { return queued_.load(); }
  // Waits for every queued job, then stops the thread.
  void join() {
    if (joined_) return;
    joined_ = true;
    pool_.join();
  }

 private:
  boost::asio::io_context& io_;
  boost::asio::thread_pool pool_;
  std::atomic<int> queued_{0};
  bool joined_ = false;
};

}  // namespace bttnode
