// Drives the MSE handshake in both roles with arbitrary bytes from the other side, in chunks,
// with fixed keys and pads so runs repeat. The first byte picks the role, the methods and
// whether the responder knows the torrent.
#include <cstddef>
#include <cstdint>

#include "p2p/transport/mse_handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::uint8_t mode = data[0];
  ++data;
  --size;
  using p2p::mse::Handshake;
  Handshake::Options o;
  o.methods = (mode >> 1) & 3;
  o.info_hash.fill(0x42);
  o.pad_length = (mode >> 3) & 1 ? 512 : 0;
  o.private_key.emplace();
  o.private_key->fill(0x17);
  if (mode & 16) o.initial_payload.assign(68, 0x13);
  bool knows = mode & 32;
  o.find_torrent = [knows](const p2p::Sha1Digest& req2) -> std::optional<p2p::InfoHash> {
    p2p::InfoHash h;
    h.fill(0x42);
    if (knows && p2p::mse::req2_hash(h) == req2) return h;
    return std::nullopt;
  };
  Handshake hs(mode & 1 ? Handshake::Role::responder : Handshake::Role::initiator, std::move(o));
  std::size_t pos = 0;
  while (pos < size && hs.state() == Handshake::State::running) {
    std::size_t n = std::min<std::size_t>(size - pos, 1 + (data[pos] & 127));
    hs.on_bytes(std::span<const std::uint8_t>(data + pos, n));
    pos += n;
    auto out = hs.take_output();
    if (out.size() > 96 + 512 + 20 + 20 + 14 + 65535 + 512) __builtin_trap();
  }
  if (hs.state() == Handshake::State::done) {
    if (hs.method() != 1 && hs.method() != 2) __builtin_trap();
    std::vector<std::uint8_t> p = hs.payload();
    hs.decryptor().apply(p);
    hs.encryptor().apply(p);
  }
  return 0;
}
