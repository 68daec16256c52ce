#pragma once
// The hook for layers above the engine (the payment layer), in the spirit of a per-peer
// plugin: a TorrentExtension is created for each torrent, and it creates a PeerExtension for
// each peer that completes the handshake. Extensions can add keys to the BEP 10 handshake,
// register extension messages by name and receive them, are told of payload sent and
// received and of pieces that passed or failed the hash check (with the bytes each peer
// contributed), can choke/unchoke a peer, and rank peers for the choker.
//
// Everything runs on the session's io_context thread.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/torrent/accounting.hpp"
#include "p2p/wire/bencode.hpp"
#include "p2p/wire/core_types.hpp"

namespace p2p {

// What an extension may do to and learn of one connected peer. Valid until the peer's
// PeerExtension::on_disconnect has returned.
class PeerHandle {
 public:
  virtual ~PeerHandle() = default;
  virtual PeerStats stats() const = 0;
  virtual const PeerId& peer_id() const = 0;
  virtual std::string endpoint() const = 0;
  // True once the peer's extended handshake names `message` in its "m" dictionary.
  virtual bool peer_supports(std::string_view message) const = 0;
  // Sends an extension message the peer registered under `message`; false if it did not.
  virtual bool send_extension_message(std::string_view message, std::string_view body) = 0;
  // Choke now (true) and keep the peer choked whatever the choker decides, until this is
  // called again with false.
  virtual void set_choked_by_extension(bool choked) = 0;
  // While the session's upload rate is limited, peers of a higher upload priority are served
  // first (a share of the bandwidth stays with lower ones: SessionSettings). Default 0.
  virtual void set_upload_priority(std::int64_t priority) = 0;
  virtual void disconnect(const std::string& reason) = 0;
  // Refuse this peer's address for `seconds`.
  virtual void ban(const std::string& reason, int seconds) = 0;
};

class PeerExtension {
 public:
  virtual ~PeerExtension() = default;
  // Keys to add to our BEP 10 handshake (besides "m", which the engine builds).
  virtual void add_handshake(bencode::Dict&) {}
  // The peer's extended handshake arrived.
  virtual void on_handshake(const bencode::Dict&) {}
  // An extension message the extension registered (by name) arrived.
  virtual void on_message(std::string_view /*name*/, std::string_view /*body*/) {}
  virtual void on_payload_sent(ByteCount) {}
  virtual void on_payload_received(ByteCount) {}
  // A piece this peer contributed `bytes` to passed or failed its hash check.
  virtual void on_piece_passed(PieceIndex, ByteCount /*bytes*/) {}
  virtual void on_piece_failed(PieceIndex, ByteCount /*bytes*/) {}
  virtual void on_disconnect() {}
  // True while the extension still has business with the peer (e.g. a payment to settle):
  // the engine then keeps a connection it would otherwise close because both sides are
  // seeds, and checks again every second.
  virtual bool wants_connection() const { return false; }
};

class TorrentExtension {
 public:
  virtual ~TorrentExtension() = default;
  // Extension message names to register in "m" (e.g. "btt_pay").
  virtual std::vector<std::string> message_names() const { return {}; }
  // Called once the peer's handshake is done; may return nullptr to skip this peer.
  virtual std::unique_ptr<PeerExtension> new_peer(PeerHandle&) { return nullptr; }
  // Choker ranking: a higher value wins an unchoke slot before any lower one, whatever
  // the rates. Peers without a rank count as 0.
  virtual std::optional<std::int64_t> rank(const PeerHandle&) { return std::nullopt; }
  // A one-second tick.
  virtual void on_tick() {}
};

}  // namespace p2p
