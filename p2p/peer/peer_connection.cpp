#include "p2p/peer/peer_connection.hpp"

#include <atomic>

#include "base/log.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/session/session.hpp"
#include "p2p/torrent/torrent.hpp"

namespace p2p {

namespace {
std::atomic<std::uint64_t> g_serial{1};
}  // namespace

ProtocolSettings PeerConnection::protocol_settings(Session& s) {
  const auto& ss = s.settings();
  ProtocolSettings p;
  p.our_peer_id = s.peer_id();
  p.listen_port = s.listen_port();
  p.dht_port = s.dht_port();
  p.client_version = ss.client_version;
  p.enable_pex = ss.enable_pex;
  p.request_queue_seconds = ss.request_queue_seconds;
  p.min_request_queue = ss.min_request_queue;
  p.max_request_queue = ss.max_request_queue;
  p.max_incoming_requests = ss.max_incoming_requests;
  p.send_buffer_watermark = ss.send_buffer_watermark;
  p.max_send_queue = ss.max_send_queue;
  p.max_refused_requests = ss.max_refused_requests;
  p.snub_time = ss.snub_time;
  p.inactivity_timeout = ss.inactivity_timeout;
  p.keepalive_interval = ss.keepalive_interval;
  return p;
}

PeerConnection::PeerConnection(Session& s, std::unique_ptr<Stream> stream)
    : session_(s),
      stream_(std::move(stream)),
      remote_(stream_->remote()),
      account_key_(remote_.to_string()),
      incoming_(true),
      serial_(g_serial++),
      proto_(*this, protocol_settings(s), true),
      connect_timer_(s.io()) {}

PeerConnection::PeerConnection(Session& s, std::shared_ptr<Torrent> t,
                               std::unique_ptr<Stream> stream)
    : session_(s),
      torrent_(std::move(t)),
      stream_(std::move(stream)),
      remote_(stream_->remote()),
      account_key_(remote_.to_string()),
      incoming_(false),
      serial_(g_serial++),
      proto_(*this, protocol_settings(s), false),
      connect_timer_(s.io()) {}

PeerConnection::~PeerConnection() {
  if (counter_) --*counter_;
}

PeerHost* PeerConnection::host() const {
  return torrent_.get();
}

void PeerConnection::start() {
  counter_ = session_.connection_counter();
  ++*counter_;
  session_alive_ = session_.alive_token();
  attached_ = !incoming_;  // an outgoing connection is in its torrent's list from the start
  connected_at_ = Clock::now();
  proto_.set_peer_handle(this);
  proto_.set_remote(remote_);
  arm_timer();
  if (incoming_) return do_read();
  stream_->async_connect([self = shared_from_this()](const boost::system::error_code& ec) {
    if (self->closed_) return;
    if (ec) return self->close(CloseReason::ConnectFailed, "connect failed: " + ec.message());
    self->proto_.start();
    self->flush();
    self->do_read();
  });
}

void PeerConnection::arm_timer() {
  // The handshake must complete within the timeout; later the torrent's tick takes over.
  connect_timer_.expires_after(session_.settings().handshake_timeout);
  connect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_ || self->proto_.handshake_done()) return;
    self->close(CloseReason::HandshakeTimeout, "handshake timed out");
  });
}

void PeerConnection::close(CloseReason reason, const std::string& detail) {
  if (closed_) return;
  closed_ = true;
  close_reason_ = reason;
  close_detail_ = detail;
  if (counter_) --*counter_;
  counter_.reset();
  base::log::get("peer")->debug("peer {} closed: {} ({})", account_key_, to_string(reason), detail);
  stream_->close();
  connect_timer_.cancel();
  proto_.on_closed();
  if (torrent_ && attached_) {
    host()->detach(this);
  } else if (!session_alive_.expired()) {
    auto& c = session_.counters();
    ++c.connections_closed[std::size_t(reason)];
    ++c.connections_closed_unattached;
  }
}

void PeerConnection::on_close(CloseReason reason, const std::string& detail) {
  close(reason, detail);
}

void PeerConnection::do_read() {
  if (closed_ || reading_ || proto_.read_paused()) return;
  const bool session_ok = session_allows(false);
  if (!session_ok || (torrent_ && !torrent_->may_transfer(false))) {
    if (!read_waiting_bw_) {
      read_waiting_bw_ = true;
      // Held by its torrent's own limit, it keeps no one from the session's bandwidth.
      session_.wait_for_bandwidth(weak_from_this(), false, 0, session_ok ? -1 : torrent_priority());
    }
    return;
  }
  reading_ = true;
  auto buf = proto_.read_buffer();
  stream_->async_read_some(buf, [self = shared_from_this(), want = buf.size()](
                                    const boost::system::error_code& ec, std::size_t n) {
    self->reading_ = false;
    if (self->closed_) return;
    if (ec) {
      bool eof = ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
      return self->close(eof ? CloseReason::RemoteClosed : CloseReason::NetworkError, ec.message());
    }
    if (self->honors_session_limits()) self->session_.down_bucket().consume(std::int64_t(n));
    if (self->torrent_) self->torrent_->consume_bandwidth(false, std::int64_t(n));
    self->proto_.on_received(n, n == want);
    self->flush();
    self->do_read();
  });
}

void PeerConnection::flush() {
  if (closed_) return;
  auto bufs = proto_.begin_write();
  if (bufs.empty()) return;
  stream_->async_write(
      bufs, [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        if (self->closed_) return;
        if (ec) return self->close(CloseReason::NetworkError, "write failed: " + ec.message());
        self->proto_.on_write_done();
        self->flush();
        self->do_read();  // reading may have paused while the send queue was full
      });
}

void PeerConnection::on_bandwidth(bool upload) {
  if (closed_) return;
  if (upload) {
    write_waiting_bw_ = false;
    proto_.serve_requests();
    flush();
  } else {
    read_waiting_bw_ = false;
    do_read();
  }
}

bool PeerConnection::honors_session_limits() const {
  return !torrent_ || torrent_->honors_session_limits();
}

int PeerConnection::torrent_priority() const {
  return torrent_ ? torrent_->bandwidth_priority() : 0;
}

bool PeerConnection::session_allows(bool upload) const {
  if (!honors_session_limits()) return true;
  return upload ? session_.may_upload(proto_.upload_priority(), torrent_priority())
                : session_.may_download(torrent_priority());
}

bool PeerConnection::may_upload() {
  const bool session_ok = session_allows(true);
  if (session_ok && (!torrent_ || torrent_->may_transfer(true))) return true;
  if (!write_waiting_bw_) {
    write_waiting_bw_ = true;
    session_.wait_for_bandwidth(weak_from_this(), true, proto_.upload_priority(),
                                session_ok ? -1 : torrent_priority());
  }
  return false;
}

void PeerConnection::consume_upload(ByteCount n) {
  if (honors_session_limits()) {
    session_.up_bucket().consume(n);
    session_.note_upload(proto_.upload_priority(), n);
  }
  if (torrent_) torrent_->consume_bandwidth(true, n);
}

void PeerConnection::async_read_blocks(std::vector<BlockRef> blocks, PeerProtocol::ReadDone done) {
  if (!torrent_) return done({}, "no torrent");
  // The connection stays alive until the read is back, so the core can take the bytes.
  host()->async_read_blocks(std::move(blocks), [self = shared_from_this(), done = std::move(done)](
                                                   DiskBufferPtr data, const std::string& error) {
    done(std::move(data), error);
    self->flush();
  });
}

bool PeerConnection::on_handshake(const wire::Handshake& hs) {
  if (incoming_) {
    auto t = session_.find_torrent(hs.info_hash);
    if (!t) {
      close(CloseReason::WrongTorrent, "unknown info-hash");
      return false;
    }
    torrent_ = t;
  } else if (hs.info_hash != host()->info_hash()) {
    close(CloseReason::WrongTorrent, "info-hash mismatch");
    return false;
  }
  if (auto refused = host()->attach(shared_from_this())) {
    auto t = std::move(torrent_);  // not attached: nothing to detach
    if (!incoming_) {
      // An outgoing connection is listed by its torrent until it closes.
      torrent_ = std::move(t);
    }
    close(*refused, "refused by torrent");
    return false;
  }
  attached_ = true;
  proto_.set_counters(&host()->account(account_key_));
  connect_timer_.cancel();
  return true;
}

InfoHash PeerConnection::info_hash() const {
  return host()->info_hash();
}
bool PeerConnection::has_metadata() const {
  return torrent_ && host()->has_metadata();
}
const std::string* PeerConnection::info_bytes() const {
  return has_metadata() ? &host()->metainfo()->info_bytes : nullptr;
}
std::int32_t PeerConnection::num_pieces() const {
  return torrent_ ? host()->num_pieces() : 0;
}
wire::Geometry PeerConnection::geometry() const {
  return torrent_ ? host()->geometry() : wire::Geometry{};
}
bool PeerConnection::is_private() const {
  return torrent_ && host()->is_private();
}
PiecePicker* PeerConnection::picker() {
  return torrent_ ? host()->picker() : nullptr;
}
std::vector<std::shared_ptr<TorrentExtension>>* PeerConnection::extensions() {
  return torrent_ ? &host()->extensions() : nullptr;
}
bool PeerConnection::has_masked_pieces() const {
  return torrent_ && host()->has_pinned_pieces();
}
void PeerConnection::mask_pieces(std::vector<bool>& has) const {
  host()->mask_pinned(this, has);
}
bool PeerConnection::disk_backlog_full() const {
  return torrent_ && host()->disk_backlog_full();
}
void PeerConnection::on_block(const BlockRef& b, std::span<const std::uint8_t> data) {
  host()->on_block(this, b, data);
}
void PeerConnection::on_block_rejected(const BlockRef& b) {
  host()->on_block_rejected(this, b);
}
void PeerConnection::on_wants_unchoke() {
  host()->maybe_unchoke(this);
}
void PeerConnection::on_payload(ByteCount up, ByteCount down) {
  host()->note_payload(up, down);
}
void PeerConnection::on_metadata_size(std::int64_t size) {
  host()->on_metadata_size(this, size);
}
void PeerConnection::on_metadata_piece(std::int64_t piece, std::int64_t total,
                                       std::string_view data) {
  host()->on_metadata_piece(this, piece, total, data);
}
void PeerConnection::on_metadata_reject(std::int64_t piece) {
  host()->on_metadata_reject(piece);
}
bool PeerConnection::on_pex_peer(const PeerAddress& a, bool seed) {
  return host()->on_pex_peer(a, seed);
}

void PeerConnection::on_dht_port(const PeerAddress& a, std::uint16_t port) {
  host()->on_dht_port(a, port);
}

void PeerConnection::on_listen_port() {
  if (torrent_ && attached_) host()->on_listen_port(this);
}

void PeerConnection::choke(bool c) {
  proto_.choke(c);
  flush();
}

void PeerConnection::set_choked_by_extension(bool choked) {
  proto_.set_choked_by_extension(choked);
  flush();
}

void PeerConnection::send_have(PieceIndex p) {
  proto_.send_have(p);
  flush();
}

void PeerConnection::cancel_block(const BlockRef& b) {
  proto_.cancel_block(b);
  flush();
}

void PeerConnection::update_interest() {
  proto_.update_interest();
  flush();
}

void PeerConnection::request_blocks() {
  proto_.request_blocks();
  flush();
}

void PeerConnection::on_metadata_ready() {
  proto_.on_metadata_ready();
  flush();
}

void PeerConnection::send_metadata_request(std::int64_t piece) {
  proto_.send_metadata_request(piece);
  flush();
}

void PeerConnection::send_pex(const std::string& body) {
  proto_.send_pex(body);
  flush();
}

void PeerConnection::tick(Clock::time_point now) {
  proto_.tick(now);
  flush();
}

void PeerConnection::on_piece_checked(PieceIndex piece, ByteCount bytes, bool passed) {
  if (closed_) return;
  for (auto& e : proto_.plugins()) {
    if (passed) {
      e->on_piece_passed(piece, bytes);
    } else {
      e->on_piece_failed(piece, bytes);
    }
  }
}

bool PeerConnection::peer_supports(std::string_view message) const {
  return proto_.peer_supports(message);
}

bool PeerConnection::send_extension_message(std::string_view message, std::string_view body) {
  if (closed_ || !proto_.send_extension_message(message, body)) return false;
  flush();
  return true;
}

void PeerConnection::ban(const std::string& reason, int) {
  if (torrent_) host()->ban(this, reason);
}

std::optional<PeerAddress> PeerConnection::listen_address() const {
  if (!incoming_) return remote_;
  if (proto_.peer_listen_port()) return remote_.with_port(proto_.peer_listen_port());
  return std::nullopt;
}

PeerStats PeerConnection::stats() const {
  PeerStats st;
  st.endpoint = account_key_;
  st.peer_id = proto_.peer_id();
  st.client = proto_.client();
  st.incoming = incoming_;
  st.utp = stream_ && stream_->is_utp();
  st.encrypted = stream_ && stream_->is_encrypted();
  st.fast = proto_.fast();
  st.extensions = proto_.extensions_enabled();
  st.am_choking = proto_.am_choking();
  st.am_interested = proto_.am_interested();
  st.peer_choking = proto_.peer_choking();
  st.peer_interested = proto_.peer_interested();
  st.snubbed = proto_.snubbed();
  st.seed = proto_.is_seed();
  st.progress = proto_.progress();
  st.download_rate = proto_.download_rate();
  st.upload_rate = proto_.upload_rate();
  st.send_queue = proto_.queued_bytes();
  st.counters = proto_.counters();
  return st;
}

}  // namespace p2p
