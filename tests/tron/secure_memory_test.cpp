// Private keys and passwords live in locked memory that is wiped when released.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tron/keys.hpp"
#include "tron/secure_memory.hpp"

namespace tron {
namespace {

bool all_zero(const std::uint8_t* p, std::size_t n) {
  return std::all_of(p, p + n, [](std::uint8_t b) { return b == 0; });
}

TEST(SecureMemory, PrivateKeyIsLockedAndWipedOnDestruction) {
  const std::uint8_t* storage = nullptr;
  {
    PrivateKey key = PrivateKey::from_hex(std::string(63, '0') + "1");
    storage = key.secret().data();
    EXPECT_EQ(storage[31], 1);
    EXPECT_TRUE(secure::is_locked(storage)) << "mlock refused (RLIMIT_MEMLOCK?)";
  }
  // The slot stays mapped in the pool: after the key is gone, its 32 bytes are zero.
  EXPECT_TRUE(all_zero(storage, 32));
}

TEST(SecureMemory, CopiesHaveTheirOwnWipedStorage) {
  PrivateKey a = PrivateKey::generate();
  const std::uint8_t* copy_storage = nullptr;
  {
    PrivateKey b = a;
    copy_storage = b.secret().data();
    EXPECT_NE(copy_storage, a.secret().data());
    EXPECT_EQ(b.secret(), a.secret());
    EXPECT_FALSE(all_zero(copy_storage, 32));
  }
  EXPECT_TRUE(all_zero(copy_storage, 32));
  EXPECT_FALSE(all_zero(a.secret().data(), 32));  // the original is untouched
}

TEST(SecureMemory, ManyKeysShareLockedPages) {
  // 200 keys fill four pages of 64-byte slots: within the default 64 KiB RLIMIT_MEMLOCK, so
  // every one is locked, where a page per key would pass the limit after 16.
  std::vector<PrivateKey> keys;
  for (int i = 0; i < 200; ++i) keys.push_back(PrivateKey::generate());
  for (const auto& k : keys) EXPECT_TRUE(secure::is_locked(k.secret().data()));
}

TEST(SecureMemory, SecretStringIsLockedAndWiped) {
  const char* storage = nullptr;
  {
    SecretString password;
    password.reserve(40);  // a pool slot, which stays mapped after release
    password = "correct horse battery staple";
    storage = password.data();
    EXPECT_TRUE(secure::is_locked(storage));
    wipe(password);
    EXPECT_TRUE(password.empty());
  }
  EXPECT_TRUE(std::all_of(storage, storage + 28, [](char c) { return c == 0; }));
}

}  // namespace
}  // namespace tron
