#pragma once
// TIP-191 signed messages, as tronweb's signMessageV2/verifyMessageV2 make and check them:
// digest = keccak256("\x19TRON Signed Message:\n" + decimal byte length + message), and a
// 65-byte signature r|s|v with v = 27 or 28.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tron/address.hpp"
#include "tron/hashes.hpp"
#include "tron/keys.hpp"

namespace tron {

Hash32 tip191_digest(std::span<const std::uint8_t> message);
Hash32 tip191_digest(std::string_view message);

// v is 27 or 28.
Signature sign_message(const PrivateKey& key, std::string_view message);
// "0x" + 130 lower-case hex digits, exactly as tronweb's signMessageV2 returns it.
std::string sign_message_hex(const PrivateKey& key, std::string_view message);

// The address the signature recovers to; nullopt if it does not recover. v may be 0/1 or
// 27/28.
std::optional<Address> recover_message_signer(std::string_view message,
                                              std::span<const std::uint8_t> signature);
bool verify_message(std::string_view message, std::span<const std::uint8_t> signature,
                    const Address& address);
// Hex signature with or without 0x; false (never a throw) when it is not 65 bytes of hex.
bool verify_message(std::string_view message, std::string_view signature_hex,
                    const Address& address);

}  // namespace tron
