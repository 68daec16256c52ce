#include "tron/hashes.hpp"

#include <crypto++/keccak.h>
#include <openssl/sha.h>

namespace tron {

Hash32 sha256(std::span<const std::uint8_t> data) {
  Hash32 out;
  SHA256(data.data(), data.size(), out.data());  // OpenSSL picks SHA-NI where the CPU has it
  return out;
}

Hash32 keccak256(std::span<const std::uint8_t> data) {
  Hash32 out;
  CryptoPP::Keccak_256 hash;
  hash.Update(data.data(), data.size());
  hash.Final(out.data());
  return out;
}

}  // namespace tron
