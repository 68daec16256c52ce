#pragma once
// The parties of the btt_pay state-machine tests: a chain id, a torrent, both peer ids and
// numbered test keys.
#include <cstdio>
#include <string>

#include "tron/keys.hpp"

namespace pay_test {

inline const std::string kChain(64, 'c');
inline const std::string kInfoHash(40, 'a');
inline const std::string kSeederId(40, 'b');
inline const std::string kLeecherId(40, 'd');

// The private key 0x00..0n: a valid secp256k1 key for any small n > 0.
inline tron::PrivateKey key(int n) {
  char buf[65];
  std::snprintf(buf, sizeof buf, "%064x", n);
  return tron::PrivateKey::from_hex(buf);
}

}  // namespace pay_test
