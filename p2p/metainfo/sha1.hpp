#pragma once
// SHA-1 through OpenSSL's EVP interface, which uses the SHA-NI instructions where the CPU
// has them.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "p2p/wire/core_types.hpp"

namespace p2p {

Sha1Digest sha1(std::span<const std::uint8_t> data);
Sha1Digest sha1(std::string_view data);

// Incremental hashing (a piece spread over several files or blocks).
class Sha1Hasher {
 public:
  Sha1Hasher();
  ~Sha1Hasher();
  Sha1Hasher(Sha1Hasher&&) noexcept;
  Sha1Hasher& operator=(Sha1Hasher&&) noexcept;

  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  // Returns the digest and resets the hasher for the next message.
  Sha1Digest finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace p2p
