#include "tron/keys.hpp"

#include "tron/secure_memory.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <stdexcept>

namespace tron {

namespace {

// One context for the process: after creation and randomization it is only read, which
// libsecp256k1 allows from many threads at once.
const secp256k1_context* context() {
  static const secp256k1_context* ctx = [] {
    secp256k1_context* c =
        secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
    unsigned char seed[32];
    if (RAND_bytes(seed, sizeof seed) == 1) {
      if (!secp256k1_context_randomize(c, seed))
        throw std::runtime_error("secp256k1 randomize failed");
    }
    OPENSSL_cleanse(seed, sizeof seed);
    return c;
  }();
  return ctx;
}

}  // namespace

PrivateKey PrivateKey::generate() {
  PrivateKey key;
  do {
    if (RAND_bytes(key.secret_->data(), static_cast<int>(key.secret_->size())) != 1) {
      throw std::runtime_error("the OS random source failed");
    }
  } while (!secp256k1_ec_seckey_verify(context(), key.secret_->data()));
  return key;
}

PrivateKey PrivateKey::from_bytes(std::span<const std::uint8_t> secret32) {
  if (secret32.size() != 32) throw std::invalid_argument("a private key is 32 bytes");
  PrivateKey key;
  std::copy(secret32.begin(), secret32.end(), key.secret_->begin());
  if (!secp256k1_ec_seckey_verify(context(), key.secret_->data())) {
    throw std::invalid_argument("not a valid secp256k1 private key");
  }
  return key;
}

PrivateKey PrivateKey::from_hex(std::string_view hex) {
  Bytes raw;
  try {
    raw = tron::from_hex(hex);
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument("a private key must be 64 hex digits");
  }
  if (raw.size() != 32) {
    OPENSSL_cleanse(raw.data(), raw.size());
    throw std::invalid_argument("a private key must be 64 hex digits");
  }
  try {
    PrivateKey key = from_bytes(raw);
    OPENSSL_cleanse(raw.data(), raw.size());
    return key;
  } catch (...) {
    OPENSSL_cleanse(raw.data(), raw.size());
    throw;
  }
}

using Secret = std::array<std::uint8_t, 32>;

PrivateKey::PrivateKey() : secret_(new (secure::allocate(sizeof(Secret))) Secret{}) {}

PrivateKey::PrivateKey(const PrivateKey& other) : PrivateKey() {
  *secret_ = *other.secret_;
}

PrivateKey& PrivateKey::operator=(const PrivateKey& other) {
  *secret_ = *other.secret_;
  return *this;
}

// release() wipes the slot before it is reused.
PrivateKey::~PrivateKey() {
  secure::release(secret_, sizeof(Secret));
}

PublicKey PrivateKey::public_key() const {
  secp256k1_pubkey pub;
  if (!secp256k1_ec_pubkey_create(context(), &pub, secret_->data())) {
    throw std::runtime_error("public key derivation failed");
  }
  PublicKey out;
  std::size_t len = out.size();
  secp256k1_ec_pubkey_serialize(context(), out.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  return out;
}

Address PrivateKey::address() const {
  return Address::from_public_key(public_key());
}

Signature PrivateKey::sign_digest(const Hash32& digest) const {
  secp256k1_ecdsa_recoverable_signature sig;
  // The default nonce function is RFC 6979; libsecp256k1 always produces low-S.
  if (!secp256k1_ecdsa_sign_recoverable(context(), &sig, digest.data(), secret_->data(), nullptr,
                                        nullptr)) {
    throw std::runtime_error("signing failed");
  }
  Signature out;
  int recid = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context(), out.data(), &recid, &sig);
  out[64] = static_cast<std::uint8_t>(recid);
  return out;
}

std::optional<Address> recover_signer(const Hash32& digest, std::span<const std::uint8_t> sig65) {
  if (sig65.size() != 65) return std::nullopt;
  int v = sig65[64];
  if (v >= 27) v -= 27;
  if (v < 0 || v > 3) return std::nullopt;
  secp256k1_ecdsa_recoverable_signature sig;
  if (!secp256k1_ecdsa_recoverable_signature_parse_compact(context(), &sig, sig65.data(), v)) {
    return std::nullopt;
  }
  secp256k1_pubkey pub;
  if (!secp256k1_ecdsa_recover(context(), &pub, &sig, digest.data())) return std::nullopt;
  PublicKey out;
  std::size_t len = out.size();
  secp256k1_ec_pubkey_serialize(context(), out.data(), &len, &pub, SECP256K1_EC_UNCOMPRESSED);
  return Address::from_public_key(out);
}

std::optional<Address> recover_signer(const Hash32& digest, const Signature& signature) {
  return recover_signer(digest, std::span<const std::uint8_t>(signature));
}

}  // namespace tron
