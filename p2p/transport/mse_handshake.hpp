#pragma once
// Message stream encryption (MSE/PE, the Vuze protocol): a Diffie-Hellman exchange over the
// 768-bit prime, then RC4 keyed from the shared secret and the info-hash. This is the handshake
// alone, with no I/O: bytes received go in, bytes to send come out, and it ends in done (with
// the method chosen) or failed. Every length a peer sends is bounded by the spec's limits; the
// time it may take is the caller's to bound.
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "p2p/wire/core_types.hpp"

namespace p2p::mse {

inline constexpr std::uint32_t kPlaintext = 0x01;
inline constexpr std::uint32_t kRc4 = 0x02;
inline constexpr std::size_t kKeyBytes = 96;  // a DH public key on the wire
inline constexpr std::size_t kMaxPad = 512;

// RC4 with the first 1024 bytes of keystream discarded, as MSE uses it.
class Rc4 {
 public:
  Rc4() = default;
  explicit Rc4(std::span<const std::uint8_t> key, std::size_t discard = 1024);
  void apply(std::span<std::uint8_t> data);
  void apply(std::span<const std::uint8_t> in, std::uint8_t* out);

 private:
  std::array<std::uint8_t, 256> s_{};
  std::uint8_t i_ = 0, j_ = 0;
};

// HASH('req2', info_hash): what a responder looks a torrent up by.
Sha1Digest req2_hash(const InfoHash& info_hash);

class Handshake {
 public:
  enum class Role { initiator, responder };
  enum class State { running, done, failed };
  // Given HASH('req2', SKEY), the info-hash of the torrent it names, if we have it.
  using FindTorrent = std::function<std::optional<InfoHash>(const Sha1Digest& req2)>;

  struct Options {
    // Initiator: the methods offered (crypto_provide). Responder: the methods accepted.
    std::uint32_t methods = kPlaintext | kRc4;
    // Responder: pick RC4 over plaintext when the initiator offers both.
    bool prefer_rc4 = true;
    InfoHash info_hash{};                       // initiator: SKEY
    FindTorrent find_torrent;                   // responder
    std::vector<std::uint8_t> initial_payload;  // initiator: IA, sent inside the handshake
    std::optional<std::size_t> pad_length;      // default: random in [0, 512]
    std::optional<std::array<std::uint8_t, 20>> private_key;  // default: random
  };

  Handshake(Role role, Options options);
  ~Handshake();
  Handshake(const Handshake&) = delete;
  Handshake& operator=(const Handshake&) = delete;

  // Takes all of `data`: bytes past the end of the handshake are kept as payload().
  void on_bytes(std::span<const std::uint8_t> data);
  // Bytes to send, in order; empties the queue.
  std::vector<std::uint8_t> take_output();

  State state() const { return state_; }
  const std::string& error() const { return error_; }
  // Valid once done.
  std::uint32_t method() const { return method_; }
  const InfoHash& info_hash() const { return options_.info_hash; }
  // Responder: IA, decrypted.
  std::vector<std::uint8_t>& initial_payload() { return ia_; }
  // Bytes received after the handshake, as they came (still RC4-encrypted if that was chosen).
  std::vector<std::uint8_t>& payload() { return in_; }
  // The ciphers for the rest of the stream (also used for plaintext-method bookkeeping only).
  Rc4& encryptor() { return enc_; }
  Rc4& decryptor() { return dec_; }

 private:
  enum class Step {
    await_key,     // the other side's public key
    find_vc,       // initiator: the encrypted VC after PadB
    read_select,   // initiator: crypto_select, len(PadD)
    read_pad_d,    // initiator
    find_req1,     // responder: HASH('req1', S) after PadA
    read_skey,     // responder: HASH('req2', SKEY) xor HASH('req3', S)
    read_provide,  // responder: VC, crypto_provide, len(PadC)
    read_pad_c,    // responder: PadC, len(IA)
    read_ia,       // responder
    finished,
  };
  struct Dh;

  void step();
  bool fail(std::string why);
  void send_public_key();
  bool on_public_key();
  void make_keys(bool initiator);
  void append_pad(std::vector<std::uint8_t>& out);
  void consume(std::size_t n) {
    in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  Role role_;
  Options options_;
  State state_ = State::running;
  Step step_ = Step::await_key;
  std::string error_;
  std::unique_ptr<Dh> dh_;
  std::array<std::uint8_t, kKeyBytes> secret_{};  // S, big-endian
  std::vector<std::uint8_t> in_;
  std::vector<std::uint8_t> out_;
  std::vector<std::uint8_t> ia_;
  std::array<std::uint8_t, 20> sync_{};  // the pattern being searched for
  std::uint32_t provided_ = 0;
  std::uint32_t method_ = 0;
  std::size_t pad_len_ = 0;
  std::size_t ia_len_ = 0;
  Rc4 enc_, dec_;
};

}  // namespace p2p::mse
