#include "p2p/metainfo/sha1.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace p2p {

struct Sha1Hasher::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

namespace {

void init(EVP_MD_CTX* md) {
  if (EVP_DigestInit_ex(md, EVP_sha1(), nullptr) != 1) throw std::runtime_error("SHA-1 init");
}

}  // namespace

Sha1Hasher::Sha1Hasher() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (!ctx_->md) throw std::bad_alloc();
  init(ctx_->md);
}

Sha1Hasher::~Sha1Hasher() = default;
Sha1Hasher::Sha1Hasher(Sha1Hasher&&) noexcept = default;
Sha1Hasher& Sha1Hasher::operator=(Sha1Hasher&&) noexcept = default;

void Sha1Hasher::update(std::span<const std::uint8_t> data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

void Sha1Hasher::update(std::string_view data) {
  if (!data.empty()) EVP_DigestUpdate(ctx_->md, data.data(), data.size());
}

Sha1Digest Sha1Hasher::finish() {
  Sha1Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, out.data(), &len);
  init(ctx_->md);
  return out;
}

Sha1Digest sha1(std::span<const std::uint8_t> data) {
  Sha1Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha1(), nullptr);
  return out;
}

Sha1Digest sha1(std::string_view data) {
  return sha1({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}

}  // namespace p2p
