#include "p2p/transport/mse_handshake.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "p2p/metainfo/sha1.hpp"

namespace p2p::mse {
namespace {

// The 768-bit MSE prime; the generator is 2.
constexpr const char* kPrimeHex =
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E34"
    "04DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000"
    "090563";
constexpr std::size_t kVcBytes = 8;
constexpr std::size_t kHashBytes = 20;

Sha1Digest hash(std::string_view tag, std::span<const std::uint8_t> a,
                std::span<const std::uint8_t> b = {}) {
  Sha1Hasher h;
  h.update(tag);
  h.update(a);
  h.update(b);
  return h.finish();
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_u16(std::vector<std::uint8_t>& out, std::size_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}
std::size_t get_u16(const std::uint8_t* p) {
  return std::size_t(p[0]) << 8 | p[1];
}

void random_bytes(std::uint8_t* p, std::size_t n) {
  if (n > 0 && RAND_bytes(p, static_cast<int>(n)) != 1) {
    // Only the padding and the private key come from here; a failing RNG must not yield a
    // predictable key, so fall back to nothing weaker than abort.
    std::abort();
  }
}

}  // namespace

Rc4::Rc4(std::span<const std::uint8_t> key, std::size_t discard) {
  for (int k = 0; k < 256; ++k) s_[k] = static_cast<std::uint8_t>(k);
  std::uint8_t j = 0;
  for (std::size_t k = 0; k < 256; ++k) {
    j = static_cast<std::uint8_t>(j + s_[k] + key[k % key.size()]);
    std::swap(s_[k], s_[j]);
  }
  std::array<std::uint8_t, 256> drop{};
  for (; discard > 0; discard -= std::min(discard, drop.size()))
    apply(std::span<std::uint8_t>(drop.data(), std::min(discard, drop.size())));
}

void Rc4::apply(std::span<const std::uint8_t> in, std::uint8_t* out) {
  std::uint8_t i = i_, j = j_;
  for (std::size_t k = 0; k < in.size(); ++k) {
    i = static_cast<std::uint8_t>(i + 1);
    std::uint8_t si = s_[i];
    j = static_cast<std::uint8_t>(j + si);
    std::uint8_t sj = s_[j];
    s_[i] = sj;
    s_[j] = si;
    out[k] = in[k] ^ s_[static_cast<std::uint8_t>(si + sj)];
  }
  i_ = i;
  j_ = j;
}

void Rc4::apply(std::span<std::uint8_t> data) {
  apply(data, data.data());
}

Sha1Digest req2_hash(const InfoHash& info_hash) {
  return hash("req2", info_hash);
}

struct Handshake::Dh {
  BN_CTX* ctx = BN_CTX_new();
  BIGNUM* p = nullptr;
  BIGNUM* x = BN_new();  // our private key
  ~Dh() {
    BN_free(p);
    BN_clear_free(x);
    BN_CTX_free(ctx);
  }
};

Handshake::Handshake(Role role, Options options)
    : role_(role), options_(std::move(options)), dh_(std::make_unique<Dh>()) {
  BN_hex2bn(&dh_->p, kPrimeHex);
  std::array<std::uint8_t, 20> key{};
  if (options_.private_key)
    key = *options_.private_key;
  else
    random_bytes(key.data(), key.size());
  BN_bin2bn(key.data(), static_cast<int>(key.size()), dh_->x);
  if (options_.pad_length) options_.pad_length = std::min(*options_.pad_length, kMaxPad);
  if (options_.initial_payload.size() > 0xffff) options_.initial_payload.resize(0xffff);
  if (role_ == Role::initiator) send_public_key();
}

Handshake::~Handshake() = default;

bool Handshake::fail(std::string why) {
  state_ = State::failed;
  error_ = std::move(why);
  in_.clear();
  return false;
}

void Handshake::append_pad(std::vector<std::uint8_t>& out) {
  std::size_t n;
  if (options_.pad_length) {
    n = *options_.pad_length;
  } else {
    std::uint16_t r;
    random_bytes(reinterpret_cast<std::uint8_t*>(&r), sizeof r);
    n = r % (kMaxPad + 1);
  }
  std::size_t at = out.size();
  out.resize(at + n);
  random_bytes(out.data() + at, n);
}

void Handshake::send_public_key() {
  BIGNUM* y = BN_new();
  BIGNUM* g = BN_new();
  BN_set_word(g, 2);
  BN_mod_exp(y, g, dh_->x, dh_->p, dh_->ctx);
  std::size_t at = out_.size();
  out_.resize(at + kKeyBytes);
  BN_bn2binpad(y, out_.data() + at, kKeyBytes);
  BN_free(y);
  BN_free(g);
  append_pad(out_);
}

bool Handshake::on_public_key() {
  BIGNUM* y = BN_bin2bn(in_.data(), kKeyBytes, nullptr);
  BIGNUM* limit = BN_dup(dh_->p);
  BN_sub_word(limit, 1);
  // 1 and P-1 (and anything outside the group) would make the secret guessable.
  bool ok = BN_cmp(y, BN_value_one()) > 0 && BN_cmp(y, limit) < 0;
  if (ok) {
    BIGNUM* s = BN_new();
    BN_mod_exp(s, y, dh_->x, dh_->p, dh_->ctx);
    BN_bn2binpad(s, secret_.data(), kKeyBytes);
    BN_clear_free(s);
  }
  BN_free(y);
  BN_free(limit);
  consume(kKeyBytes);
  if (!ok) return fail("invalid public key");
  return true;
}

void Handshake::make_keys(bool initiator) {
  Sha1Digest a = hash("keyA", secret_, options_.info_hash);
  Sha1Digest b = hash("keyB", secret_, options_.info_hash);
  enc_ = Rc4(initiator ? a : b);
  dec_ = Rc4(initiator ? b : a);
}

void Handshake::on_bytes(std::span<const std::uint8_t> data) {
  if (state_ == State::failed) return;
  in_.insert(in_.end(), data.begin(), data.end());
  if (state_ == State::running) step();
}

std::vector<std::uint8_t> Handshake::take_output() {
  std::vector<std::uint8_t> out;
  out.swap(out_);
  return out;
}

void Handshake::step() {
  for (;;) {
    switch (step_) {
      case Step::await_key: {
        if (in_.size() < kKeyBytes) return;
        if (!on_public_key()) return;
        if (role_ == Role::initiator) {
          Sha1Digest req1 = hash("req1", secret_);
          Sha1Digest req2 = req2_hash(options_.info_hash);
          Sha1Digest req3 = hash("req3", secret_);
          out_.insert(out_.end(), req1.begin(), req1.end());
          for (std::size_t k = 0; k < kHashBytes; ++k) out_.push_back(req2[k] ^ req3[k]);
          make_keys(true);
          std::vector<std::uint8_t> plain(kVcBytes, 0);
          put_u32(plain, options_.methods);
          put_u16(plain, 0);  // no PadC: PadA already hides the lengths
          put_u16(plain, options_.initial_payload.size());
          plain.insert(plain.end(), options_.initial_payload.begin(),
                       options_.initial_payload.end());
          enc_.apply(plain);
          out_.insert(out_.end(), plain.begin(), plain.end());
          std::fill(sync_.begin(), sync_.end(), 0);
          dec_.apply(std::span<std::uint8_t>(sync_.data(), kVcBytes));
          step_ = Step::find_vc;
        } else {
          send_public_key();
          Sha1Digest req1 = hash("req1", secret_);
          std::copy(req1.begin(), req1.end(), sync_.begin());
          step_ = Step::find_req1;
        }
        break;
      }
      case Step::find_vc:
      case Step::find_req1: {
        std::size_t len = step_ == Step::find_vc ? kVcBytes : kHashBytes;
        auto it = std::search(in_.begin(), in_.end(), sync_.begin(), sync_.begin() + len);
        if (it == in_.end() || static_cast<std::size_t>(it - in_.begin()) > kMaxPad) {
          // The pattern starts within the first 512 bytes after the key or not at all.
          if (in_.size() >= kMaxPad + len) return void(fail("no sync within the padding bound"));
          return;
        }
        consume(static_cast<std::size_t>(it - in_.begin()) + len);
        step_ = step_ == Step::find_vc ? Step::read_select : Step::read_skey;
        break;
      }
      case Step::read_select: {
        if (in_.size() < 6) return;
        dec_.apply(std::span<std::uint8_t>(in_.data(), 6));
        std::uint32_t select = get_u32(in_.data());
        pad_len_ = get_u16(in_.data() + 4);
        consume(6);
        if ((select != kPlaintext && select != kRc4) || !(select & options_.methods))
          return void(fail("peer selected a method not offered"));
        if (pad_len_ > kMaxPad) return void(fail("PadD too long"));
        method_ = select;
        step_ = Step::read_pad_d;
        break;
      }
      case Step::read_pad_d: {
        if (in_.size() < pad_len_) return;
        dec_.apply(std::span<std::uint8_t>(in_.data(), pad_len_));
        consume(pad_len_);
        step_ = Step::finished;
        state_ = State::done;
        return;
      }
      case Step::read_skey: {
        if (in_.size() < kHashBytes) return;
        Sha1Digest req3 = hash("req3", secret_);
        Sha1Digest req2;
        for (std::size_t k = 0; k < kHashBytes; ++k) req2[k] = in_[k] ^ req3[k];
        consume(kHashBytes);
        std::optional<InfoHash> ih;
        if (options_.find_torrent) ih = options_.find_torrent(req2);
        if (!ih) return void(fail("unknown torrent"));
        options_.info_hash = *ih;
        make_keys(false);
        step_ = Step::read_provide;
        break;
      }
      case Step::read_provide: {
        if (in_.size() < kVcBytes + 6) return;
        dec_.apply(std::span<std::uint8_t>(in_.data(), kVcBytes + 6));
        if (std::any_of(in_.begin(), in_.begin() + kVcBytes, [](std::uint8_t b) { return b != 0; }))
          return void(fail("bad verification constant"));
        provided_ = get_u32(in_.data() + kVcBytes);
        pad_len_ = get_u16(in_.data() + kVcBytes + 4);
        consume(kVcBytes + 6);
        if (pad_len_ > kMaxPad) return void(fail("PadC too long"));
        step_ = Step::read_pad_c;
        break;
      }
      case Step::read_pad_c: {
        if (in_.size() < pad_len_ + 2) return;
        dec_.apply(std::span<std::uint8_t>(in_.data(), pad_len_ + 2));
        ia_len_ = get_u16(in_.data() + pad_len_);
        consume(pad_len_ + 2);
        step_ = Step::read_ia;
        break;
      }
      case Step::read_ia: {
        if (in_.size() < ia_len_) return;
        ia_.assign(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(ia_len_));
        dec_.apply(ia_);
        consume(ia_len_);
        std::uint32_t common = provided_ & options_.methods;
        if (common & kRc4 && (options_.prefer_rc4 || !(common & kPlaintext)))
          method_ = kRc4;
        else if (common & kPlaintext)
          method_ = kPlaintext;
        else
          return void(fail("no common crypto method"));
        std::vector<std::uint8_t> plain(kVcBytes, 0);
        put_u32(plain, method_);
        std::vector<std::uint8_t> pad;
        append_pad(pad);
        put_u16(plain, pad.size());
        plain.insert(plain.end(), pad.begin(), pad.end());
        enc_.apply(plain);
        out_.insert(out_.end(), plain.begin(), plain.end());
        step_ = Step::finished;
        state_ = State::done;
        return;
      }
      case Step::finished:
        return;
    }
  }
}

}  // namespace p2p::mse
