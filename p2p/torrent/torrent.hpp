#pragma once
// One torrent in a session: its storage, piece picker, peers, choker rounds, tracker
// announces, accounting and extensions. Runs on the session's io_context thread.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <atomic>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "p2p/metainfo/metainfo.hpp"
#include "p2p/peer/extension.hpp"
#include "p2p/peer/peer_host.hpp"
#include "p2p/session/counters.hpp"
#include "p2p/session/events.hpp"
#include "p2p/storage/storage.hpp"
#include "p2p/torrent/accounting.hpp"
#include "p2p/torrent/ban_list.hpp"
#include "p2p/torrent/bandwidth.hpp"
#include "p2p/torrent/choker.hpp"
#include "p2p/torrent/peer_history.hpp"
#include "p2p/torrent/piece_buffer.hpp"
#include "p2p/torrent/piece_picker.hpp"
#include "p2p/torrent/redial_table.hpp"
#include "p2p/tracker/tracker.hpp"
#include "p2p/wire/core_types.hpp"
#include "p2p/wire/metadata_exchange.hpp"
#include "p2p/wire/wire_messages.hpp"

namespace p2p {

class Session;
class PeerConnection;
struct AddTorrentParams;

class Torrent : public std::enable_shared_from_this<Torrent>, public PeerHost {
 public:
  Torrent(Session& session, AddTorrentParams params);
  ~Torrent();
  Torrent(const Torrent&) = delete;
  Torrent& operator=(const Torrent&) = delete;

  // Opens the storage and queues the torrent: the session starts its check (resume data or
  // a full recheck, on the hash threads) when a checking slot is free, then lets it download
  // or seed. Storage errors of the opening are thrown from here (nothing is running yet).
  void start();

  TorrentState state() const { return state_; }
  // Closes every peer and stops announcing; a check in progress is dropped (done again on
  // resume). resume() queues the torrent again (an error is cleared: the torrent retries).
  void pause();
  void resume();
  // Pieces hashed so far by the check in progress (or the last one).
  std::int32_t checked_pieces() const { return checked_pieces_->load(); }
  // For the session's queue.
  bool wants_check() const { return needs_check_; }
  void begin_check();
  void activate();
  // Drops what has expired or is over its cap (bans, strikes, redial times, past peers) as
  // of `now`; the tick does it with the current time.
  void prune_state(std::chrono::steady_clock::time_point now);
  const Counters& stats() const { return stats_; }
  Counters& counters_mut() { return stats_; }
  // Announces stopped, closes every peer, then calls done (at most `timeout` later).
  void stop(std::function<void()> done, std::chrono::seconds timeout = std::chrono::seconds(5));

  // Closes every peer and stops the timers at once, with no announce (session teardown).
  void abort();

  // This torrent's own rate limits, bytes/s (0: none), applied under the session's: a byte
  // goes when both allow it.
  void set_rate_limits(std::int64_t up, std::int64_t down);
  std::int64_t upload_limit() const { return up_limit_.rate(); }
  std::int64_t download_limit() const { return down_limit_.rate(); }
  // Under the session's limits, the peers of a torrent of a higher bandwidth priority (-1 low,
  // 0 normal, 1 high) take the bandwidth first. A torrent that does not honor the session's
  // limits is held only by its own.
  void set_bandwidth_priority(int p) { bandwidth_priority_ = std::clamp(p, -1, 1); }
  int bandwidth_priority() const { return bandwidth_priority_; }
  void set_honors_session_limits(bool h) { honors_session_limits_ = h; }
  bool honors_session_limits() const { return honors_session_limits_; }
  // For the connections: whether this torrent's buckets have bytes left now, and taking them.
  bool may_transfer(bool upload);
  void consume_bandwidth(bool upload, std::int64_t bytes);

  // Forgets which pieces are there and hashes every piece again (resume data is not
  // trusted), on the hash threads when the session's queue gives a checking slot. The peers
  // are closed (what they were told we have may no longer hold); a paused torrent is
  // paused again after the check.
  void force_recheck();
  // Announces to the trackers now; forced announces come at least kMinForcedAnnounce apart
  // (one asked sooner goes when that time is up).
  void force_reannounce();
  static constexpr std::chrono::seconds kMinForcedAnnounce{10};
  // Moves the files to `dir` on the disk thread (rename, or copy and delete across file
  // systems), then reads and writes them there; the folders left empty at the old place
  // are removed. While the files move the torrent takes no peers. done(error) runs on the
  // network thread; an empty error is success (on failure the files stay where they were).
  void move_storage(std::filesystem::path dir, std::function<void(std::string error)> done);
  const std::filesystem::path& save_path() const { return save_path_; }
  bool moving() const { return moving_; }
  // Every file's path under save_path() (empty without metadata).
  std::vector<std::filesystem::path> relative_paths() const;
  // Runs fn once no disk job of this torrent is in flight (polling, never blocking).
  void when_disk_idle(std::function<void()> fn);

  const InfoHash& info_hash() const override { return info_hash_; }
  std::string name() const;
  bool has_metadata() const override { return meta_ != nullptr; }
  const Metainfo* metainfo() const override { return meta_.get(); }
  bool is_seed() const { return picker_ && picker_->is_seed(); }
  std::int32_t num_pieces() const override { return meta_ ? meta_->num_pieces() : 0; }
  std::int32_t num_have() const { return picker_ ? picker_->num_have() : 0; }
  ByteCount total_size() const { return meta_ ? meta_->total_size : 0; }
  ByteCount bytes_done() const;
  bool is_private() const override { return meta_ && meta_->is_private; }
  // A fatal error (disk full, permission denied...): the torrent stopped. A full disk is
  // retried every SessionSettings::disk_full_retry, and the error clears when it works.
  const std::string& error() const { return error_; }
  bool disk_full() const { return disk_full_; }

  // Accounting: totals for the torrent, and per remote peer (live and past connections),
  // keyed by "ip:port".
  TransferCounters counters() const { return totals_; }
  std::map<std::string, TransferCounters> peer_accounts() const { return history_.accounts(); }
  std::vector<PeerStats> peers() const;
  std::size_t num_peers() const;
  double download_rate() const { return down_rate_.rate(); }
  double upload_rate() const { return up_rate_.rate(); }
  int hash_failures() const { return hash_failures_; }
  // Each tracker with its last announce and scrape (empty without trackers).
  std::vector<TrackerStatus> tracker_status() const;
  std::vector<std::string> banned() const;

  // Queues a dial to `ep` unless it is queued already, was dialed too recently, or the
  // queue holds kMaxCandidates already.
  void connect_to(const boost::asio::ip::tcp::endpoint& ep);
  // A peer learnt over PEX: queued like connect_to, at most kMaxPexPeersPerMinute a minute.
  // False when it was turned away by that limit.
  bool connect_to_pex(const boost::asio::ip::tcp::endpoint& ep, bool is_seed);
  std::size_t num_candidates() const { return candidates_.size(); }
  std::size_t num_redial_entries() const { return redial_.size(); }
  std::size_t num_strikes() const { return strikes_.size(); }
  std::uint64_t dials() const { return dials_; }  // outgoing connections started
  static constexpr std::size_t kMaxCandidates = 1000;
  static constexpr int kMaxPexPeersPerMinute = 50;

  std::vector<std::shared_ptr<TorrentExtension>>& extensions() override { return extensions_; }
  Session& session() { return session_; }

 private:
  // PeerHost: what connections ask of the torrent.
  std::optional<CloseReason> attach(const std::shared_ptr<PeerConnection>& p) override;
  void detach(PeerConnection* p) override;
  void on_block(PeerConnection* p, const BlockRef& b, std::span<const std::uint8_t> data) override;
  void on_block_rejected(PeerConnection* p, const BlockRef& b) override { unpin(p, b.piece); }
  void on_metadata_size(PeerConnection* p, std::int64_t size) override;
  void on_metadata_piece(PeerConnection* p, std::int64_t piece, std::int64_t total,
                         std::string_view data) override;
  void on_metadata_reject(std::int64_t piece) override;
  void on_dht_port(const PeerAddress& a, std::uint16_t port) override;
  void on_listen_port(PeerConnection* p) override;
  bool on_pex_peer(const PeerAddress& a, bool is_seed) override {
    return connect_to_pex(a.tcp(), is_seed);
  }
  TransferCounters& account(const std::string& key) override { return history_.open(key); }
  void note_payload(ByteCount up, ByteCount down) override;
  wire::Geometry geometry() const override { return geo_; }
  PiecePicker* picker() override { return picker_.get(); }
  bool has_pinned_pieces() const override { return !pinned_.empty(); }
  void mask_pinned(const PeerConnection* p, std::vector<bool>& has) const override;
  bool disk_backlog_full() const override;
  void ban(PeerConnection* p, const std::string& reason) override;
  void maybe_unchoke(PeerConnection* p) override;
  void async_read_blocks(std::vector<BlockRef> blocks, PeerProtocol::ReadDone done) override;

  void request_metadata(PeerConnection* p);
  bool is_banned(const boost::asio::ip::address& a, std::uint16_t port) const;
  void unpin(const PeerConnection* p, PieceIndex piece);
  bool connected_to(const boost::asio::ip::tcp::endpoint& ep) const;
  // Of p and another connection to the same peer (by listen address), the one to close.
  PeerConnection* duplicate_to_drop(PeerConnection* p) const;
  // Every connected peer asks for blocks again (a piece became wanted or open to them).
  void wake_requesters();
  void note_ban(const std::string& who, const std::string& reason);
  void schedule_tick();
  void fail(const std::string& why);

  void init_metadata(std::unique_ptr<Metainfo> meta);
  struct CheckResult {
    std::vector<bool> have;
    std::string error;
  };
  void check_done(std::uint64_t generation, CheckResult result);
  void set_state(TorrentState s);
  bool active() const {
    return state_ == TorrentState::Downloading || state_ == TorrentState::Seeding ||
           state_ == TorrentState::FetchingMetadata;
  }
  void cancel_check();
  void announce_stopped();
  AnnounceRequest announce_request(TrackerEvent ev) const;
  template <class E>
  void publish(E e);
  // A piece has every block: the disk thread hashes it (and writes it when it passed), then
  // piece_checked runs back on the session's thread.
  void check_piece(PieceIndex p);
  // Waits until no piece of this torrent is on the disk thread.
  void wait_for_disk();
  void announce(TrackerEvent ev);
  void schedule_announce(std::chrono::seconds in);
  void tick();
  void rechoke(bool rotate_optimistic);
  void send_pex();
  void connect_more();
  void complete();
  void announce_complete();  // tracker event, interest, on_complete: once the data is synced

  Session& session_;
  InfoHash info_hash_{};
  std::string display_name_;
  std::unique_ptr<Metainfo> meta_;
  std::filesystem::path save_path_;
  std::filesystem::path resume_file_;
  bool seed_only_ = false;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<PiecePicker> picker_;
  wire::Geometry geo_;
  std::unique_ptr<metadata::Assembler> assembler_;
  std::vector<std::vector<std::string>> tracker_tiers_;
  std::unique_ptr<TrackerTiers> trackers_;

  struct PartialData {
    PieceBuffer data;
    std::size_t size = 0;
    std::map<std::string, ByteCount> contributors;  // account key -> bytes
    std::vector<std::string> block_from;            // block index -> account key
  };
  std::map<int, PartialData> partial_data_;
  // Smart ban: for a piece that failed with several senders, the hash of each block and who
  // sent it; once the piece passes, a sender whose block differs from the good one is struck.
  struct SentBlock {
    Sha1Digest hash;
    std::string from;
  };
  std::map<int, std::vector<std::vector<SentBlock>>> suspect_blocks_;
  // Pieces that failed with several senders are fetched again from one of them alone.
  // piece -> account key; a pin lapses after a while so a slow peer cannot stall the piece.
  std::map<int, std::string> pinned_;
  std::map<int, std::chrono::steady_clock::time_point> pinned_at_;
  void record_suspect_blocks(PieceIndex p, const PartialData& pd);
  void judge_suspect_blocks(PieceIndex p, const PartialData& pd);
  void strike(const std::string& key, int points, const std::string& reason);
  void pin_piece(PieceIndex p, const PartialData& pd);
  void piece_checked(PieceIndex p, bool ok, PartialData pd, const std::string& write_error,
                     bool no_space);
  void move_done(const std::filesystem::path& dir, const std::string& error,
                 const std::function<void(std::string)>& done);
  void save_resume_async();
  bool disk_full_ = false;  // error_ is a full disk, retried at disk_full_retry_at_
  std::chrono::steady_clock::time_point disk_full_retry_at_;
  struct DiskJobs {
    std::mutex mu;
    std::condition_variable cv;
    int pending = 0;  // pieces being hashed and written
    int reads = 0;    // upload reads
  };
  std::shared_ptr<DiskJobs> disk_ = std::make_shared<DiskJobs>();
  // Piece buffers back from the disk thread, reused so a download does not map, fault in
  // and zero a fresh piece-sized buffer for every piece.
  std::vector<PieceBuffer> spare_buffers_;

  std::vector<std::shared_ptr<PeerConnection>> peers_;
  struct EndpointHash {
    std::size_t operator()(const boost::asio::ip::tcp::endpoint& ep) const noexcept;
  };
  // A list, not a deque: an empty deque already holds a 512-byte block, in every torrent.
  std::list<boost::asio::ip::tcp::endpoint> candidates_;
  std::unordered_set<boost::asio::ip::tcp::endpoint, EndpointHash> candidate_set_;
  std::uint64_t dials_ = 0;
  std::chrono::steady_clock::time_point pex_window_, last_redial_prune_;
  int pex_in_window_ = 0;
  // Endpoints queued lately, with the earliest time each may be dialed again.
  RedialTable redial_;
  // Endpoints the user gave (AddTorrentParams::peers): dialed again whenever lost.
  std::vector<boost::asio::ip::tcp::endpoint> sticky_;
  Strikes strikes_;  // account key -> hash failures caused
  BanList banned_;   // "ip:port" (or "ip" off loopback), "id:<peer id hex>"
  PeerHistory history_;
  Counters stats_;
  TransferCounters totals_;
  RateMeter down_rate_, up_rate_;
  int hash_failures_ = 0;

  Choker choker_;
  std::chrono::steady_clock::time_point started_at_, last_rechoke_, last_optimistic_, last_pex_,
      last_tick_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer announce_timer_;
  bool started_ = false;
  bool stopping_ = false;
  TorrentState state_ = TorrentState::Queued;
  TorrentState before_error_ = TorrentState::Queued;
  bool needs_check_ = false;
  bool full_check_ = false;            // the next check ignores resume data
  bool pause_after_check_ = false;     // a paused torrent was rechecked
  std::uint64_t data_generation_ = 0;  // bumped by a recheck: older piece results are stale
  bool moving_ = false;
  TokenBucket up_limit_, down_limit_;
  int bandwidth_priority_ = 0;
  bool honors_session_limits_ = true;
  std::chrono::steady_clock::time_point last_forced_announce_{};
  bool forced_announce_pending_ = false;
  // Verified pieces not yet in the resume file, and when it was last written.
  bool resume_dirty_ = false;
  std::chrono::steady_clock::time_point last_resume_save_{};
  bool announced_started_ = false;
  std::uint64_t check_generation_ = 0;
  std::shared_ptr<std::atomic<bool>> check_cancel_;
  std::shared_ptr<std::atomic<std::int32_t>> checked_pieces_ =
      std::make_shared<std::atomic<std::int32_t>>(0);
  // A magnet's metadata while its files are checked: has_metadata() stays false until then.
  std::unique_ptr<Metainfo> pending_meta_;
  bool completed_announced_ = false;
  bool complete_fired_ = false;
  bool announce_in_flight_ = false;
  // The first answered announce sets the first scrape; then every scrape_interval.
  std::chrono::steady_clock::time_point next_scrape_ = std::chrono::steady_clock::time_point::max();
  bool scrape_in_flight_ = false;
  std::string error_;
  std::vector<std::shared_ptr<TorrentExtension>> extensions_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace p2p
