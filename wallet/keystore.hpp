#pragma once
// The encrypted key file. One JSON object:
//
//   {"version":1, "address":"T…",
//    "kdf":{"name":"scrypt","n":131072,"r":8,"p":1,"salt":"<32 bytes hex>"},
//    "cipher":{"name":"aes-256-gcm","iv":"<12 bytes hex>"},
//    "check":"<32 bytes hex>", "ciphertext":"<32 bytes hex>", "tag":"<16 bytes hex>",
//    "checksum":"<sha256 hex of every other field>"}
//
// scrypt(password, salt) gives 64 bytes: the first 32 are the AES key, the SHA-256 of the
// last 32 is the password check value. The header (version, address, kdf, cipher) is the
// GCM associated data, so changing any of it makes decryption fail. The unkeyed checksum
// catches an edited or damaged file before any password is tried, so "tampered" and "wrong
// password" are told apart; a tamperer who also recomputes the checksum can at most make a
// tampered file look like a wrong password, never make it decrypt.
//
// Permissions: the file is written with mode 0600 and open_keystore refuses a file that the
// group or others can read or write (like ssh with private keys); keystore_address, which
// reads no secret, does not check the mode.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tron/address.hpp"
#include "tron/keys.hpp"

namespace wallet {

class KeystoreError : public std::runtime_error {
 public:
  enum class Kind {
    WrongPassword,  // the password check value does not match
    Tampered,       // checksum, authentication tag or address mismatch
    Corrupt,        // truncated, not JSON, missing or malformed fields, bad parameters
    Io,             // the file cannot be read, written or synced
    Exists,         // create_keystore would overwrite a file
    Permissions,    // the file is readable or writable by group or others
  };
  KeystoreError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

const char* to_string(KeystoreError::Kind kind);

struct ScryptParams {
  std::uint64_t n = 1u << 17;  // 128 MiB with r = 8; about half a second on a laptop core
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};

// Writes a new keystore atomically (a 0600 temp file made with O_EXCL, fsync, rename without
// replacing, fsync of the folder). Throws KeystoreError{Exists} if the path exists, {Io} on
// a write failure, std::invalid_argument on an empty password.
void create_keystore(const std::filesystem::path& path, const tron::PrivateKey& key,
                     std::string_view password);
// As above with explicit scrypt parameters (tests use cheap ones).
void create_keystore(const std::filesystem::path& path, const tron::PrivateKey& key,
                     std::string_view password, const ScryptParams& params);

// Decrypts the key. Throws KeystoreError. The scrypt parameters of the file are checked first
// (n <= 2^20, r <= 16, p <= 4, at most 256 MiB): beyond, KeystoreError{Corrupt} before any
// work is done.
tron::PrivateKey open_keystore(const std::filesystem::path& path, std::string_view password);

// Whose address is it? Without a secret nothing can be authenticated: whoever can write the
// file can change the clear "address" field and recompute the unkeyed checksum, or replace
// the whole file with a keystore of their own. Storing the public key next to the address
// would not help (an attacker replaces both). So:
//  - verified_keystore_address decrypts with the password; the address is in the GCM
//    associated data and must be the decrypted key's address, so a changed address fails as
//    Tampered, and a replaced file fails as WrongPassword. Use it whenever a password is
//    available, and always where money is sent to the address (a seeder's payout address).
//  - keystore_address reads the clear field without a password. It is UNVERIFIED: callers
//    show it with a warning, or use it only where a wrong value cannot redirect money.
tron::Address verified_keystore_address(const std::filesystem::path& path,
                                        std::string_view password);
// The address stored in clear in the file, unverified (see above). Throws
// KeystoreError{Io, Corrupt, Tampered}.
tron::Address keystore_address(const std::filesystem::path& path);

}  // namespace wallet
