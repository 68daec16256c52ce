#include <gtest/gtest.h>

#include <random>

#include "p2p/transport/mse_handshake.hpp"

namespace {

using p2p::mse::Handshake;
namespace mse = p2p::mse;

p2p::InfoHash make_hash(std::uint8_t b) {
  p2p::InfoHash h;
  h.fill(b);
  return h;
}

Handshake::Options initiator_options(std::uint32_t methods, std::vector<std::uint8_t> ia = {}) {
  Handshake::Options o;
  o.methods = methods;
  o.info_hash = make_hash(0x42);
  o.initial_payload = std::move(ia);
  return o;
}

Handshake::Options responder_options(std::uint32_t methods, std::vector<p2p::InfoHash> known) {
  Handshake::Options o;
  o.methods = methods;
  o.find_torrent = [known](const p2p::Sha1Digest& req2) -> std::optional<p2p::InfoHash> {
    for (const auto& h : known)
      if (mse::req2_hash(h) == req2) return h;
    return std::nullopt;
  };
  return o;
}

// Moves bytes between the two in chunks of `chunk` until neither has output left. `corrupt`
// flips one byte of the initiator's stream at that offset.
void pump(Handshake& a, Handshake& b, std::size_t chunk, std::optional<std::size_t> corrupt = {}) {
  std::size_t sent_a = 0;
  for (int round = 0; round < 100; ++round) {
    auto oa = a.take_output();
    auto ob = b.take_output();
    if (oa.empty() && ob.empty()) return;
    if (corrupt && *corrupt >= sent_a && *corrupt < sent_a + oa.size())
      oa[*corrupt - sent_a] ^= 0x01;
    sent_a += oa.size();
    for (std::size_t i = 0; i < oa.size(); i += chunk)
      b.on_bytes(std::span(oa).subspan(i, std::min(chunk, oa.size() - i)));
    for (std::size_t i = 0; i < ob.size(); i += chunk)
      a.on_bytes(std::span(ob).subspan(i, std::min(chunk, ob.size() - i)));
  }
}

TEST(MseHandshake, Rc4AgreedAndPayloadDecrypts) {
  std::vector<std::uint8_t> ia = {19, 'B', 'i', 't'};
  Handshake a(Handshake::Role::initiator, initiator_options(mse::kPlaintext | mse::kRc4, ia));
  Handshake b(Handshake::Role::responder,
              responder_options(mse::kPlaintext | mse::kRc4, {make_hash(1), make_hash(0x42)}));
  pump(a, b, 1000);
  ASSERT_EQ(a.state(), Handshake::State::done) << a.error();
  ASSERT_EQ(b.state(), Handshake::State::done) << b.error();
  EXPECT_EQ(a.method(), mse::kRc4);
  EXPECT_EQ(b.method(), mse::kRc4);
  EXPECT_EQ(b.info_hash(), make_hash(0x42));
  EXPECT_EQ(b.initial_payload(), ia);
  EXPECT_TRUE(a.payload().empty());
  // The ciphers carry on in both directions.
  std::vector<std::uint8_t> msg = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto wire = msg;
  a.encryptor().apply(wire);
  EXPECT_NE(wire, msg);
  b.decryptor().apply(wire);
  EXPECT_EQ(wire, msg);
  wire = msg;
  b.encryptor().apply(wire);
  a.decryptor().apply(wire);
  EXPECT_EQ(wire, msg);
}

TEST(MseHandshake, PlaintextChosenWhenOnlyOneOffered) {
  Handshake a(Handshake::Role::initiator, initiator_options(mse::kPlaintext));
  Handshake b(Handshake::Role::responder,
              responder_options(mse::kPlaintext | mse::kRc4, {make_hash(0x42)}));
  pump(a, b, 7);
  ASSERT_EQ(a.state(), Handshake::State::done) << a.error();
  ASSERT_EQ(b.state(), Handshake::State::done) << b.error();
  EXPECT_EQ(a.method(), mse::kPlaintext);
  EXPECT_EQ(b.method(), mse::kPlaintext);
  EXPECT_TRUE(b.initial_payload().empty());
}

TEST(MseHandshake, ResponderPrefersPlaintextWhenAsked) {
  Handshake a(Handshake::Role::initiator, initiator_options(mse::kPlaintext | mse::kRc4));
  auto ro = responder_options(mse::kPlaintext | mse::kRc4, {make_hash(0x42)});
  ro.prefer_rc4 = false;
  Handshake b(Handshake::Role::responder, std::move(ro));
  pump(a, b, 3);
  ASSERT_EQ(a.state(), Handshake::State::done) << a.error();
  EXPECT_EQ(a.method(), mse::kPlaintext);
}

TEST(MseHandshake, NoCommonMethodFails) {
  Handshake a(Handshake::Role::initiator, initiator_options(mse::kPlaintext));
  Handshake b(Handshake::Role::responder, responder_options(mse::kRc4, {make_hash(0x42)}));
  pump(a, b, 64);
  EXPECT_EQ(b.state(), Handshake::State::failed);
  EXPECT_NE(a.state(), Handshake::State::done);
}

TEST(MseHandshake, RandomPadsAndChunksAllAgree) {
  std::mt19937 rng(7);
  for (int i = 0; i < 40; ++i) {
    auto ao = initiator_options(i % 2 ? mse::kRc4 : mse::kPlaintext | mse::kRc4, {9, 9, 9});
    ao.pad_length = rng() % 600;  // above 512 is clamped
    auto bo = responder_options(mse::kPlaintext | mse::kRc4, {make_hash(0x42)});
    if (i % 3 == 0) bo.pad_length = 512;
    Handshake a(Handshake::Role::initiator, std::move(ao));
    Handshake b(Handshake::Role::responder, std::move(bo));
    pump(a, b, 1 + rng() % 200);
    ASSERT_EQ(a.state(), Handshake::State::done) << i << " " << a.error();
    ASSERT_EQ(b.state(), Handshake::State::done) << i << " " << b.error();
    EXPECT_EQ(a.method(), b.method());
    EXPECT_EQ(b.initial_payload(), (std::vector<std::uint8_t>{9, 9, 9}));
  }
}

TEST(MseHandshake, PayloadAfterHandshakeIsKept) {
  Handshake a(Handshake::Role::initiator, initiator_options(mse::kRc4));
  Handshake b(Handshake::Role::responder, responder_options(mse::kRc4, {make_hash(0x42)}));
  a.on_bytes(std::vector<std::uint8_t>{});
  b.on_bytes(a.take_output());
  a.on_bytes(b.take_output());
  b.on_bytes(a.take_output());
  ASSERT_EQ(b.state(), Handshake::State::done);
  auto reply = b.take_output();
  std::vector<std::uint8_t> extra = {'h', 'i'};
  b.encryptor().apply(extra);
  reply.insert(reply.end(), extra.begin(), extra.end());
  a.on_bytes(reply);
  ASSERT_EQ(a.state(), Handshake::State::done) << a.error();
  ASSERT_EQ(a.payload().size(), 2u);
  a.decryptor().apply(a.payload());
  EXPECT_EQ(a.payload(), (std::vector<std::uint8_t>{'h', 'i'}));
}

TEST(MseHandshake, UnknownTorrentFails) {
  Handshake a(Handshake::Role::initiator, initiator_options(mse::kRc4));
  Handshake b(Handshake::Role::responder,
              responder_options(mse::kRc4, {make_hash(1), make_hash(2)}));
  pump(a, b, 100);
  EXPECT_EQ(b.state(), Handshake::State::failed);
  EXPECT_EQ(b.error(), "unknown torrent");
  EXPECT_NE(a.state(), Handshake::State::done);
}

TEST(MseHandshake, CorruptedBytesFailCleanly) {
  // Offsets into the initiator's stream: its key, its req1, its skey hash, two bytes of its VC.
  for (std::size_t off : {5u, 96u + 3u, 96u + 25u, 96u + 41u, 96u + 43u}) {
    auto ao = initiator_options(mse::kRc4);
    ao.pad_length = 0;
    Handshake a(Handshake::Role::initiator, std::move(ao));
    Handshake b(Handshake::Role::responder, responder_options(mse::kRc4, {make_hash(0x42)}));
    pump(a, b, 50, off);
    EXPECT_NE(b.state(), Handshake::State::done) << off;
    EXPECT_NE(a.state(), Handshake::State::done) << off;
  }
}

TEST(MseHandshake, ResponderGivesUpWithoutSyncWithinBound) {
  Handshake b(Handshake::Role::responder, responder_options(mse::kRc4, {make_hash(0x42)}));
  std::vector<std::uint8_t> junk(96 + 531, 0x33);
  junk[0] = 0x05;
  b.on_bytes(junk);
  EXPECT_EQ(b.state(), Handshake::State::running);
  b.on_bytes(std::vector<std::uint8_t>{0x33});
  EXPECT_EQ(b.state(), Handshake::State::failed);
}

TEST(MseHandshake, InitiatorGivesUpWithoutVcWithinBound) {
  Handshake a(Handshake::Role::initiator, initiator_options(mse::kRc4));
  std::vector<std::uint8_t> junk(96 + 519, 0x33);
  a.on_bytes(junk);
  EXPECT_EQ(a.state(), Handshake::State::running);
  a.on_bytes(std::vector<std::uint8_t>{0x33});
  EXPECT_EQ(a.state(), Handshake::State::failed);
}

TEST(MseHandshake, DegenerateKeysRefused) {
  for (std::uint8_t last : {0, 1}) {
    Handshake b(Handshake::Role::responder, responder_options(mse::kRc4, {make_hash(0x42)}));
    std::vector<std::uint8_t> key(96, 0);
    key[95] = last;
    b.on_bytes(key);
    EXPECT_EQ(b.state(), Handshake::State::failed);
    EXPECT_TRUE(b.take_output().empty());
  }
}

TEST(MseHandshake, Rc4MatchesKnownVector) {
  // The classic vector: key "Key", plaintext "Plaintext" -> BBF316E8D940AF0AD3.
  std::vector<std::uint8_t> key = {'K', 'e', 'y'};
  std::vector<std::uint8_t> text = {'P', 'l', 'a', 'i', 'n', 't', 'e', 'x', 't'};
  mse::Rc4 plain(key, 0);
  plain.apply(text);
  EXPECT_EQ(text,
            (std::vector<std::uint8_t>{0xBB, 0xF3, 0x16, 0xE8, 0xD9, 0x40, 0xAF, 0x0A, 0xD3}));
  // With the discard, the stream is the same one 1024 bytes on.
  mse::Rc4 skip(key, 0), dropped(key);
  std::vector<std::uint8_t> a(1024 + 16, 0), b(16, 0);
  skip.apply(a);
  dropped.apply(b);
  EXPECT_TRUE(std::equal(b.begin(), b.end(), a.begin() + 1024));
}

}  // namespace
