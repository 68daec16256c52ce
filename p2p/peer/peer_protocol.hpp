#pragma once
// The peer wire protocol of one connection with no I/O: the handshake, BEP 3 messages, the
// fast extension (BEP 6), the extension protocol (BEP 10) with ut_metadata (BEP 9) and ut_pex
// (BEP 11), choke and interest state, the queue of the peer's requests and the bookkeeping of
// ours, and extension dispatch. Bytes come in through read_buffer()/on_received() (or
// on_bytes()), events through the calls below; bytes go out through the send buffer
// (begin_write/on_write_done) and everything else through Host. Timers are the owner's: it
// calls tick() about once a second.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "p2p/peer/extension.hpp"
#include "p2p/peer/output_queue.hpp"
#include "p2p/session/events.hpp"
#include "p2p/torrent/accounting.hpp"
#include "p2p/torrent/piece_picker.hpp"
#include "p2p/wire/peer_address.hpp"
#include "p2p/wire/wire_messages.hpp"

namespace p2p {

// The limits and identity the protocol runs with (a subset of the session's settings).
struct ProtocolSettings {
  PeerId our_peer_id{};
  std::uint16_t listen_port = 0;  // announced as "p"; 0: not announced
  // Our DHT's UDP port (BEP 5): the DHT bit is set and the port message sent to peers that
  // set it too; 0: no DHT.
  std::uint16_t dht_port = 0;
  std::string client_version = "bttnode";
  bool enable_pex = true;
  double request_queue_seconds = 3.0;
  int min_request_queue = 16;
  int max_request_queue = 500;
  int max_incoming_requests = 500;
  std::size_t send_buffer_watermark = 1 << 20;
  std::size_t max_send_queue = 4 << 20;
  int max_refused_requests = 1000;
  std::chrono::seconds snub_time{30};
  std::chrono::seconds inactivity_timeout{180};
  std::chrono::seconds keepalive_interval{60};
  // Blocks read from disk in one job when serving requests.
  int blocks_per_read = 16;
};

class PeerProtocol {
 public:
  using Clock = std::chrono::steady_clock;

  // Blocks read for the peer: `data` holds them one after the other, or is null on error.
  // The send queue keeps the buffer until the blocks are written: they are never copied.
  using ReadDone = std::function<void(DiskBufferPtr data, const std::string& error)>;

  // What the protocol needs from the torrent and the connection around it.
  class Host {
   public:
    virtual ~Host() = default;
    // The peer's handshake arrived (info-hash and peer id are in it). The host finds the
    // torrent (an incoming peer) and admits the peer; false: refused, and the host has called
    // close() with the reason. After true every torrent query below is answerable.
    virtual bool on_handshake(const wire::Handshake& hs) = 0;
    virtual void on_close(CloseReason reason, const std::string& detail) = 0;

    // The torrent.
    virtual InfoHash info_hash() const = 0;
    virtual bool has_metadata() const = 0;
    virtual const std::string* info_bytes() const = 0;  // null before the metadata
    virtual std::int32_t num_pieces() const = 0;
    virtual wire::Geometry geometry() const = 0;
    virtual bool is_private() const = 0;
    virtual PiecePicker* picker() = 0;  // null before the metadata
    virtual std::vector<std::shared_ptr<TorrentExtension>>* extensions() = 0;
    // Pieces this peer should not be asked for now (pinned to another peer): when
    // has_masked_pieces(), mask_pieces clears them from a copy of what the peer has.
    virtual bool has_masked_pieces() const { return false; }
    virtual void mask_pieces(std::vector<bool>&) const {}
    // Pieces wait for the disk: ask for no more blocks until a have goes out.
    virtual bool disk_backlog_full() const { return false; }

    // Events for the torrent.
    virtual void on_block(const BlockRef& b, std::span<const std::uint8_t> data) = 0;
    virtual void on_block_rejected(const BlockRef&) {}
    // The peer may take an unchoke slot now (it became interested, or an extension let it go).
    virtual void on_wants_unchoke() {}
    virtual void on_payload(ByteCount up, ByteCount down) = 0;
    virtual void on_metadata_size(std::int64_t size) = 0;
    virtual void on_metadata_piece(std::int64_t piece, std::int64_t total,
                                   std::string_view data) = 0;
    virtual void on_metadata_reject(std::int64_t piece) = 0;
    // A peer learnt over PEX; false when no more are taken now.
    virtual bool on_pex_peer(const PeerAddress& a, bool seed) = 0;
    // The peer's DHT node listens on this UDP port (the port message).
    virtual void on_dht_port(const PeerAddress& /*peer*/, std::uint16_t /*port*/) {}
    // The extension handshake told the port the peer listens on.
    virtual void on_listen_port() {}

    // Serving the peer's requests: the upload bandwidth, and the disk reads.
    virtual bool may_upload() { return true; }  // false: call serve_requests() again later
    virtual void consume_upload(ByteCount) {}
    // Reads the blocks (in order, into one buffer) and calls done once, later, on the
    // protocol's thread. Several reads may be in flight and finish in any order.
    virtual void async_read_blocks(std::vector<BlockRef> blocks, ReadDone done) = 0;
  };

  PeerProtocol(Host& host, ProtocolSettings settings, bool incoming);
  ~PeerProtocol();
  PeerProtocol(const PeerProtocol&) = delete;
  PeerProtocol& operator=(const PeerProtocol&) = delete;

  // For extensions created at the handshake (the connection); may be null.
  void set_peer_handle(PeerHandle* h) { handle_ = h; }
  // For the BEP 6 allowed-fast set and PEX: the peer's address.
  void set_remote(const PeerAddress& a) { remote_ = a; }

  // Our handshake (an outgoing connection sends it first; an incoming one after the peer's).
  void start();
  // Where to receive into, and how many bytes arrived there.
  std::span<std::uint8_t> read_buffer();
  void on_received(std::size_t n, bool filled_buffer);
  // The same with bytes from elsewhere (tests, fuzzing, a filter): copies them in.
  void on_bytes(std::span<const std::uint8_t> bytes);
  // True while nothing should be read: the send queue is over its limit.
  bool read_paused() const { return read_paused_; }

  // The bytes to write next, as runs for one gather write (empty: nothing); they stay valid
  // until on_write_done().
  std::span<const std::span<const std::uint8_t>> begin_write();
  bool write_in_flight() const { return write_in_flight_; }
  void on_write_done();
  bool has_output() const { return !sendq_.empty(); }

  // Events from the torrent.
  void choke(bool c);
  void set_choked_by_extension(bool choked);
  void send_have(PieceIndex p);
  void cancel_block(const BlockRef& b);
  bool has_requested(const BlockRef& b) const;
  void update_interest();
  void request_blocks();
  void serve_requests();  // more bandwidth; also run after every batch of input
  void on_metadata_ready();
  void send_metadata_request(std::int64_t piece);
  void send_pex(std::string_view body);
  bool send_extension_message(std::string_view name, std::string_view body);
  void tick(Clock::time_point now);
  // A close decided outside (the torrent, the stream): gives back what the peer held.
  void on_closed();
  // Closes when both are seeds and no extension has business left.
  void close_if_both_seeds();

  // State.
  bool closed() const { return closed_; }
  bool handshake_done() const { return handshake_done_; }
  const PeerId& peer_id() const { return peer_id_; }
  bool fast() const { return fast_; }
  bool extensions_enabled() const { return extensions_; }
  bool am_choking() const { return am_choking_; }
  bool am_interested() const { return am_interested_; }
  bool peer_choking() const { return peer_choking_; }
  bool peer_interested() const { return peer_interested_; }
  bool choked_by_extension() const { return ext_choked_; }
  bool snubbed() const { return snubbed_; }
  bool is_seed() const;
  // The share of the torrent's pieces the peer has (0 without metadata, unless it has all).
  double progress() const;
  bool peer_supports(std::string_view message) const;
  std::uint16_t peer_listen_port() const { return peer_listen_port_; }
  const std::string& client() const { return client_; }
  const std::vector<bool>& peer_has() const { return peer_has_; }
  std::size_t num_outstanding() const { return outstanding_.size(); }
  std::size_t num_incoming_requests() const { return incoming_requests_.size(); }
  std::size_t num_serving() const { return serving_.size(); }
  std::size_t queued_bytes() const { return sendq_.size() + writing_.size(); }
  double download_rate() const { return down_meter_.rate(); }
  double upload_rate() const { return up_meter_.rate(); }
  TransferCounters& counters() { return *counters_; }
  const TransferCounters& counters() const { return *counters_; }
  // Where the peer's payload is counted (the torrent keeps accounts past the connection).
  void set_counters(TransferCounters* c) { counters_ = c ? c : &own_counters_; }
  std::vector<std::unique_ptr<PeerExtension>>& plugins() { return plugins_; }
  void set_upload_priority(std::int64_t p) { upload_priority_ = p; }
  std::int64_t upload_priority() const { return upload_priority_; }

  static constexpr std::size_t kMaxEarlyHaves = 4096;
  static constexpr std::size_t kMaxStaleBlocks = 1024;
  static constexpr int kMaxUnrequestedBlocks = 8;
  // A block the peer refused is asked of it again after this long, or when it unchokes us:
  // its queue may have been full, and it may be the only peer that has the piece.
  static constexpr auto kRejectMemory = std::chrono::seconds(20);
  static constexpr std::size_t kMetadataServesPerPiece = 4;
  static constexpr std::size_t kMaxPexPeersPerMessage = 20;
  static constexpr int kMaxReadsInFlight = 8;
  static constexpr std::uint8_t kUtMetadataId = 1;
  static constexpr std::uint8_t kUtPexId = 2;
  static constexpr std::uint8_t kFirstExtensionId = 3;

 private:
  void close(CloseReason r, const std::string& detail);
  void send_handshake();
  bool handle_handshake();
  void process_messages();
  bool handle_message(const wire::Message& m);
  bool handle_extended(std::uint8_t id, std::span<const std::uint8_t> body);
  void send_extended_handshake();
  void send_initial_bitfield();
  void append(const wire::Bytes& b) { sendq_.append(b.data(), b.size()); }
  void write_simple(wire::MsgId id);
  void send_extended(std::uint8_t id, std::string_view body);
  void reject(const BlockRef& r);
  void drop_requests();  // on our choke: every request not yet sent is refused
  void abort_all_requests();
  void set_peer_has(std::int32_t piece);
  bool refused_request();
  void note_stale(const BlockRef& b);
  bool forget_stale(const BlockRef& b);
  bool forget_cancel(const BlockRef& b);
  void on_blocks_read(std::uint64_t job, const DiskBufferPtr& data, const std::string& error);
  bool send_queue_full() const { return queued_bytes() > s_.max_send_queue; }
  void release_idle_buffers(bool idle_tick);

  Host& host_;
  ProtocolSettings s_;
  PeerHandle* handle_ = nullptr;
  PeerAddress remote_;
  bool incoming_;
  bool closed_ = false;
  bool handshake_sent_ = false;
  bool handshake_done_ = false;

  // Receive side.
  std::vector<std::uint8_t> rbuf_;
  std::size_t rpos_ = 0, rend_ = 0;
  bool last_read_full_ = false;
  bool read_paused_ = false;
  bool processing_ = false;

  // Send side: messages are appended to sendq_ while writing_ is out.
  OutputQueue sendq_, writing_;
  bool write_in_flight_ = false;
  Clock::time_point last_sent_;
  std::int64_t upload_priority_ = 0;

  // Peer state.
  PeerId peer_id_{};
  bool fast_ = false, extensions_ = false;
  bool am_choking_ = true, am_interested_ = false;
  bool peer_choking_ = true, peer_interested_ = false;
  bool ext_choked_ = false, snubbed_ = false;
  bool peer_have_all_ = false;
  std::vector<bool> peer_has_;
  std::set<std::uint32_t> early_haves_;
  std::int32_t peer_num_have_ = 0;
  std::string client_;
  std::uint16_t peer_listen_port_ = 0;
  int peer_reqq_ = 250;
  std::map<std::string, std::uint8_t, std::less<>> peer_ext_ids_;
  std::vector<std::string> ext_names_by_local_id_;  // index = our id - 1

  // Our requests, oldest first; the peer's requests waiting, and those being read from disk.
  struct Outstanding {
    BlockRef block;
    Clock::time_point sent;
  };
  std::deque<Outstanding> outstanding_;
  std::deque<BlockRef> incoming_requests_;
  struct Serving {
    BlockRef block;
    std::uint64_t job;
    bool dropped;  // cancelled or choked meanwhile: read, but not sent
  };
  std::deque<Serving> serving_;
  std::uint64_t next_job_ = 1;
  std::size_t serving_bytes_ = 0;  // of the blocks in serving_, with their headers
  int reads_in_flight_ = 0;
  std::map<BlockRef, Clock::time_point> rejected_;  // when the peer refused it
  std::deque<BlockRef> stale_;
  // Cancels a fast peer has still to answer (BEP 6: with the block or a reject). A reject for
  // a block asked for again meanwhile answers the cancel, not the new request.
  std::deque<BlockRef> cancels_unanswered_;
  int unrequested_blocks_ = 0;
  int refused_requests_ = 0;
  std::size_t metadata_served_ = 0;
  std::size_t metadata_requests_in_flight_ = 0;
  Clock::time_point last_pex_in_{};

  Clock::time_point last_received_, last_piece_;
  RateMeter down_meter_, up_meter_;
  TransferCounters own_counters_;
  TransferCounters* counters_ = &own_counters_;
  std::vector<std::unique_ptr<PeerExtension>> plugins_;
  // Expires with the protocol object: disk reads that finish later are dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace p2p
