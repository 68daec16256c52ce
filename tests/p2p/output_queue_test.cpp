// The send queue's parts: disk buffers that go back to their pool, and a queue that sends
// blocks from the buffer they were read into.
#include <gtest/gtest.h>

#include <string>

#include "p2p/peer/output_queue.hpp"
#include "p2p/storage/disk_buffer.hpp"

namespace {

std::string joined(std::span<const std::span<const std::uint8_t>> runs) {
  std::string s;
  for (auto r : runs) s.append(reinterpret_cast<const char*>(r.data()), r.size());
  return s;
}

std::span<const std::uint8_t> bytes(const char* s) {
  return {reinterpret_cast<const std::uint8_t*>(s), std::strlen(s)};
}

TEST(DiskBufferPool, GivesBuffersBackAndKeepsAtMostItsCap) {
  p2p::DiskBufferPool pool(1024, 2);
  const std::uint8_t* kept;
  {
    auto a = pool.take(100);
    EXPECT_EQ(a->size(), 100u);
    auto b = pool.take(1024);
    kept = b->data();
    auto c = pool.take(1024);
    EXPECT_EQ(pool.free_buffers(), 0u);
  }  // c and b go back, a is freed
  EXPECT_EQ(pool.free_buffers(), 2u);
  auto again = pool.take(512);
  auto other = pool.take(512);
  EXPECT_TRUE(again->data() == kept || other->data() == kept);  // memory reused
  EXPECT_EQ(pool.free_buffers(), 0u);
  {
    auto big = pool.take(4096);  // over the pool's size: a buffer of its own
    EXPECT_EQ(big->size(), 4096u);
  }
  EXPECT_EQ(pool.free_buffers(), 0u);
}

TEST(OutputQueue, KeepsOrderAndSendsSharedBytesInPlace) {
  p2p::OutputQueue q;
  auto block = p2p::DiskBuffer::copy_of(bytes("BLOCKDATA"));
  std::weak_ptr<const p2p::DiskBuffer> watch = block;
  q.append("hd1", 3);
  q.append("+", 1);
  q.append_shared(block, block->bytes().subspan(0, 5));
  q.append("hd2", 3);
  q.append_shared(block, block->bytes().subspan(5));
  block.reset();
  EXPECT_EQ(q.size(), 3u + 1 + 5 + 3 + 4);
  auto runs = q.buffers();
  ASSERT_EQ(runs.size(), 4u);  // small bytes run together; each block run on its own
  EXPECT_EQ(joined(runs), "hd1+BLOCKhd2DATA");
  EXPECT_EQ(runs[1].data(), watch.lock()->data());  // not a copy
  EXPECT_FALSE(watch.expired());                    // held while queued
  p2p::OutputQueue w;
  w.swap(q);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(joined(w.buffers()), "hd1+BLOCKhd2DATA");
  w.clear();
  EXPECT_TRUE(watch.expired());  // written: back to its pool
  EXPECT_TRUE(w.buffers().empty());
}

}  // namespace
