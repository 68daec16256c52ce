#pragma once
// Workers that verify settlements in parallel, each with a full-node client of its own so
// that one slow answer holds up only its worker. Settlements wait in a VerifyQueue: admitted
// under a cap for the whole process, served payers-with-a-record first. stop() ends the
// workers after the call each is in; what still waits is dropped.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "node/pay/verify_queue.hpp"
#include "tron/fullnode_client.hpp"

namespace bttnode::pay {

struct VerifyPoolOptions {
  int workers = 4;
  VerifyQueueLimits limits;
};

class VerifyPool {
 public:
  using Task = std::function<void(tron::FullNodeClient& node)>;
  VerifyPool(const tron::FullNodeOptions& node, VerifyPoolOptions options);
  ~VerifyPool() { stop(); }
  VerifyPool(const VerifyPool&) = delete;
  VerifyPool& operator=(const VerifyPool&) = delete;

  // A place for a new settlement (see VerifyQueue::admit); finish() gives it back.
  bool admit(bool known);
  void finish(bool known);
  // Runs an admitted settlement's check on a worker; post_after: a recheck, after `delay`.
  void post(Task task, bool known, bool recheck = false);
  void post_after(std::chrono::milliseconds delay, Task task, bool known);
  void stop();

  int admitted() const;

 private:
  struct Delayed {
    Task task;
    bool known;
  };
  void work(tron::FullNodeClient& node);

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  VerifyQueue<Task> queue_;
  std::multimap<std::chrono::steady_clock::time_point, Delayed> delayed_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<tron::FullNodeClient>> nodes_;
  std::vector<std::thread> threads_;
};

}  // namespace bttnode::pay
