#pragma once
// One TCP connection to a peer: the handshake, the message loop (parsing through the wire
// codec), request pipelining towards the peer, serving its requests from storage straight
// into the send buffer, and the per-peer timers. Lives on the session's io_context thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/torrent/accounting.hpp"
#include "p2p/peer/extension.hpp"
#include "p2p/torrent/piece_picker.hpp"
#include "p2p/peer/send_buffer.hpp"
#include "p2p/wire/wire_messages.hpp"

namespace p2p {

class Session;
class Torrent;

class PeerConnection : public std::enable_shared_from_this<PeerConnection>, public PeerHandle {
 public:
  using tcp = boost::asio::ip::tcp;
  using Clock = std::chrono::steady_clock;

  // Incoming: the socket is connected; the handshake names the torrent.
  PeerConnection(Session& s, tcp::socket socket);
  // Outgoing to `ep` for `t`.
  PeerConnection(Session& s, std::shared_ptr<Torrent> t, tcp::endpoint ep);
  ~PeerConnection() override;

  void start();
  void close(const std::string& reason);
  bool closed() const { return closed_; }

  // PeerHandle
  PeerStats stats() const override;
  const PeerId& peer_id() const override { return peer_id_; }
  std::string endpoint() const override { return endpoint_str_; }
  bool peer_supports(std::string_view message) const override;
  bool send_extension_message(std::string_view message, std::string_view body) override;
  void set_choked_by_extension(bool choked) override;
  void set_upload_priority(std::int64_t priority) override { upload_priority_ = priority; }
  void disconnect(const std::string& reason) override { close(reason); }
  void ban(const std::string& reason, int seconds) override;

  // For the torrent.
  const tcp::endpoint& remote() const { return remote_; }
  // The address the peer listens on (its "p" for incoming peers), for PEX.
  std::optional<tcp::endpoint> listen_endpoint() const;
  const std::string& account_key() const { return endpoint_str_; }
  bool handshake_done() const { return handshake_done_; }
  bool is_seed() const;
  bool peer_interested() const { return peer_interested_; }
  bool am_choking() const { return am_choking_; }
  bool snubbed() const { return snubbed_; }
  Clock::time_point connected_at() const { return connected_at_; }
  double download_rate() const { return down_meter_.rate(); }
  double upload_rate() const { return up_meter_.rate(); }
  bool choked_by_extension() const { return ext_choked_; }
  bool optimistic() const { return optimistic_; }
  void set_optimistic(bool o) { optimistic_ = o; }
  std::uint64_t serial() const { return serial_; }
  bool supports_pex() const { return peer_ext_ids_.count("ut_pex") > 0; }

  void choke(bool c);
  void send_have(PieceIndex p);
  void cancel_block(const BlockRef& b);  // endgame: another peer delivered it
  bool has_requested(const BlockRef& b) const;
  void update_interest();
  void close_if_both_seeds();
  void request_blocks();
  void on_metadata_ready();  // the torrent just got its metadata (magnet)
  void send_metadata_request(std::int64_t piece);
  void send_pex(const std::string& body);
  void tick(Clock::time_point now);
  void on_bandwidth(bool upload);  // the session's bucket refilled

 private:
  friend class Torrent;
  void do_connect(tcp::endpoint ep);
  void send_handshake();
  void do_read();
  void on_read(std::size_t n);
  bool handle_handshake();
  bool handle_message(const wire::Message& m);
  bool handle_extended(std::uint8_t id, std::span<const std::uint8_t> body);
  void send_extended_handshake();
  void send_initial_bitfield();
  void fill_uploads();
  void flush();
  // Gives back send memory a connection with nothing queued does not need.
  void release_idle_buffers(bool idle_tick);
  void reject(const BlockRef& r);
  void abort_all_requests();
  void set_peer_has(std::int32_t piece);
  void write_simple(wire::MsgId id);
  void arm_timer();
  bool disk_backlog_full() const;

  Session& session_;
  std::shared_ptr<Torrent> torrent_;
  tcp::socket socket_;
  tcp::endpoint remote_;
  std::string endpoint_str_;
  bool incoming_;
  bool closed_ = false;
  std::shared_ptr<int> counter_;  // the session's connection count, while counted
  bool handshake_done_ = false;
  bool handshake_sent_ = false;
  std::uint64_t serial_;

  // Read side.
  std::vector<std::uint8_t> rbuf_;
  std::size_t rpos_ = 0, rend_ = 0;
  bool reading_ = false;
  bool read_waiting_bw_ = false;
  bool last_read_full_ = false;  // the last read filled the buffer: grow it
  bool read_paused_ = false;     // the send queue is over its limit: its requests wait
  int refused_requests_ = 0;     // since the last unchoke
  std::size_t metadata_served_ = 0;
  static constexpr std::size_t kMetadataServesPerPiece = 4;
  std::size_t queued_bytes() const { return sendq_.size() + writing_.size(); }
  bool send_queue_full() const;
  void process_messages();
  // A request we refuse; false when that was one too many and the peer is gone.
  bool refused_request();

  // Write side: messages and blocks are appended to sendq_ while writing_ is on the wire.
  SendBuffer sendq_, writing_;
  bool write_in_flight_ = false;
  bool write_waiting_bw_ = false;
  std::int64_t upload_priority_ = 0;

  // Peer state.
  PeerId peer_id_{};
  bool fast_ = false;        // both set the fast bit
  bool extensions_ = false;  // both set the extension bit
  bool am_choking_ = true, am_interested_ = false;
  bool peer_choking_ = true, peer_interested_ = false;
  bool ext_choked_ = false, optimistic_ = false;
  bool snubbed_ = false;
  bool got_first_message_ = false;
  bool peer_have_all_ = false;  // have_all before metadata
  std::vector<bool> peer_has_;
  // HAVEs beyond the bitfield before the metadata is known, a bounded number.
  std::set<std::uint32_t> early_haves_;
  static constexpr std::size_t kMaxEarlyHaves = 4096;
  std::int32_t peer_num_have_ = 0;
  std::string client_;
  std::uint16_t peer_listen_port_ = 0;
  int peer_reqq_ = 250;
  std::map<std::string, std::uint8_t, std::less<>> peer_ext_ids_;  // name -> peer's id

  // Requests we sent, oldest first; requests the peer sent us.
  struct Outstanding {
    BlockRef block;
    Clock::time_point sent;
  };
  std::deque<Outstanding> outstanding_;
  std::deque<BlockRef> incoming_requests_;
  std::set<BlockRef> rejected_;  // blocks this peer refused; not asked of it again
  // Blocks we cancelled or stopped waiting for (choke, snub): they may still arrive.
  std::deque<BlockRef> stale_;
  int unrequested_blocks_ = 0;  // blocks it sent that nobody asked it for
  static constexpr std::size_t kMaxStaleBlocks = 1024;
  static constexpr int kMaxUnrequestedBlocks = 8;
  void note_stale(const BlockRef& b);
  bool forget_stale(const BlockRef& b);  // true: it was stale (now forgotten)

  // Timing and rates.
  Clock::time_point connected_at_, last_received_, last_sent_, last_piece_;
  RateMeter down_meter_, up_meter_;
  TransferCounters* counters_ = nullptr;  // lives in the torrent's account map
  boost::asio::steady_timer connect_timer_;

  std::vector<std::unique_ptr<PeerExtension>> plugins_;
  std::vector<std::string> ext_names_by_local_id_;  // index = our id - 1
  std::size_t metadata_requests_in_flight_ = 0;
  Clock::time_point last_pex_in_{};
  static constexpr std::size_t kMaxPexPeersPerMessage = 20;
};

}  // namespace p2p
