#include "p2p/torrent/torrent.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <boost/asio/post.hpp>

#include "base/hex.hpp"
#include "base/log.hpp"
#include "p2p/metainfo/sha1.hpp"
#include "p2p/peer/peer_connection.hpp"
#include "p2p/session/session.hpp"
#include "p2p/storage/file_moves.hpp"
#include "p2p/storage/resume_data.hpp"
#include "p2p/transport/tcp_stream.hpp"
#include "p2p/wire/pex.hpp"

namespace p2p {

using boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
// The least time between two dials of one endpoint: a peer the user named, another peer.
constexpr auto kStickyRedial = std::chrono::seconds(5);
constexpr auto kRedial = std::chrono::seconds(60);
// How long a piece that failed with several senders waits for the one it was given to.
constexpr auto kPinTime = std::chrono::seconds(60);

tcp::endpoint normalized(const tcp::endpoint& ep) {
  if (ep.address().is_v6() && ep.address().to_v6().is_v4_mapped()) {
    return tcp::endpoint(
        boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, ep.address().to_v6()),
        ep.port());
  }
  return ep;
}
}  // namespace

Torrent::Torrent(Session& session, AddTorrentParams params)
    : session_(session),
      save_path_(params.save_path),
      resume_file_(params.resume_file),
      seed_only_(params.seed_only),
      redial_(session.settings().max_redial_entries),
      strikes_(session.settings().strike_memory),
      banned_(session.settings().ban_duration),
      history_(session.settings().max_past_peers),
      choker_(session.settings().choker),
      tick_timer_(session.io()),
      announce_timer_(session.io()) {
  if (params.metainfo) {
    meta_ = std::make_unique<Metainfo>(std::move(*params.metainfo));
    info_hash_ = meta_->info_hash;
    display_name_ = meta_->name;
    tracker_tiers_ = meta_->trackers;
  } else {
    info_hash_ = params.info_hash;
    display_name_ = params.name;
    assembler_ = std::make_unique<metadata::Assembler>(info_hash_);
  }
  for (auto& tier : params.trackers) tracker_tiers_.push_back(tier);
  if (resume_file_.empty()) resume_file_ = default_resume_path(info_hash_);
  for (const auto& ep : params.peers) {
    sticky_.push_back(normalized(ep));
    if (candidate_set_.insert(sticky_.back()).second) candidates_.push_back(sticky_.back());
    redial_.set(sticky_.back(), Clock::now() + kStickyRedial);
  }
}

Torrent::~Torrent() {
  cancel_check();
  wait_for_disk();  // a job on the disk thread uses the storage
  *alive_ = false;
}

void Torrent::wait_for_disk() {
  std::unique_lock lock(disk_->mu);
  disk_->cv.wait(lock, [this] { return disk_->pending == 0 && disk_->reads == 0; });
}

std::string Torrent::name() const {
  if (!display_name_.empty()) return display_name_;
  return base::to_hex(std::span<const std::uint8_t>(info_hash_.data(), info_hash_.size()));
}

ByteCount Torrent::bytes_done() const {
  if (!picker_) return 0;
  return meta_->total_size - picker_->bytes_left();
}

template <class E>
void Torrent::publish(E e) {
  e.info_hash = info_hash_;
  session_.events().publish(Event(std::move(e)));
}

void Torrent::set_state(TorrentState to) {
  if (to == state_) return;
  auto from = state_;
  state_ = to;
  base::log::get("torrent")->debug("{}: {} -> {}", name(), to_string(from), to_string(to));
  publish(event::TorrentStateChanged{{}, from, to});
  session_.update_queue();  // a slot may have freed
}

void Torrent::start() {
  if (started_) return;
  started_ = true;
  started_at_ = last_rechoke_ = last_optimistic_ = last_pex_ = last_tick_ = last_resume_save_ =
      Clock::now();
  for (auto& f : session_.extension_factories()) {
    if (auto e = f(*this)) extensions_.push_back(std::move(e));
  }
  if (meta_) {
    geo_.num_pieces = std::uint32_t(meta_->num_pieces());
    geo_.piece_length = std::uint32_t(meta_->piece_length);
    geo_.total_size = std::uint64_t(meta_->total_size);
    StorageOptions opts = session_.settings().storage;
    opts.read_only = seed_only_;
    opts.writers = &session_.write_pool();
    storage_ = std::make_unique<Storage>(*meta_, save_path_, opts);
    needs_check_ = true;
  }
  bool empty_tiers = true;
  for (auto& t : tracker_tiers_) empty_tiers = empty_tiers && t.empty();
  if (!empty_tiers) {
    trackers_ = std::make_unique<TrackerTiers>(tracker_tiers_, session_.tracker_client());
  }
  tick();
}

void Torrent::begin_check() {
  if (!storage_ || stopping_ || moving_) return;
  set_state(TorrentState::Checking);
  ++stats_.checks_started;
  ++session_.counters().checks_started;
  cancel_check();
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  check_cancel_ = cancel;
  checked_pieces_->store(0);
  std::uint64_t generation = ++check_generation_;
  {
    std::lock_guard lock(disk_->mu);
    ++disk_->pending;
  }
  const Metainfo* meta = pending_meta_ ? pending_meta_.get() : meta_.get();
  // The destructor waits for `pending` to drop, so the storage and metainfo outlive the job.
  session_.hash_pool().post([this, storage = storage_.get(), num_pieces = meta->num_pieces(),
                             resume_file = resume_file_, seed_only = seed_only_, cancel,
                             full = full_check_, progress = checked_pieces_, io = &session_.io(),
                             disk = disk_, generation, alive = std::weak_ptr<bool>(alive_)] {
    // The hash threads give way to the network thread when cores are few: a check may take
    // longer, a transfer must not slow down. (On Linux a nice value belongs to the thread.)
    thread_local bool niced = false;
    if (!niced) {
      niced = true;
      (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
    }
    CheckResult r;
    try {
      std::optional<std::vector<bool>> have;
      if (!cancel->load() && !full) {
        if (auto rd = load_resume_data(resume_file)) have = storage->check_resume_data(*rd);
      }
      if (have) {
        progress->store(num_pieces);
      } else if (!cancel->load()) {
        have = storage->recheck([&](PieceIndex, bool) {
          progress->fetch_add(1);
          return !cancel->load();
        });
        storage->close_files();  // an idle torrent holds no descriptors
        if (!cancel->load()) {
          try {
            save_resume_data(resume_file, storage->make_resume_data(*have));
          } catch (const StorageError&) {
            // Resume data only saves time on the next start.
          }
        }
      }
      if (have) r.have = std::move(*have);
      if (!seed_only && !cancel->load()) storage->create_files();
    } catch (const std::exception& e) {
      r.error = std::string("storage: ") + e.what();
    }
    if (!cancel->load()) {
      boost::asio::post(*io, [this, alive, generation, r = std::move(r)]() mutable {
        if (!alive.lock()) return;
        check_done(generation, std::move(r));
      });
    }
    std::lock_guard lock(disk->mu);
    --disk->pending;
    disk->cv.notify_all();
  });
}

void Torrent::cancel_check() {
  if (check_cancel_) check_cancel_->store(true);
  check_cancel_.reset();
}

void Torrent::check_done(std::uint64_t generation, CheckResult r) {
  if (generation != check_generation_ || state_ != TorrentState::Checking || stopping_) return;
  check_cancel_.reset();
  ++stats_.checks_done;
  ++session_.counters().checks_done;
  session_.counters().pieces_checked += std::uint64_t(checked_pieces_->load());
  stats_.pieces_checked += std::uint64_t(checked_pieces_->load());
  needs_check_ = false;
  full_check_ = false;
  if (!r.error.empty()) {
    needs_check_ = true;  // a resume checks again
    fail(r.error);
    return;
  }
  bool magnet = pending_meta_ != nullptr;
  if (magnet) {
    meta_ = std::move(pending_meta_);
    if (display_name_.empty()) display_name_ = meta_->name;
    geo_.num_pieces = std::uint32_t(meta_->num_pieces());
    geo_.piece_length = std::uint32_t(meta_->piece_length);
    geo_.total_size = std::uint64_t(meta_->total_size);
  }
  picker_ = std::make_unique<PiecePicker>(meta_->num_pieces(), std::int32_t(meta_->piece_length),
                                          meta_->total_size);
  for (std::size_t i = 0; i < r.have.size(); ++i) {
    if (r.have[i]) picker_->set_have(PieceIndex(std::int32_t(i)));
  }
  if (picker_->is_seed()) {
    completed_announced_ = true;  // already complete: no "completed"
  } else {
    complete_fired_ = completed_announced_ = false;  // a recheck found pieces missing
  }
  base::log::get("torrent")->info("{}: checked, {} of {} pieces", name(), picker_->num_have(),
                                  meta_->num_pieces());
  if (magnet) {
    auto peers = peers_;
    for (auto& p : peers) {
      if (p->handshake_done() && !p->closed()) p->on_metadata_ready();
    }
    publish(event::MetadataReceived{});
  }
  if (pause_after_check_) {
    pause_after_check_ = false;
    set_state(TorrentState::Paused);
    return;
  }
  if (session_.slot_free(*this)) {
    activate();
  } else {
    set_state(TorrentState::Queued);
  }
}

void Torrent::activate() {
  if (stopping_ || needs_check_ || moving_) return;
  if (!error_.empty()) return;
  TorrentState to = !picker_             ? TorrentState::FetchingMetadata
                    : picker_->is_seed() ? TorrentState::Seeding
                                         : TorrentState::Downloading;
  set_state(to);
  if (!announced_started_ && trackers_) {
    announced_started_ = true;
    announce(TrackerEvent::started);
  }
  connect_more();
  if (picker_ && picker_->is_seed() && !complete_fired_) {
    boost::asio::post(session_.io(), [this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) complete();
    });
  }
}

AnnounceRequest Torrent::announce_request(TrackerEvent ev) const {
  const bool stopped = ev == TrackerEvent::stopped;
  AnnounceRequest req;
  req.info_hash = info_hash_;
  req.peer_id = session_.peer_id();
  req.port = session_.listen_port();
  req.uploaded = totals_.payload_up;
  req.downloaded = totals_.payload_down;
  // Without metadata the size is unknown: say "not done" unless leaving.
  req.left = picker_ ? picker_->bytes_left() : (stopped ? 0 : 1);
  req.event = ev;
  req.numwant = stopped ? 0 : 50;
  req.key = session_.announce_key();
  return req;
}

void Torrent::announce_stopped() {
  if (!trackers_ || !announced_started_) return;
  announced_started_ = false;
  announce_timer_.cancel();
  AnnounceRequest req = announce_request(TrackerEvent::stopped);
  trackers_->announce(req, [](const AnnounceResult&) {});
}

void Torrent::pause() {
  if (state_ == TorrentState::Paused || stopping_) return;
  cancel_check();
  auto peers = peers_;
  for (auto& p : peers) p->close(CloseReason::LocalStop, "torrent paused");
  announce_stopped();
  save_resume_async();
  set_state(TorrentState::Paused);
}

void Torrent::resume() {
  if (pause_after_check_ && (state_ == TorrentState::Queued || state_ == TorrentState::Checking)) {
    pause_after_check_ = false;  // a paused torrent being rechecked goes on after the check
    return;
  }
  if (state_ != TorrentState::Paused || stopping_) return;
  error_.clear();
  disk_full_ = false;
  pause_after_check_ = false;
  set_state(TorrentState::Queued);
}

void Torrent::set_rate_limits(std::int64_t up, std::int64_t down) {
  up_limit_.set_rate(up);
  down_limit_.set_rate(down);
}

bool Torrent::may_transfer(bool upload) {
  auto& b = upload ? up_limit_ : down_limit_;
  if (b.unlimited()) return true;
  b.refill(Clock::now());
  return b.available();
}

void Torrent::consume_bandwidth(bool upload, std::int64_t bytes) {
  (upload ? up_limit_ : down_limit_).consume(bytes);
}

void Torrent::force_recheck() {
  if (stopping_ || !storage_) return;  // without metadata there is nothing to check
  bool paused = state_ == TorrentState::Paused ||
                (state_ == TorrentState::Checking && pause_after_check_) ||
                (state_ == TorrentState::Queued && pause_after_check_);
  cancel_check();
  auto peers = peers_;
  for (auto& p : peers) p->close(CloseReason::LocalStop, "rechecking");
  announce_stopped();
  // Pieces on their way to the disk belong to the picker being dropped.
  ++data_generation_;
  partial_data_.clear();
  pinned_.clear();
  pinned_at_.clear();
  if (meta_) picker_.reset();
  error_.clear();
  disk_full_ = false;
  needs_check_ = true;
  full_check_ = true;
  pause_after_check_ = paused;
  set_state(TorrentState::Queued);
  session_.update_queue();
}

void Torrent::force_reannounce() {
  if (!trackers_ || stopping_ || !active()) return;
  auto now = Clock::now();
  auto earliest = last_forced_announce_ + kMinForcedAnnounce;
  if (last_forced_announce_ != Clock::time_point{} && now < earliest) {
    // Too soon after the last one: it goes when the time is up, unless one is due by then.
    if (announce_timer_.expiry() > earliest) {
      schedule_announce(std::chrono::ceil<std::chrono::seconds>(earliest - now));
    }
    last_forced_announce_ = earliest;
    return;
  }
  last_forced_announce_ = now;
  announce_timer_.cancel();
  if (!announced_started_) {
    announced_started_ = true;
    announce(TrackerEvent::started);
  } else {
    announce(TrackerEvent::none);
  }
}

std::vector<std::filesystem::path> Torrent::relative_paths() const {
  std::vector<std::filesystem::path> out;
  const Metainfo* m = pending_meta_ ? pending_meta_.get() : meta_.get();
  if (!m) return out;
  for (const auto& f : m->files) out.push_back(f.relative_path);
  return out;
}

void Torrent::when_disk_idle(std::function<void()> fn) {
  bool idle;
  {
    std::lock_guard lock(disk_->mu);
    idle = disk_->pending == 0 && disk_->reads == 0;
  }
  if (idle) return fn();
  auto timer =
      std::make_shared<boost::asio::steady_timer>(session_.io(), std::chrono::milliseconds(10));
  timer->async_wait([this, timer, fn = std::move(fn), alive = std::weak_ptr<bool>(alive_)](
                        const boost::system::error_code& ec) mutable {
    if (ec || !alive.lock()) return;
    when_disk_idle(std::move(fn));
  });
}

void Torrent::move_storage(std::filesystem::path dir, std::function<void(std::string)> done) {
  auto reply = [this, &done](std::string error) {
    boost::asio::post(session_.io(), [done = std::move(done), error] {
      if (done) done(error);
    });
  };
  if (stopping_) return reply("the torrent is closing");
  if (moving_) return reply("the files are being moved already");
  if (dir.empty()) return reply("no folder given");
  std::error_code ec;
  if (dir == save_path_ || std::filesystem::equivalent(dir, save_path_, ec)) return reply({});
  if (!storage_) {
    // No metadata yet: nothing is on disk, the files will be made there.
    save_path_ = std::move(dir);
    return reply({});
  }
  moving_ = true;
  if (state_ == TorrentState::Checking) {
    cancel_check();  // checked again once the files are there
    set_state(TorrentState::Queued);
  }
  auto peers = peers_;
  for (auto& p : peers) p->close(CloseReason::LocalStop, "moving files");
  when_disk_idle([this, dir = std::move(dir), done = std::move(done)]() mutable {
    {
      std::lock_guard lock(disk_->mu);
      ++disk_->pending;
    }
    session_.disk_pool().post([this, storage = storage_.get(), files = relative_paths(),
                               from = save_path_, dir, done = std::move(done), io = &session_.io(),
                               disk = disk_, alive = std::weak_ptr<bool>(alive_)]() mutable {
      std::string error;
      try {
        storage->close_files();
        error = move_files(files, from, dir);
        if (error.empty()) storage->set_save_path(dir);
      } catch (const std::exception& e) {
        error = e.what();
      }
      boost::asio::post(*io, [this, alive, dir, error, done = std::move(done)] {
        if (!alive.lock()) {
          if (done) done(error);
          return;
        }
        move_done(dir, error, done);
      });
      std::lock_guard lock(disk->mu);
      --disk->pending;
      disk->cv.notify_all();
    });
  });
}

void Torrent::move_done(const std::filesystem::path& dir, const std::string& error,
                        const std::function<void(std::string)>& done) {
  moving_ = false;
  if (error.empty()) {
    save_path_ = dir;
    save_resume_async();  // the stamps of the files where they are now
  }
  session_.update_queue();  // a check put off by the move
  if (active()) connect_more();
  if (done) done(error);
}

void Torrent::init_metadata(std::unique_ptr<Metainfo> meta) {
  assembler_.reset();
  pending_meta_ = std::move(meta);
  try {
    StorageOptions opts = session_.settings().storage;
    opts.read_only = seed_only_;
    opts.writers = &session_.write_pool();
    storage_ = std::make_unique<Storage>(*pending_meta_, save_path_, opts);
  } catch (const std::exception& e) {
    fail(std::string("storage: ") + e.what());
    return;
  }
  needs_check_ = true;
  if (session_.slot_free(*this)) {
    begin_check();
  } else {
    set_state(TorrentState::Queued);
  }
}

void Torrent::stop(std::function<void()> done, std::chrono::seconds timeout) {
  stopping_ = true;
  cancel_check();
  tick_timer_.cancel();
  announce_timer_.cancel();
  auto peers = peers_;
  for (auto& p : peers) p->close(CloseReason::LocalStop, "torrent stopped");
  peers_.clear();
  // Only a torrent that wrote since its resume data was saved needs a sync and a save: a
  // session of thousands of seeding torrents stops without a sync for each.
  if (storage_ && picker_ && !seed_only_ && resume_dirty_) {
    wait_for_disk();  // so the files are stamped after the last write
    try {
      storage_->flush();
      save_resume_data(resume_file_, storage_->make_resume_data(picker_->have_bits()));
    } catch (const std::exception&) {
      // Resume data is an optimisation: a recheck follows next time.
    }
  }
  auto fired = std::make_shared<bool>(false);
  auto finish = [fired, done] {
    if (*fired) return;
    *fired = true;
    if (done) done();
  };
  if (!trackers_ || !started_ || !announced_started_) {
    boost::asio::post(session_.io(), finish);
    return;
  }
  auto timer = std::make_shared<boost::asio::steady_timer>(session_.io(), timeout);
  timer->async_wait([finish, timer](const boost::system::error_code&) { finish(); });
  AnnounceRequest req = announce_request(TrackerEvent::stopped);
  trackers_->announce(req, [finish, timer](const AnnounceResult&) {
    timer->cancel();
    finish();
  });
}

void Torrent::abort() {
  stopping_ = true;
  cancel_check();
  tick_timer_.cancel();
  announce_timer_.cancel();
  auto peers = peers_;
  for (auto& p : peers) p->close(CloseReason::LocalStop, "session closed");
  peers_.clear();
  // No job may be left to post its result into an io_context that is going away.
  wait_for_disk();
}

void Torrent::announce(TrackerEvent ev) {
  if (!trackers_ || stopping_ || !active()) return;
  if (announce_in_flight_ && ev == TrackerEvent::none) return;
  announce_in_flight_ = true;
  AnnounceRequest req = announce_request(ev);
  trackers_->announce(req, [this, alive = std::weak_ptr<bool>(alive_)](const AnnounceResult& r) {
    if (!alive.lock() || stopping_) return;
    announce_in_flight_ = false;
    if (!active()) return;
    if (!r.response) {
      schedule_announce(std::chrono::seconds(30));
      return;
    }
    for (const auto& peer : r.response->peers) connect_to(peer.endpoint);
    if (next_scrape_ == Clock::time_point::max()) next_scrape_ = Clock::now();
    auto next = r.response->interval;
    if (r.response->min_interval) next = std::max(next, *r.response->min_interval);
    // While downloading with few peers, ask again sooner (never before min_interval).
    if (!is_seed() && num_peers() < 5) {
      auto soon = std::chrono::seconds(30);
      if (r.response->min_interval) soon = std::max(soon, *r.response->min_interval);
      next = std::min(next, soon);
    }
    schedule_announce(std::max(next, std::chrono::seconds(5)));
  });
}

std::vector<TrackerStatus> Torrent::tracker_status() const {
  if (!trackers_) return {};
  return trackers_->status();
}

void Torrent::schedule_announce(std::chrono::seconds in) {
  announce_timer_.expires_after(in);
  announce_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (ec || !alive.lock() || stopping_) return;
        announce(TrackerEvent::none);
      });
}

std::optional<CloseReason> Torrent::attach(const std::shared_ptr<PeerConnection>& p) {
  if (stopping_ || moving_ || !error_.empty()) return CloseReason::LocalStop;
  bool listed = std::find(peers_.begin(), peers_.end(), p) != peers_.end();
  // Checking, queued or paused: no new peers (a magnet's peers stay while it checks).
  if (!active() && !listed) return CloseReason::LocalStop;
  if (is_banned(p->remote().ip(), p->remote().port())) return CloseReason::Banned;
  if (banned_.banned("id:" + base::to_hex(std::span<const std::uint8_t>(p->peer_id().data(), 20)),
                     Clock::now())) {
    return CloseReason::Banned;
  }
  for (auto& other : peers_) {
    if (other != p && other->handshake_done() && other->peer_id() == p->peer_id()) {
      return CloseReason::Duplicate;
    }
  }
  if (auto* drop = duplicate_to_drop(p.get())) {
    if (drop == p.get()) return CloseReason::Duplicate;
    drop->close(CloseReason::Duplicate, "a second connection to the same peer");
  }
  if (!listed) {
    if (int(peers_.size()) >= session_.settings().max_connections_per_torrent) {
      return CloseReason::TooManyPeers;
    }
    peers_.push_back(p);
  }
  publish(event::PeerConnected{{}, p->account_key(), p->incoming()});
  return std::nullopt;
}

void Torrent::detach(PeerConnection* p) {
  auto it = std::find_if(peers_.begin(), peers_.end(),
                         [p](const std::shared_ptr<PeerConnection>& x) { return x.get() == p; });
  if (it == peers_.end()) return;
  auto keep = *it;  // the connection may be in the middle of a handler
  peers_.erase(it);
  history_.close(p->account_key());
  publish(event::PeerClosed{{}, p->account_key(), p->close_reason(), p->close_detail()});
  bool unpinned = false;
  for (auto pin = pinned_.begin(); pin != pinned_.end();) {
    if (pin->second != p->account_key()) {
      ++pin;
      continue;
    }
    pinned_at_.erase(pin->first);
    pin = pinned_.erase(pin);
    unpinned = true;
  }
  if (!stopping_) {
    boost::asio::post(session_.io(), [this, alive = std::weak_ptr<bool>(alive_), keep, unpinned] {
      if (!alive.lock()) return;
      if (unpinned) wake_requesters();  // its pieces are open to the others now
      connect_more();
    });
  }
}

std::size_t Torrent::num_peers() const {
  std::size_t n = 0;
  for (auto& p : peers_) n += p->handshake_done() ? 1 : 0;
  return n;
}

std::vector<PeerStats> Torrent::peers() const {
  std::vector<PeerStats> out;
  for (auto& p : peers_) {
    if (p->handshake_done() && !p->closed()) out.push_back(p->stats());
  }
  return out;
}

std::vector<std::string> Torrent::banned() const {
  return banned_.keys();
}

void Torrent::connect_to(const tcp::endpoint& ep) {
  if (stopping_ || ep.port() == 0) return;
  tcp::endpoint norm = normalized(ep);
  if (norm.address().is_loopback() && norm.port() == session_.listen_port()) return;  // us
  bool sticky = std::find(sticky_.begin(), sticky_.end(), norm) != sticky_.end();
  // A full queue takes no strangers: a tracker's list of 60,000 peers costs what 1,000 do.
  if (candidates_.size() >= kMaxCandidates && !sticky) return;
  if (candidate_set_.count(norm)) return;
  if (!redial_.try_take(norm, Clock::now(), sticky ? kStickyRedial : kRedial)) return;
  candidates_.push_back(norm);
  candidate_set_.insert(norm);
  connect_more();
}

bool Torrent::connect_to_pex(const tcp::endpoint& ep, bool peer_is_seed) {
  if (is_seed() && peer_is_seed) return true;  // two seeds have nothing to trade
  auto now = Clock::now();
  if (now - pex_window_ >= std::chrono::minutes(1)) {
    pex_window_ = now;
    pex_in_window_ = 0;
  }
  if (pex_in_window_ >= kMaxPexPeersPerMinute) return false;
  tcp::endpoint norm = normalized(ep);
  if (candidate_set_.count(norm) || connected_to(norm)) return true;
  ++pex_in_window_;
  connect_to(norm);
  return true;
}

void Torrent::prune_state(Clock::time_point now) {
  redial_.prune(now, [this](const tcp::endpoint& ep) { return candidate_set_.count(ep) > 0; });
  banned_.expire(now);
  strikes_.expire(now);
  last_redial_prune_ = now;
}

std::size_t Torrent::EndpointHash::operator()(const tcp::endpoint& ep) const noexcept {
  std::size_t h = std::hash<std::uint16_t>{}(ep.port());
  if (ep.address().is_v4()) return h ^ (std::size_t(ep.address().to_v4().to_uint()) << 16);
  auto b = ep.address().to_v6().to_bytes();
  for (auto c : b) h = h * 131 + c;
  return h;
}

bool Torrent::connected_to(const tcp::endpoint& ep) const {
  for (auto& p : peers_) {
    if (p->closed()) continue;
    PeerAddress a(ep);
    if (p->remote() == a || p->listen_address() == a) return true;
  }
  return false;
}

void Torrent::connect_more() {
  if (stopping_ || moving_ || !error_.empty() || !started_ || !active()) return;
  const auto& s = session_.settings();
  while (!candidates_.empty() && int(peers_.size()) < s.max_connections_per_torrent) {
    int outgoing = 0;
    for (auto& p : peers_) outgoing += p->incoming() ? 0 : 1;
    if (outgoing >= s.max_outgoing_per_torrent || !session_.may_connect()) break;
    tcp::endpoint ep = candidates_.front();
    candidates_.pop_front();
    candidate_set_.erase(ep);
    if (is_banned(ep.address(), ep.port())) continue;
    if (connected_to(ep)) continue;
    if (is_seed()) {
      // A seed only dials peers when it has nothing else to do; still fine to dial.
    }
    auto conn = std::make_shared<PeerConnection>(
        session_, shared_from_this(), session_.outgoing_stream(info_hash_, PeerAddress(ep)));
    ++dials_;
    peers_.push_back(conn);
    conn->start();
  }
}

bool Torrent::is_banned(const boost::asio::ip::address& a, std::uint16_t port) const {
  auto now = Clock::now();
  std::string ip = a.to_string();
  if (banned_.banned(ip, now)) return true;
  std::string key =
      a.is_v6() ? "[" + ip + "]:" + std::to_string(port) : ip + ":" + std::to_string(port);
  return banned_.banned(key, now);
}

void Torrent::ban(PeerConnection* p, const std::string& reason) {
  if (p->closed()) return;
  auto now = Clock::now();
  // On loopback every peer shares the address: ban the endpoint and the peer id instead.
  if (p->remote().is_loopback()) {
    banned_.ban(p->account_key(), now);
    if (auto le = p->listen_address()) banned_.ban(le->to_string(), now);
  } else {
    banned_.ban(p->remote().ip().to_string(), now);
  }
  banned_.ban("id:" + base::to_hex(std::span<const std::uint8_t>(p->peer_id().data(), 20)), now);
  std::string who = p->account_key();
  p->close(CloseReason::Banned, reason);
  note_ban(who, reason);
}

void Torrent::note_ban(const std::string& who, const std::string& reason) {
  ++stats_.bans;
  ++session_.counters().bans;
  base::log::get("torrent")->info("{}: banned {}: {}", name(), who, reason);
  publish(event::PeerBanned{{}, who, reason});
}

void Torrent::note_payload(ByteCount up, ByteCount down) {
  stats_.bytes_up += std::uint64_t(up);
  stats_.bytes_down += std::uint64_t(down);
  session_.counters().bytes_up += std::uint64_t(up);
  session_.counters().bytes_down += std::uint64_t(down);
  totals_.payload_up += up;
  totals_.payload_down += down;
  up_rate_.add(up);
  down_rate_.add(down);
}

void Torrent::on_block(PeerConnection* p, const BlockRef& b, std::span<const std::uint8_t> data) {
  if (!picker_ || picker_->have(b.piece)) return;
  if (b.offset % kBlockSize != 0) return;  // we only ask for aligned blocks
  std::int32_t expect = std::min(kBlockSize, picker_->piece_size(b.piece) - b.offset);
  if (b.length != expect) return;
  if (!picker_->mark_received(b)) return;
  auto& pd = partial_data_[b.piece.get()];
  if (!pd.data) {
    // Buffers hold a whole piece_length so any of them fits any piece (the last is shorter).
    if (!spare_buffers_.empty()) {
      pd.data = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
    } else {
      pd.data = make_piece_buffer(std::size_t(meta_->piece_length));
    }
    pd.size = std::size_t(picker_->piece_size(b.piece));
  }
  std::memcpy(pd.data.get() + b.offset, data.data(), data.size());
  pd.contributors[p->account_key()] += b.length;
  pd.block_from.resize(std::size_t(picker_->blocks_in_piece(b.piece)));
  pd.block_from[std::size_t(b.offset / kBlockSize)] = p->account_key();
  if (picker_->in_endgame()) {
    auto peers = peers_;
    for (auto& other : peers) {
      if (other.get() != p && other->has_requested(b)) other->cancel_block(b);
    }
  }
  if (!picker_->piece_complete(b.piece)) return;
  check_piece(b.piece);
}

void Torrent::check_piece(PieceIndex piece) {
  auto node = partial_data_.extract(piece.get());
  if (node.empty()) return;
  // Until the result is back the picker holds every block of the piece as received, so it is
  // neither requested again nor accepted twice.
  struct Job {
    PieceIndex piece;
    PartialData pd;
    Sha1Digest expect;
    bool ok = false;
    bool no_space = false;
    std::string error;
    std::uint64_t generation = 0;
  };
  auto job = std::make_shared<Job>();
  job->piece = piece;
  job->generation = data_generation_;
  job->pd = std::move(node.mapped());
  job->expect = meta_->piece_hash(piece);
  {
    std::lock_guard lock(disk_->mu);
    ++disk_->pending;
  }
  // The destructor waits for `pending` to drop, so storage and io outlive the job.
  // The disk thread hashes and goes on to the next piece while the write completes.
  auto run_job = [this, job, storage = storage_.get(), io = &session_.io(), disk = disk_,
                  alive = std::weak_ptr<bool>(alive_)] {
    std::span<const std::uint8_t> bytes(job->pd.data.get(), job->pd.size);
    storage->write_and_hash_async(
        job->piece, bytes,
        [this, job, io, disk, alive](const Sha1Digest& digest, std::exception_ptr error) {
          job->ok = !error && digest == job->expect;
          if (error) {
            try {
              std::rethrow_exception(error);
            } catch (const std::system_error& e) {
              job->error = *e.what() ? e.what() : "I/O error";
              job->no_space = e.code() == std::errc::no_space_on_device ||
                              e.code() == std::error_code(EDQUOT, std::generic_category());
            } catch (const std::exception& e) {
              job->error = *e.what() ? e.what() : "I/O error";
            } catch (...) {
              job->error = "I/O error";
            }
          }
          boost::asio::post(*io, [this, job, alive] {
            if (!alive.lock() || job->generation != data_generation_) return;
            piece_checked(job->piece, job->ok, std::move(job->pd), job->error, job->no_space);
          });
          std::lock_guard lock(disk->mu);
          --disk->pending;
          disk->cv.notify_all();
        });
  };
  session_.disk_pool().post(std::move(run_job));
}

void Torrent::piece_checked(PieceIndex piece, bool ok, PartialData pd,
                            const std::string& write_error, bool no_space) {
  if (stopping_ || !picker_) return;
  resume_dirty_ = true;  // the piece was written, passed or not: the files' stamps moved
  // The buffer goes back to the spares once the blocks have been judged (end of scope).
  struct Recycle {
    Torrent* t;
    PartialData& pd;
    ~Recycle() {
      // Keep up to 16 MiB (at least 4 buffers): fresh buffers cost a page fault per page.
      std::size_t keep =
          std::max<std::size_t>(4, (std::size_t(16) << 20) / std::size_t(t->meta_->piece_length));
      if (t->spare_buffers_.size() < keep && !t->picker_->is_seed()) {
        t->spare_buffers_.push_back(std::move(pd.data));
      }
    }
  } recycle{this, pd};
  auto peers = peers_;
  if (!write_error.empty()) {
    picker_->piece_failed(piece);
    if (no_space && error_.empty()) {
      // Disk full: the verified pieces are kept (resume data), and the download goes on by
      // itself once a retry finds room.
      disk_full_retry_at_ = Clock::now() + session_.settings().disk_full_retry;
      disk_full_ = true;
      save_resume_async();
    }
    fail("write failed: " + write_error);
    return;
  }
  pinned_.erase(piece.get());
  pinned_at_.erase(piece.get());
  if (ok) {
    judge_suspect_blocks(piece, pd);
    picker_->piece_passed(piece);
    resume_dirty_ = true;
    for (auto& [key, bytes] : pd.contributors) {
      if (auto* a = history_.find(key)) a->verified_down += bytes;
      totals_.verified_down += bytes;
      for (auto& p : peers) {
        if (p->account_key() == key) p->on_piece_checked(piece, bytes, true);
      }
    }
    for (auto& p : peers) p->send_have(piece);
    ++stats_.pieces_passed;
    ++session_.counters().pieces_passed;
    publish(event::PiecePassed{{}, piece});
    if (picker_->is_seed()) complete();
    return;
  }
  ++hash_failures_;
  ++stats_.hash_failures;
  ++session_.counters().hash_failures;
  publish(event::PieceFailed{{}, piece});
  picker_->piece_failed(piece);
  for (auto& [key, bytes] : pd.contributors) {
    if (auto* a = history_.find(key)) a->failed_down += bytes;
    totals_.failed_down += bytes;
    for (auto& p : peers) {
      if (p->account_key() != key || p->closed()) continue;
      p->on_piece_checked(piece, bytes, false);
    }
  }
  if (pd.contributors.size() == 1) {
    // The only sender of a bad piece is surely at fault.
    strike(pd.contributors.begin()->first, 2, "sent data that failed the hash check");
  } else {
    // Several senders: nobody is blamed yet. Their blocks are remembered, the piece is fetched
    // again from one of them, and whoever sent a block unlike the good one is struck then.
    record_suspect_blocks(piece, pd);
    pin_piece(piece, pd);
  }
  // The piece is wanted again. At the end of a download no peer may have a request out, and
  // none would otherwise ask for it: the download would stall one piece short.
  wake_requesters();
}

void Torrent::wake_requesters() {
  auto peers = peers_;
  for (auto& p : peers) {
    if (!p->closed() && p->handshake_done()) p->request_blocks();
  }
}

void Torrent::strike(const std::string& key, int points, const std::string& reason) {
  int n = strikes_.add(key, points, Clock::now());
  if (n < 2 * session_.settings().ban_strikes) return;
  auto peers = peers_;
  for (auto& p : peers) {
    if (p->account_key() == key && !p->closed()) return ban(p.get(), reason);
  }
  // Gone already: its endpoint stays banned.
  if (banned_.ban(key, Clock::now())) note_ban(key, reason);
}

void Torrent::record_suspect_blocks(PieceIndex piece, const PartialData& pd) {
  constexpr std::size_t kMaxPieces = 256;  // bounds the memory a swarm of liars can cost
  constexpr std::size_t kMaxPerBlock = 8;
  auto it = suspect_blocks_.find(piece.get());
  if (it == suspect_blocks_.end()) {
    if (suspect_blocks_.size() >= kMaxPieces) suspect_blocks_.erase(suspect_blocks_.begin());
    it = suspect_blocks_.emplace(piece.get(), std::vector<std::vector<SentBlock>>()).first;
  }
  auto& blocks = it->second;
  blocks.resize(pd.block_from.size());
  for (std::size_t i = 0; i < pd.block_from.size(); ++i) {
    std::size_t off = i * std::size_t(kBlockSize);
    if (off >= pd.size || pd.block_from[i].empty()) continue;
    std::size_t len = std::min(std::size_t(kBlockSize), pd.size - off);
    SentBlock sb{sha1(std::span<const std::uint8_t>(pd.data.get() + off, len)), pd.block_from[i]};
    auto& seen = blocks[i];
    bool dup = std::any_of(seen.begin(), seen.end(), [&](const SentBlock& x) {
      return x.from == sb.from && x.hash == sb.hash;
    });
    if (!dup && seen.size() < kMaxPerBlock) seen.push_back(std::move(sb));
  }
}

void Torrent::judge_suspect_blocks(PieceIndex piece, const PartialData& pd) {
  auto node = suspect_blocks_.extract(piece.get());
  if (node.empty()) return;
  std::set<std::string> liars;
  const auto& blocks = node.mapped();
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    std::size_t off = i * std::size_t(kBlockSize);
    if (off >= pd.size || blocks[i].empty()) continue;
    std::size_t len = std::min(std::size_t(kBlockSize), pd.size - off);
    Sha1Digest good = sha1(std::span<const std::uint8_t>(pd.data.get() + off, len));
    for (const auto& sb : blocks[i]) {
      if (sb.hash != good) liars.insert(sb.from);
    }
  }
  for (const auto& key : liars) strike(key, 2, "sent blocks that failed the hash check");
}

void Torrent::unpin(const PeerConnection* p, PieceIndex piece) {
  auto it = pinned_.find(piece.get());
  if (it == pinned_.end() || it->second != p->account_key()) return;
  pinned_.erase(it);
  pinned_at_.erase(piece.get());
}

void Torrent::pin_piece(PieceIndex piece, const PartialData& pd) {
  // The sender with the fewest strikes that is still connected gets the piece alone.
  std::string best;
  int best_strikes = 0;
  for (const auto& [key, bytes] : pd.contributors) {
    bool live = std::any_of(peers_.begin(), peers_.end(),
                            [&](const auto& p) { return !p->closed() && p->account_key() == key; });
    if (!live) continue;
    int s = strikes_.get(key);
    if (best.empty() || s < best_strikes) {
      best = key;
      best_strikes = s;
    }
  }
  if (best.empty()) return;
  pinned_[piece.get()] = best;
  pinned_at_[piece.get()] = Clock::now();
}

void Torrent::save_resume_async() {
  if (!storage_ || !picker_ || seed_only_ || moving_) return;
  resume_dirty_ = false;
  last_resume_save_ = Clock::now();
  {
    std::lock_guard lock(disk_->mu);
    ++disk_->pending;
  }
  session_.disk_pool().post([storage = storage_.get(), have = picker_->have_bits(),
                             resume_file = resume_file_, disk = disk_] {
    try {
      storage->flush();
      save_resume_data(resume_file, storage->make_resume_data(have));
    } catch (const std::exception&) {
      // Without resume data the next start rechecks: nothing verified is lost.
    }
    std::lock_guard lock(disk->mu);
    --disk->pending;
    disk->cv.notify_all();
  });
}

void Torrent::complete() {
  if (complete_fired_) return;
  complete_fired_ = true;
  spare_buffers_.clear();
  spare_buffers_.shrink_to_fit();
  // Complete since its check, with nothing written in this run: its data and resume data
  // are on disk already (a restart of thousands of seeds syncs none of them).
  if (!storage_ || seed_only_ || !resume_dirty_) return announce_complete();
  // The data is synced, then the resume data saved, on the disk thread: a sync can take a
  // second per GiB, and this thread serves the other peers and torrents meanwhile. The
  // torrent is complete once its data is on disk.
  {
    std::lock_guard lock(disk_->mu);
    ++disk_->pending;
  }
  session_.disk_pool().post([this, storage = storage_.get(), have = picker_->have_bits(),
                             resume_file = resume_file_, io = &session_.io(), disk = disk_,
                             alive = std::weak_ptr<bool>(alive_)] {
    std::string sync_error;
    try {
      storage->flush();
    } catch (const std::exception& e) {
      sync_error = e.what();
    }
    if (sync_error.empty()) {
      try {
        save_resume_data(resume_file, storage->make_resume_data(have));
      } catch (const std::exception&) {
        // Resume data only saves a recheck on the next start.
      }
    }
    boost::asio::post(*io, [this, alive, sync_error] {
      if (!alive.lock()) return;
      if (!sync_error.empty()) return fail("write failed: " + sync_error);
      announce_complete();
    });
    std::lock_guard lock(disk->mu);
    --disk->pending;
    disk->cv.notify_all();
  });
}

void Torrent::announce_complete() {
  if (!completed_announced_) {
    completed_announced_ = true;
    announce(TrackerEvent::completed);
  }
  auto peers = peers_;
  for (auto& p : peers) {
    if (!p->closed() && p->handshake_done()) p->update_interest();
  }
  if (state_ == TorrentState::Downloading) set_state(TorrentState::Seeding);
  base::log::get("torrent")->info("{}: complete", name());
  publish(event::TorrentFinished{});
}

void Torrent::fail(const std::string& why) {
  if (!error_.empty()) return;
  error_ = why;
  if (state_ != TorrentState::Error) before_error_ = state_;
  base::log::get("torrent")->error("{}: {}", name(), why);
  boost::asio::post(session_.io(), [this, alive = std::weak_ptr<bool>(alive_)] {
    if (!alive.lock() || error_.empty()) return;
    auto peers = peers_;
    for (auto& p : peers) p->close(CloseReason::LocalStop, "torrent error");
    set_state(TorrentState::Error);
    publish(event::TorrentError{{}, error_});
  });
}

void Torrent::request_metadata(PeerConnection* p) {
  if (!assembler_ || !assembler_->has_size()) return;
  auto now = Clock::now();
  for (int i = 0; i < 4; ++i) {
    auto piece = assembler_->next_request(now);
    if (!piece) break;
    p->send_metadata_request(*piece);
  }
}

void Torrent::on_metadata_piece(PeerConnection* p, std::int64_t piece, std::int64_t total,
                                std::string_view data) {
  if (!assembler_) return;
  if (!assembler_->on_data(piece, total, data)) {
    request_metadata(p);
    return;
  }
  auto info = assembler_->finish();
  if (!info) return;  // hash mismatch: fetched again on the next tick
  std::unique_ptr<Metainfo> meta;
  try {
    meta = std::make_unique<Metainfo>(parse_info_dict(*info));
  } catch (const std::exception& e) {
    fail(std::string("metadata from peers is invalid: ") + e.what());
    return;
  }
  meta->trackers = tracker_tiers_;
  init_metadata(std::move(meta));
}

void Torrent::maybe_unchoke(PeerConnection* p) {
  if (!p->am_choking() || p->choked_by_extension()) return;
  int unchoked = 0;
  for (auto& x : peers_) unchoked += (!x->am_choking() && !x->optimistic()) ? 1 : 0;
  if (unchoked < choker_.settings().unchoke_slots) p->choke(false);
}

void Torrent::rechoke(bool rotate_optimistic) {
  auto now = Clock::now();
  std::vector<ChokerPeer> in;
  for (auto& p : peers_) {
    if (!p->handshake_done() || p->closed()) continue;
    ChokerPeer c;
    c.id = p->serial();
    c.interested = p->peer_interested() && !p->choked_by_extension();
    c.snubbed = p->snubbed();
    c.connected_at = p->connected_at();
    c.download_rate = p->download_rate();
    c.upload_rate = p->upload_rate();
    c.optimistic = p->optimistic();
    for (auto& e : extensions_) {
      if (auto r = e->rank(*p)) c.rank = std::max(c.rank, *r);
    }
    in.push_back(c);
  }
  auto d = choker_.rechoke(in, is_seed(), now, rotate_optimistic);
  auto peers = peers_;
  for (auto& p : peers) {
    if (!p->handshake_done() || p->closed()) continue;
    bool unchoke = std::find(d.unchoke.begin(), d.unchoke.end(), p->serial()) != d.unchoke.end();
    p->set_optimistic(d.optimistic && *d.optimistic == p->serial());
    p->choke(!unchoke);
  }
}

void Torrent::send_pex() {
  if (is_private() || !session_.settings().enable_pex) return;
  pex::Message m;
  for (auto& p : peers_) {
    if (!p->handshake_done() || p->closed()) continue;
    if (auto le = p->listen_address()) m.added.push_back(le->tcp());
  }
  if (m.added.empty()) return;
  std::string body = pex::encode(m);
  auto peers = peers_;
  for (auto& p : peers) {
    if (p->supports_pex()) p->send_pex(body);
  }
}

void Torrent::tick() {
  if (stopping_) return;
  auto now = Clock::now();
  std::chrono::duration<double> dt = now - last_tick_;
  last_tick_ = now;
  if (dt.count() > 0) {
    down_rate_.tick(dt);
    up_rate_.tick(dt);
  }
  auto peers = peers_;
  for (auto& p : peers) p->tick(now);
  if (now - last_redial_prune_ >= std::chrono::seconds(60) ||
      redial_.size() > session_.settings().max_redial_entries) {
    prune_state(now);
  }
  if (disk_full_ && now >= disk_full_retry_at_) {
    // Try again: the next write that finds no room stops us for another while.
    disk_full_ = false;
    error_.clear();
    if (state_ == TorrentState::Error) set_state(before_error_);
  }
  if (resume_dirty_ && now - last_resume_save_ >= session_.settings().resume_save_interval) {
    save_resume_async();
  }
  if (!active()) return schedule_tick();
  bool rotate = now - last_optimistic_ >= choker_.settings().optimistic_interval;
  if (rotate || now - last_rechoke_ >= choker_.settings().rechoke_interval) {
    rechoke(rotate);
    last_rechoke_ = now;
    if (rotate) last_optimistic_ = now;
  }
  if (assembler_ && assembler_->has_size()) {
    for (auto& p : peers) {
      if (!p->closed() && p->handshake_done() && p->peer_supports("ut_metadata")) {
        request_metadata(p.get());
      }
    }
  }
  if (trackers_ && announced_started_ && !scrape_in_flight_ && now >= next_scrape_) {
    scrape_in_flight_ = true;
    next_scrape_ = now + session_.settings().tracker.scrape_interval;
    trackers_->scrape(info_hash_, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (alive.lock()) scrape_in_flight_ = false;
    });
  }
  if (now - last_pex_ >= std::chrono::seconds(60)) {
    last_pex_ = now;
    send_pex();
  }
  for (auto& e : extensions_) e->on_tick();
  bool expired_pin = false;
  for (auto it = pinned_at_.begin(); it != pinned_at_.end();) {
    if (now - it->second < kPinTime) {
      ++it;
      continue;
    }
    pinned_.erase(it->first);
    it = pinned_at_.erase(it);
    expired_pin = true;
  }
  if (expired_pin) wake_requesters();
  // A peer the user named is dialed again when lost (it may have restarted), while we need it.
  if (!is_seed() && error_.empty()) {
    for (const auto& ep : sticky_) {
      if (!connected_to(ep)) connect_to(ep);
    }
  }
  connect_more();
  schedule_tick();
}

void Torrent::schedule_tick() {
  tick_timer_.expires_after(std::chrono::seconds(1));
  tick_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (ec || !alive.lock()) return;
        tick();
      });
}

void Torrent::on_metadata_size(PeerConnection* p, std::int64_t size) {
  if (assembler_ && assembler_->set_size(size)) request_metadata(p);
}

void Torrent::on_metadata_reject(std::int64_t piece) {
  if (assembler_) assembler_->on_reject(piece);
}

void Torrent::mask_pinned(const PeerConnection* p, std::vector<bool>& has) const {
  for (const auto& [piece, key] : pinned_) {
    if (std::size_t(piece) < has.size() && key != p->account_key()) has[std::size_t(piece)] = false;
  }
}

bool Torrent::disk_backlog_full() const {
  // Pieces waiting for the disk thread hold their whole buffer: when the disk is slower than
  // the network, stop asking for more rather than let memory grow with the backlog.
  constexpr std::int64_t kMaxBacklog = 16 << 20;
  constexpr int kMinPieces = 8;
  if (!meta_) return false;
  int pending;
  {
    std::lock_guard lock(disk_->mu);
    pending = disk_->pending;
  }
  return pending >= kMinPieces && std::int64_t(pending) * meta_->piece_length > kMaxBacklog;
}

void Torrent::async_read_blocks(std::vector<BlockRef> blocks, PeerProtocol::ReadDone done) {
  if (!storage_ || !error_.empty()) {
    boost::asio::post(session_.io(), [done = std::move(done)] { done(nullptr, "not readable"); });
    return;
  }
  {
    std::lock_guard lock(disk_->mu);
    ++disk_->reads;
  }
  // The blocks are read on the disk thread, one after the other into a buffer of the
  // session's pool, and handed back on the network thread, where the send queue keeps that
  // buffer and sends from it; the destructor waits for reads still queued.
  struct Job {
    std::vector<BlockRef> blocks;
    std::shared_ptr<DiskBuffer> data;
    std::size_t size = 0;
    std::string error;
    PeerProtocol::ReadDone done;
  };
  auto job = std::make_shared<Job>();
  for (const auto& b : blocks) job->size += std::size_t(b.length);
  job->blocks = std::move(blocks);
  job->done = std::move(done);
  session_.post([this, job, storage = storage_.get(), io = &session_.io(),
                 pool = &session_.read_buffers(), disk = disk_,
                 alive = std::weak_ptr<bool>(alive_)] {
    try {
      job->data = pool->take(job->size);
      std::size_t off = 0;
      for (const auto& b : job->blocks) {
        storage->read(b.piece, b.offset, {job->data->data() + off, std::size_t(b.length)});
        off += std::size_t(b.length);
      }
    } catch (const std::exception& e) {
      job->error = e.what();
    }
    boost::asio::post(*io, [this, job, alive] {
      if (!alive.lock()) return;
      if (!job->error.empty()) {
        job->done(nullptr, job->error);
        fail("read failed: " + job->error);
        return;
      }
      job->done(std::move(job->data), {});
    });
    std::lock_guard lock(disk->mu);
    --disk->reads;
    disk->cv.notify_all();
  });
}

PeerConnection* Torrent::duplicate_to_drop(PeerConnection* p) const {
  // Two connections to one peer: we dialed it while it dialed us. A client that gives every
  // connection its own peer id (libtorrent does) passes attach()'s peer-id check, and two
  // connections would ask for the same blocks in endgame. Both ends keep the same one: the
  // peer with the lower listen port keeps the connection it made, as libtorrent does.
  auto mine = p->listen_address();
  if (!mine) return nullptr;
  PeerConnection* other = nullptr;
  for (auto& q : peers_) {
    if (q.get() != p && !q->closed() && q->handshake_done() && q->listen_address() == mine) {
      other = q.get();
      break;
    }
  }
  if (!other) return nullptr;
  if (p->incoming() == other->incoming()) return p;  // made the same way: the newer one goes
  PeerConnection* outgoing = p->incoming() ? other : p;
  PeerConnection* incoming = p->incoming() ? p : other;
  std::uint16_t ours = session_.listen_port(), theirs = mine->port();
  if (ours < theirs) return incoming;
  if (ours > theirs) return outgoing;
  return p;  // a tie (two hosts on one port): the newer one goes
}

void Torrent::on_listen_port(PeerConnection* p) {
  if (auto* drop = duplicate_to_drop(p)) {
    drop->close(CloseReason::Duplicate, "a second connection to the same peer");
  }
}

void Torrent::on_dht_port(const PeerAddress& a, std::uint16_t port) {
  session_.dht_add_node(a.ip(), port);
}

}  // namespace p2p
