#pragma once
// Threads that run disk work (piece writes and hashes, checks, resume data, block reads) so
// the network thread never waits on the disk. A session owns its pools; jobs of one pool run
// in the order posted when it has one thread. Whoever posts a job keeps what it touches alive
// until it has run.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace p2p {

class DiskPool {
 public:
  explicit DiskPool(int threads);
  ~DiskPool();  // runs what is queued, then joins
  DiskPool(const DiskPool&) = delete;
  DiskPool& operator=(const DiskPool&) = delete;

  void post(std::function<void()> job);
  std::size_t queued() const;
  int num_threads() const { return int(threads_.size()); }

 private:
  void run();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace p2p
