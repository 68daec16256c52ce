#pragma once
// One connection to a peer: a Stream below (TCP now), the PeerProtocol core above it, and the
// torrent beside it through PeerHost. The connection moves bytes between the stream and the
// core, applies the session's bandwidth limits, runs the handshake timer, and answers the
// core's questions about the torrent. Lives on the session's io_context thread.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "p2p/peer/extension.hpp"
#include "p2p/peer/peer_host.hpp"
#include "p2p/peer/peer_protocol.hpp"
#include "p2p/session/events.hpp"
#include "p2p/transport/stream.hpp"
#include "p2p/wire/peer_address.hpp"

namespace p2p {

class Session;
class Torrent;

class PeerConnection : public std::enable_shared_from_this<PeerConnection>,
                       public PeerHandle,
                       private PeerProtocol::Host {
 public:
  using Clock = std::chrono::steady_clock;

  // Incoming: the stream is open; the handshake names the torrent.
  PeerConnection(Session& s, std::unique_ptr<Stream> stream);
  // Outgoing for `t`: the stream is opened by start().
  PeerConnection(Session& s, std::shared_ptr<Torrent> t, std::unique_ptr<Stream> stream);
  ~PeerConnection() override;

  void start();
  void close(CloseReason reason, const std::string& detail);
  bool closed() const { return closed_; }

  // PeerHandle
  PeerStats stats() const override;
  const PeerId& peer_id() const override { return proto_.peer_id(); }
  std::string endpoint() const override { return account_key_; }
  bool peer_supports(std::string_view message) const override;
  bool send_extension_message(std::string_view message, std::string_view body) override;
  void set_choked_by_extension(bool choked) override;
  void set_upload_priority(std::int64_t priority) override { proto_.set_upload_priority(priority); }
  void disconnect(const std::string& reason) override { close(CloseReason::Extension, reason); }
  void ban(const std::string& reason, int seconds) override;

  // For the torrent.
  const PeerAddress& remote() const { return remote_; }
  // The address the peer listens on (its "p" for incoming peers), for PEX.
  std::optional<PeerAddress> listen_address() const;
  const std::string& account_key() const { return account_key_; }
  bool incoming() const { return incoming_; }
  // Why it closed (meaningful once closed()), for events and counters.
  CloseReason close_reason() const { return close_reason_; }
  const std::string& close_detail() const { return close_detail_; }
  bool handshake_done() const { return proto_.handshake_done(); }
  bool is_seed() const { return proto_.is_seed(); }
  bool peer_interested() const { return proto_.peer_interested(); }
  bool am_choking() const { return proto_.am_choking(); }
  bool snubbed() const { return proto_.snubbed(); }
  Clock::time_point connected_at() const { return connected_at_; }
  double download_rate() const { return proto_.download_rate(); }
  double upload_rate() const { return proto_.upload_rate(); }
  bool choked_by_extension() const { return proto_.choked_by_extension(); }
  bool optimistic() const { return optimistic_; }
  void set_optimistic(bool o) { optimistic_ = o; }
  std::uint64_t serial() const { return serial_; }
  bool supports_pex() const { return proto_.peer_supports("ut_pex"); }

  void choke(bool c);
  void send_have(PieceIndex p);
  void cancel_block(const BlockRef& b);  // endgame: another peer delivered it
  bool has_requested(const BlockRef& b) const { return proto_.has_requested(b); }
  void update_interest();
  void request_blocks();
  void on_metadata_ready();  // the torrent just got its metadata (magnet)
  void send_metadata_request(std::int64_t piece);
  void send_pex(const std::string& body);
  void tick(Clock::time_point now);
  void on_bandwidth(bool upload);  // the session's bucket refilled
  // A piece this peer contributed to passed or failed its hash check.
  void on_piece_checked(PieceIndex piece, ByteCount bytes, bool passed);

 private:
  // PeerProtocol::Host
  bool on_handshake(const wire::Handshake& hs) override;
  void on_close(CloseReason reason, const std::string& detail) override;
  InfoHash info_hash() const override;
  bool has_metadata() const override;
  const std::string* info_bytes() const override;
  std::int32_t num_pieces() const override;
  wire::Geometry geometry() const override;
  bool is_private() const override;
  PiecePicker* picker() override;
  std::vector<std::shared_ptr<TorrentExtension>>* extensions() override;
  bool has_masked_pieces() const override;
  void mask_pieces(std::vector<bool>& has) const override;
  bool disk_backlog_full() const override;
  void on_block(const BlockRef& b, std::span<const std::uint8_t> data) override;
  void on_block_rejected(const BlockRef& b) override;
  void on_wants_unchoke() override;
  void on_payload(ByteCount up, ByteCount down) override;
  void on_metadata_size(std::int64_t size) override;
  void on_metadata_piece(std::int64_t piece, std::int64_t total, std::string_view data) override;
  void on_metadata_reject(std::int64_t piece) override;
  bool on_pex_peer(const PeerAddress& a, bool seed) override;
  void on_dht_port(const PeerAddress& a, std::uint16_t port) override;
  void on_listen_port() override;
  bool may_upload() override;
  bool honors_session_limits() const;
  int torrent_priority() const;
  bool session_allows(bool upload) const;  // the session's limits, for this torrent
  void consume_upload(ByteCount n) override;
  void async_read_blocks(std::vector<BlockRef> blocks, PeerProtocol::ReadDone done) override;

  static ProtocolSettings protocol_settings(Session& s);
  PeerHost* host() const;
  void arm_timer();
  void do_read();
  void flush();

  Session& session_;
  std::shared_ptr<Torrent> torrent_;
  std::unique_ptr<Stream> stream_;
  PeerAddress remote_;
  std::string account_key_;  // the address as printed
  bool incoming_;
  CloseReason close_reason_ = CloseReason::LocalStop;
  std::string close_detail_;
  bool closed_ = false;
  std::shared_ptr<int> counter_;  // the session's connection count, while counted
  std::weak_ptr<int> session_alive_;
  bool attached_ = false;  // a torrent took it: the torrent reports its close
  std::uint64_t serial_;
  PeerProtocol proto_;

  bool reading_ = false;
  bool read_waiting_bw_ = false;
  bool write_waiting_bw_ = false;
  bool optimistic_ = false;
  Clock::time_point connected_at_;
  boost::asio::steady_timer connect_timer_;
};

}  // namespace p2p
