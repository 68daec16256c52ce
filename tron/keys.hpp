#pragma once
// secp256k1 private keys, recoverable signatures (65 bytes r|s|v, RFC 6979 nonces, low-S,
// v = 0 or 1) and signer recovery.
#include <array>
#include <optional>

#include "tron/address.hpp"
#include "tron/hashes.hpp"

namespace tron {

using Signature = std::array<std::uint8_t, 65>;
using PublicKey = std::array<std::uint8_t, 65>;  // uncompressed, 0x04 | X | Y

// Holds 32 secret bytes in locked memory that is kept out of core dumps and wiped on
// destruction (tron/secure_memory.hpp). Never printed or logged.
class PrivateKey {
 public:
  // Fresh key from the OS random source.
  static PrivateKey generate();
  // Throws std::invalid_argument if the bytes are not a valid secp256k1 secret.
  static PrivateKey from_bytes(std::span<const std::uint8_t> secret32);
  // Throws std::invalid_argument on bad hex or an invalid secret.
  static PrivateKey from_hex(std::string_view hex);

  PrivateKey(const PrivateKey&);
  PrivateKey& operator=(const PrivateKey&);
  ~PrivateKey();

  PublicKey public_key() const;
  Address address() const;
  // Signs a 32-byte digest.
  Signature sign_digest(const Hash32& digest) const;
  // The secret itself, for the keystore to encrypt. Callers must wipe their copy.
  const std::array<std::uint8_t, 32>& secret() const { return *secret_; }

 private:
  PrivateKey();
  std::array<std::uint8_t, 32>* secret_;  // in secure memory, never null
};

// Accepts v as 0/1 or 27/28. nullopt if the signature does not recover.
std::optional<Address> recover_signer(const Hash32& digest, const Signature& signature);
std::optional<Address> recover_signer(const Hash32& digest, std::span<const std::uint8_t> sig65);

}  // namespace tron
