#pragma once
// What happens in a session, told to any number of listeners: torrents added, changing state
// and removed; peers connecting and closing (with a typed reason); pieces passing or failing
// their hash; peers banned. Listeners run on the network thread, in the order they were added;
// one must not block, and may remove itself (or others) while being called.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "p2p/wire/core_types.hpp"

namespace p2p {

// Why a peer connection closed. Kept small and stable: counters and logs are keyed by it.
enum class CloseReason : std::uint8_t {
  LocalStop,         // we stopped the torrent or the session
  RemoteClosed,      // the peer closed or reset the connection
  NetworkError,      // any other socket error
  ConnectFailed,     // an outgoing connection never opened
  HandshakeTimeout,  // no complete handshake in time
  Inactive,          // nothing received for the inactivity timeout
  ProtocolError,     // a message we cannot accept (bad length, bad index, bad bencode...)
  WrongTorrent,      // the handshake named a torrent we do not have (or another info-hash)
  SelfConnection,    // the peer is ourselves
  Duplicate,         // already connected to this peer
  Banned,            // the peer is banned, or was banned just now
  TooManyPeers,      // a torrent or session connection limit
  TooManyRequests,   // refused requests over the limit
  UselessPeer,       // both seeds, or nothing to exchange
  Extension,         // an extension (btt_pay) asked for it
};
const char* to_string(CloseReason r);

// The lifecycle of a torrent: exactly one at a time.
enum class TorrentState : std::uint8_t {
  Queued,            // waiting for a slot (checking, downloading or seeding)
  Checking,          // hashing its data on the disk threads
  FetchingMetadata,  // a magnet link waiting for the info dictionary
  Downloading,
  Seeding,
  Paused,
  Error,  // stopped by an error (a full disk is retried)
};
const char* to_string(TorrentState s);

namespace event {
struct TorrentAdded {
  InfoHash info_hash;
};
struct TorrentStateChanged {
  InfoHash info_hash;
  TorrentState from, to;
};
struct TorrentRemoved {
  InfoHash info_hash;
};
struct TorrentError {
  InfoHash info_hash;
  std::string message;
};
struct MetadataReceived {
  InfoHash info_hash;
};
struct PeerConnected {
  InfoHash info_hash;
  std::string peer;  // the peer's address, as printed
  bool incoming;
};
struct PeerClosed {
  InfoHash info_hash;
  std::string peer;
  CloseReason reason;
  std::string detail;  // what exactly, for the log
};
struct PeerBanned {
  InfoHash info_hash;
  std::string peer;
  std::string reason;
};
struct PiecePassed {
  InfoHash info_hash;
  PieceIndex piece;
};
struct PieceFailed {
  InfoHash info_hash;
  PieceIndex piece;
};
struct TorrentFinished {  // every piece verified
  InfoHash info_hash;
};
}  // namespace event

using Event = std::variant<event::TorrentAdded, event::TorrentStateChanged, event::TorrentRemoved,
                           event::TorrentError, event::MetadataReceived, event::PeerConnected,
                           event::PeerClosed, event::PeerBanned, event::PiecePassed,
                           event::PieceFailed, event::TorrentFinished>;

// Many listeners for one stream of events. A subscription ends when its handle is dropped.
class EventBus {
 public:
  using Listener = std::function<void(const Event&)>;
  class Subscription {
   public:
    Subscription() = default;
    explicit Subscription(std::shared_ptr<Listener> l) : listener_(std::move(l)) {}

   private:
    std::shared_ptr<Listener> listener_;
  };

  // Keep the returned handle for as long as the listener should be called.
  [[nodiscard]] Subscription subscribe(Listener l);
  void publish(const Event& e);
  std::size_t num_listeners() const;

 private:
  std::vector<std::weak_ptr<Listener>> listeners_;
};

}  // namespace p2p
