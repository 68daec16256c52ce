#pragma once
// What a peer connection asks of its torrent: the torrent implements this, and the connection
// knows the torrent only through it. Everything runs on the session's io_context thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/peer/extension.hpp"
#include "p2p/peer/peer_protocol.hpp"
#include "p2p/session/events.hpp"
#include "p2p/torrent/accounting.hpp"
#include "p2p/torrent/piece_picker.hpp"
#include "p2p/wire/core_types.hpp"
#include "p2p/wire/peer_address.hpp"
#include "p2p/wire/wire_messages.hpp"

namespace p2p {

class PeerConnection;
struct Metainfo;

class PeerHost {
 public:
  virtual const InfoHash& info_hash() const = 0;
  virtual bool has_metadata() const = 0;
  virtual const Metainfo* metainfo() const = 0;
  virtual std::int32_t num_pieces() const = 0;
  virtual bool is_private() const = 0;
  virtual wire::Geometry geometry() const = 0;
  virtual PiecePicker* picker() = 0;
  virtual std::vector<std::shared_ptr<TorrentExtension>>& extensions() = 0;

  // The peer's handshake is done: nullopt admits it, otherwise why it is refused.
  virtual std::optional<CloseReason> attach(const std::shared_ptr<PeerConnection>& p) = 0;
  // The connection closed (called once).
  virtual void detach(PeerConnection* p) = 0;
  // The payload counters of the peer's account (kept past the connection).
  virtual TransferCounters& account(const std::string& key) = 0;
  virtual void note_payload(ByteCount up, ByteCount down) = 0;

  virtual void on_block(PeerConnection* p, const BlockRef& b,
                        std::span<const std::uint8_t> data) = 0;
  virtual void on_block_rejected(PeerConnection* p, const BlockRef& b) = 0;
  virtual void maybe_unchoke(PeerConnection* p) = 0;
  virtual void ban(PeerConnection* p, const std::string& reason) = 0;
  virtual bool disk_backlog_full() const = 0;
  virtual bool has_pinned_pieces() const = 0;
  // Clears the pieces pinned to peers other than p.
  virtual void mask_pinned(const PeerConnection* p, std::vector<bool>& has) const = 0;

  virtual void on_metadata_size(PeerConnection* p, std::int64_t size) = 0;
  virtual void on_metadata_piece(PeerConnection* p, std::int64_t piece, std::int64_t total,
                                 std::string_view data) = 0;
  virtual void on_metadata_reject(std::int64_t piece) = 0;
  // A peer learnt over PEX; false when turned away by the rate limit.
  virtual bool on_pex_peer(const PeerAddress& a, bool is_seed) = 0;
  // The peer's DHT node listens on this UDP port (the port message).
  virtual void on_dht_port(const PeerAddress& /*peer*/, std::uint16_t /*port*/) {}
  // An incoming peer told its listen port: it may be one we also dialed.
  virtual void on_listen_port(PeerConnection* /*p*/) {}

  // Reads the blocks (each within the torrent) off the network thread and calls done back on
  // it with their bytes one after the other, or with an error (the torrent then fails).
  virtual void async_read_blocks(std::vector<BlockRef> blocks, PeerProtocol::ReadDone done) = 0;

 protected:
  ~PeerHost() = default;
};

}  // namespace p2p
