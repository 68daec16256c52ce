#include <gtest/gtest.h>

#include "tron/address.hpp"
#include "tron/keys.hpp"

TEST(Address, FromPrivateKeyOne) {
  auto key = tron::PrivateKey::from_hex("0000000000000000000000000000000000000000000000000000000000000001");
  EXPECT_EQ(key.address().to_base58(), "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC");
  EXPECT_EQ(key.address().to_hex(), "417e5f4552091a69125d5dfcb7b8c2659029395bdf");
}

TEST(Address, RejectsBadChecksum) {
  EXPECT_FALSE(tron::Address::parse("TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HD"));
  EXPECT_TRUE(tron::Address::parse("417e5f4552091a69125d5dfcb7b8c2659029395bdf"));
}
