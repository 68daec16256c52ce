#include "tron/tip191.hpp"

#include <stdexcept>

#include "tron/hex.hpp"

namespace tron {

namespace {
constexpr std::string_view kPrefix = "\x19TRON Signed Message:\n";
}  // namespace

Hash32 tip191_digest(std::span<const std::uint8_t> message) {
  std::string data;
  const std::string length = std::to_string(message.size());
  data.reserve(kPrefix.size() + length.size() + message.size());
  data.append(kPrefix);
  data.append(length);
  data.append(reinterpret_cast<const char*>(message.data()), message.size());
  return keccak256(as_bytes(data));
}

Hash32 tip191_digest(std::string_view message) { return tip191_digest(as_bytes(message)); }

Signature sign_message(const PrivateKey& key, std::string_view message) {
  Signature sig = key.sign_digest(tip191_digest(message));
  sig[64] = static_cast<std::uint8_t>(sig[64] + 27);
  return sig;
}

std::string sign_message_hex(const PrivateKey& key, std::string_view message) {
  return "0x" + to_hex(sign_message(key, message));
}

std::optional<Address> recover_message_signer(std::string_view message,
                                              std::span<const std::uint8_t> signature) {
  if (signature.size() != 65) return std::nullopt;
  return recover_signer(tip191_digest(message), signature);
}

bool verify_message(std::string_view message, std::span<const std::uint8_t> signature,
                    const Address& address) {
  auto signer = recover_message_signer(message, signature);
  return signer && *signer == address;
}

bool verify_message(std::string_view message, std::string_view signature_hex,
                    const Address& address) {
  Bytes sig;
  try {
    sig = from_hex(signature_hex);
  } catch (const std::invalid_argument&) {
    return false;
  }
  return verify_message(message, std::span<const std::uint8_t>(sig), address);
}

}  // namespace tron
