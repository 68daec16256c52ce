#pragma once
// A torrent for PeerProtocol with no sockets and no disk: a real piece picker, metadata bytes,
// and a record of what the protocol told it. Disk reads wait in `reads` until complete_reads().
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "p2p/peer/peer_protocol.hpp"
#include "p2p/wire/wire_messages.hpp"

namespace protocol_test {

inline std::uint8_t block_byte(const p2p::BlockRef& b, std::size_t i) {
  return std::uint8_t((b.piece.get() * 31 + b.offset + std::int32_t(i)) & 0xff);
}

class TestHost : public p2p::PeerProtocol::Host {
 public:
  // A torrent of `count` pieces of `piece_length` bytes (the last one `short_by` shorter);
  // with_metadata false is a magnet link before its metadata.
  TestHost(std::int32_t count = 4, std::int32_t piece_length = 32 * 1024,
           std::int32_t short_by = 1000, bool with_metadata = true) {
    for (std::size_t i = 0; i < ih.size(); ++i) ih[i] = std::uint8_t(i + 1);
    geo.num_pieces = std::uint32_t(count);
    geo.piece_length = std::uint32_t(piece_length);
    geo.total_size = std::uint64_t(count) * std::uint64_t(piece_length) - std::uint64_t(short_by);
    info = std::string(20000, 'i');
    if (with_metadata) {
      pieces = std::make_unique<p2p::PiecePicker>(count, piece_length,
                                                  p2p::ByteCount(geo.total_size), 7);
    } else {
      geo = {};
    }
  }
  void make_seed() {
    for (std::int32_t i = 0; i < pieces->num_pieces(); ++i) pieces->set_have(p2p::PieceIndex(i));
  }

  bool on_handshake(const p2p::wire::Handshake& hs) override {
    ++handshakes;
    if (hs.info_hash != ih || refuse) return false;
    return true;
  }
  void on_close(p2p::CloseReason r, const std::string& detail) override {
    closes.emplace_back(r, detail);
  }
  p2p::InfoHash info_hash() const override { return ih; }
  bool has_metadata() const override { return pieces != nullptr; }
  const std::string* info_bytes() const override { return pieces ? &info : nullptr; }
  std::int32_t num_pieces() const override { return pieces ? pieces->num_pieces() : 0; }
  p2p::wire::Geometry geometry() const override { return geo; }
  bool is_private() const override { return priv; }
  p2p::PiecePicker* picker() override { return pieces.get(); }
  std::vector<std::shared_ptr<p2p::TorrentExtension>>* extensions() override { return &exts; }
  void on_block(const p2p::BlockRef& b, std::span<const std::uint8_t> data) override {
    blocks.push_back(b);
    block_bytes += data.size();
    if (pieces) pieces->mark_received(b);
  }
  void on_block_rejected(const p2p::BlockRef& b) override { rejected.push_back(b); }
  void on_wants_unchoke() override { ++wants_unchoke; }
  void on_payload(p2p::ByteCount up, p2p::ByteCount down) override {
    payload_up += up;
    payload_down += down;
  }
  void on_metadata_size(std::int64_t size) override { metadata_size = size; }
  void on_metadata_piece(std::int64_t piece, std::int64_t, std::string_view data) override {
    metadata_pieces.emplace_back(piece, data.size());
  }
  void on_metadata_reject(std::int64_t piece) override { metadata_rejects.push_back(piece); }
  bool on_pex_peer(const p2p::PeerAddress& a, bool) override {
    pex_peers.push_back(a);
    return true;
  }
  bool may_upload() override { return upload_allowed; }
  void async_read_blocks(std::vector<p2p::BlockRef> b, p2p::PeerProtocol::ReadDone done) override {
    reads.emplace_back(std::move(b), std::move(done));
  }
  // Completes every queued read with the blocks' pattern bytes (or fails them).
  void complete_reads(bool fail = false) {
    while (!reads.empty()) {
      auto [bl, done] = std::move(reads.front());
      reads.erase(reads.begin());
      std::vector<std::uint8_t> data;
      for (const auto& b : bl) {
        for (std::int32_t i = 0; i < b.length; ++i) data.push_back(block_byte(b, std::size_t(i)));
      }
      if (fail) {
        done(nullptr, "read failed");
      } else {
        done(p2p::DiskBuffer::copy_of(data), {});
      }
    }
  }

  p2p::InfoHash ih{};
  p2p::wire::Geometry geo;
  std::string info;
  std::unique_ptr<p2p::PiecePicker> pieces;
  std::vector<std::shared_ptr<p2p::TorrentExtension>> exts;
  bool refuse = false, priv = false, upload_allowed = true;
  int handshakes = 0, wants_unchoke = 0;
  std::vector<std::pair<p2p::CloseReason, std::string>> closes;
  std::vector<p2p::BlockRef> blocks, rejected;
  std::size_t block_bytes = 0;
  p2p::ByteCount payload_up = 0, payload_down = 0;
  std::int64_t metadata_size = -1;
  std::vector<std::pair<std::int64_t, std::size_t>> metadata_pieces;
  std::vector<std::int64_t> metadata_rejects;
  std::vector<p2p::PeerAddress> pex_peers;
  std::vector<std::pair<std::vector<p2p::BlockRef>, p2p::PeerProtocol::ReadDone>> reads;
};

}  // namespace protocol_test
