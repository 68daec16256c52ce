#include "p2p/peer/peer_connection.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "p2p/wire/bencode.hpp"
#include "p2p/wire/extension_handshake.hpp"
#include "p2p/wire/metadata_exchange.hpp"
#include "p2p/wire/pex.hpp"
#include "p2p/session/session.hpp"
#include "p2p/storage/storage.hpp"
#include "p2p/torrent/torrent.hpp"

namespace p2p {

namespace {

std::atomic<std::uint64_t> g_serial{1};

// BTTNODE_DEBUG=1 in the environment logs why connections close.
bool debug_log() {
  static const bool on = std::getenv("BTTNODE_DEBUG") != nullptr;
  return on;
}

// Read buffer: small for idle connections (hundreds of them per process), doubled up to the
// larger size while reads keep filling it.
constexpr std::size_t kMinReadBuffer = 1024;
constexpr std::size_t kMaxReadBuffer = 256 * 1024;

constexpr std::uint8_t kUtMetadataId = 1;
constexpr std::uint8_t kUtPexId = 2;
constexpr std::uint8_t kFirstExtensionId = 3;

std::string endpoint_string(const boost::asio::ip::tcp::endpoint& ep) {
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    a = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6());
  }
  if (a.is_v6()) return "[" + a.to_string() + "]:" + std::to_string(ep.port());
  return a.to_string() + ":" + std::to_string(ep.port());
}

void tune_socket(boost::asio::ip::tcp::socket& s, int bufsize) {
  boost::system::error_code ec;
  s.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  if (bufsize > 0) {
    s.set_option(boost::asio::socket_base::send_buffer_size(bufsize), ec);
    s.set_option(boost::asio::socket_base::receive_buffer_size(bufsize), ec);
  }
}

}  // namespace

PeerConnection::PeerConnection(Session& s, tcp::socket socket)
    : session_(s),
      socket_(std::move(socket)),
      incoming_(true),
      serial_(g_serial++),
      connect_timer_(s.io()) {
  boost::system::error_code ec;
  remote_ = socket_.remote_endpoint(ec);
  endpoint_str_ = endpoint_string(remote_);
  tune_socket(socket_, s.settings().socket_buffer_size);
}

PeerConnection::PeerConnection(Session& s, std::shared_ptr<Torrent> t, tcp::endpoint ep)
    : session_(s),
      torrent_(std::move(t)),
      socket_(s.io()),
      remote_(ep),
      endpoint_str_(endpoint_string(ep)),
      incoming_(false),
      serial_(g_serial++),
      connect_timer_(s.io()) {}

PeerConnection::~PeerConnection() {
  if (counter_) --*counter_;
}

void PeerConnection::start() {
  counter_ = session_.connection_counter();
  ++*counter_;
  connected_at_ = last_received_ = last_sent_ = last_piece_ = Clock::now();
  rbuf_.resize(kMinReadBuffer);
  arm_timer();
  if (incoming_) {
    do_read();
  } else {
    do_connect(remote_);
  }
}

void PeerConnection::arm_timer() {
  // The handshake must complete within the timeout; later the torrent's tick takes over.
  connect_timer_.expires_after(session_.settings().handshake_timeout);
  connect_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->closed_ || self->handshake_done_) return;
    self->close("handshake timed out");
  });
}

void PeerConnection::do_connect(tcp::endpoint ep) {
  socket_.async_connect(ep, [self = shared_from_this()](const boost::system::error_code& ec) {
    if (self->closed_) return;
    if (ec) return self->close("connect failed: " + ec.message());
    tune_socket(self->socket_, self->session_.settings().socket_buffer_size);
    self->send_handshake();
    self->do_read();
  });
}

void PeerConnection::send_handshake() {
  wire::Handshake hs;
  hs.set_extensions(true);
  hs.set_fast(true);
  hs.info_hash = torrent_->info_hash();
  hs.peer_id = session_.peer_id();
  std::uint8_t buf[wire::kHandshakeSize];
  wire::write_handshake(hs, buf);
  sendq_.append(buf, sizeof buf);
  handshake_sent_ = true;
  flush();
}

void PeerConnection::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  if (counter_) --*counter_;
  counter_.reset();
  if (debug_log())
    std::fprintf(stderr, "peer %s closed: %s\n", endpoint_str_.c_str(), reason.c_str());
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  connect_timer_.cancel();
  abort_all_requests();
  for (auto& e : plugins_) e->on_disconnect();
  if (torrent_) {
    if (handshake_done_ && torrent_->picker()) {
      torrent_->picker()->dec_availability_all(peer_has_);
    }
    torrent_->detach(this);
  }
}

void PeerConnection::do_read() {
  if (closed_ || reading_ || read_paused_) return;
  if (!session_.down_bucket().available()) {
    if (!read_waiting_bw_) {
      read_waiting_bw_ = true;
      session_.wait_for_bandwidth(weak_from_this(), false);
    }
    return;
  }
  if (last_read_full_ && rbuf_.size() < kMaxReadBuffer) {
    // The last read filled the buffer, so the socket held more: a busy link gets bigger
    // reads, while idle connections keep the small buffer they started with.
    rbuf_.resize(std::min(rbuf_.size() * 2, kMaxReadBuffer));
  }
  if (rend_ == rbuf_.size()) {
    // The buffer is full of one partial message: make room.
    if (rpos_ > 0) {
      std::memmove(rbuf_.data(), rbuf_.data() + rpos_, rend_ - rpos_);
      rend_ -= rpos_;
      rpos_ = 0;
    } else {
      rbuf_.resize(rbuf_.size() * 2);
    }
  }
  reading_ = true;
  std::size_t want = rbuf_.size() - rend_;
  socket_.async_read_some(
      boost::asio::buffer(rbuf_.data() + rend_, want),
      [self = shared_from_this(), want](const boost::system::error_code& ec, std::size_t n) {
        self->reading_ = false;
        self->last_read_full_ = n == want;
        if (self->closed_) return;
        if (ec) return self->close(ec == boost::asio::error::eof ? "peer closed" : ec.message());
        self->on_read(n);
      });
}

void PeerConnection::on_bandwidth(bool upload) {
  if (closed_) return;
  if (upload) {
    write_waiting_bw_ = false;
    fill_uploads();
    flush();
  } else {
    read_waiting_bw_ = false;
    do_read();
  }
}

bool PeerConnection::send_queue_full() const {
  return queued_bytes() > session_.settings().max_send_queue;
}

bool PeerConnection::refused_request() {
  if (++refused_requests_ <= session_.settings().max_refused_requests) return true;
  close("too many requests refused");
  return false;
}

void PeerConnection::on_read(std::size_t n) {
  rend_ += n;
  last_received_ = Clock::now();
  session_.down_bucket().consume(std::int64_t(n));
  auto self = shared_from_this();  // handlers below may close and detach us
  if (!handshake_done_) {
    if (rend_ - rpos_ < wire::kHandshakeSize) return do_read();
    if (!handle_handshake()) return;
  }
  process_messages();
}

void PeerConnection::process_messages() {
  auto self = shared_from_this();
  while (!closed_) {
    if (send_queue_full()) {
      // What it asked for waits in the read buffer; the write handler resumes us.
      read_paused_ = true;
      flush();
      return;
    }
    auto r = wire::parse_message(std::span<const std::uint8_t>(rbuf_.data() + rpos_, rend_ - rpos_),
                                 torrent_->geometry());
    if (r.status == wire::ParseStatus::error) return close("protocol error: " + r.error);
    if (r.status == wire::ParseStatus::need_more) {
      std::size_t have = rend_ - rpos_;
      if (r.needed > rbuf_.size() - rpos_) {
        std::memmove(rbuf_.data(), rbuf_.data() + rpos_, have);
        rpos_ = 0;
        rend_ = have;
        if (r.needed > rbuf_.size()) rbuf_.resize(std::max(r.needed, rbuf_.size()));
      }
      break;
    }
    bool ok = handle_message(r.msg);
    rpos_ += r.consumed;
    if (!ok || closed_) return;
  }
  if (rpos_ == rend_) rpos_ = rend_ = 0;
  // Shrink a buffer grown past the streaming size for a large bitfield or extension message.
  if (rpos_ == 0 && rend_ == 0 && rbuf_.size() > kMaxReadBuffer) {
    rbuf_.resize(kMinReadBuffer);
    rbuf_.shrink_to_fit();
  }
  request_blocks();
  fill_uploads();
  flush();
  do_read();
}

bool PeerConnection::handle_handshake() {
  auto hs = wire::parse_handshake(
      std::span<const std::uint8_t>(rbuf_.data() + rpos_, wire::kHandshakeSize));
  if (!hs) {
    close("not a BitTorrent handshake");
    return false;
  }
  rpos_ += wire::kHandshakeSize;
  if (incoming_) {
    auto t = session_.find_torrent(hs->info_hash);
    if (!t) {
      close("unknown info-hash");
      return false;
    }
    torrent_ = t;
  } else if (hs->info_hash != torrent_->info_hash()) {
    close("info-hash mismatch");
    return false;
  }
  if (hs->peer_id == session_.peer_id()) {
    close("connected to ourselves");
    return false;
  }
  peer_id_ = hs->peer_id;
  fast_ = hs->supports_fast();
  extensions_ = hs->supports_extensions();
  if (!torrent_->attach(shared_from_this())) {
    torrent_.reset();
    close("refused by torrent");
    return false;
  }
  counters_ = &torrent_->account(endpoint_str_);
  handshake_done_ = true;
  connect_timer_.cancel();
  if (!handshake_sent_) send_handshake();
  for (auto& te : torrent_->extensions()) {
    if (auto pe = te->new_peer(*this)) plugins_.push_back(std::move(pe));
  }
  if (extensions_) send_extended_handshake();
  send_initial_bitfield();
  if (torrent_->picker()) peer_has_.assign(std::size_t(torrent_->num_pieces()), false);
  flush();
  return true;
}

void PeerConnection::send_extended_handshake() {
  bencode::Dict m;
  ext_names_by_local_id_.clear();
  m["ut_metadata"] = bencode::Integer(kUtMetadataId);
  ext_names_by_local_id_.push_back("ut_metadata");
  if (!torrent_->is_private() && session_.settings().enable_pex) {
    m["ut_pex"] = bencode::Integer(kUtPexId);
  }
  ext_names_by_local_id_.push_back("ut_pex");
  std::uint8_t next = kFirstExtensionId;
  for (auto& te : torrent_->extensions()) {
    for (auto& name : te->message_names()) {
      if (next == 255) break;
      m[name] = bencode::Integer(next++);
      ext_names_by_local_id_.push_back(name);
    }
  }
  bencode::Dict d;
  d["m"] = bencode::Value(std::move(m));
  d["v"] = session_.settings().client_version;
  d["reqq"] = bencode::Integer(session_.settings().max_incoming_requests);
  if (session_.listen_port()) d["p"] = bencode::Integer(session_.listen_port());
  if (torrent_->has_metadata()) {
    d["metadata_size"] = bencode::Integer(std::int64_t(torrent_->metainfo()->info_bytes.size()));
  }
  for (auto& e : plugins_) e->add_handshake(d);
  std::string body = bencode::encode(bencode::Value(std::move(d)));
  wire::Bytes out;
  wire::put_extended(out, 0,
                     std::span<const std::uint8_t>(
                         reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  sendq_.append(out.data(), out.size());
}

void PeerConnection::send_initial_bitfield() {
  auto* picker = torrent_->picker();
  wire::Bytes out;
  if (!picker || picker->num_have() == 0) {
    if (fast_) wire::put_simple(out, wire::MsgId::have_none);
  } else if (picker->is_seed() && fast_) {
    wire::put_simple(out, wire::MsgId::have_all);
  } else {
    const auto& have = picker->have_bits();
    std::vector<std::uint8_t> bits((have.size() + 7) / 8, 0);
    for (std::size_t i = 0; i < have.size(); ++i) {
      if (have[i]) bits[i / 8] |= std::uint8_t(0x80 >> (i % 8));
    }
    wire::put_bitfield(out, bits);
  }
  sendq_.append(out.data(), out.size());
}

void PeerConnection::write_simple(wire::MsgId id) {
  wire::Bytes out;
  wire::put_simple(out, id);
  sendq_.append(out.data(), out.size());
}

void PeerConnection::set_peer_has(std::int32_t piece) {
  if (piece < 0) return;
  if (!torrent_->has_metadata()) {
    // The piece count is unknown: keep a bounded list for later; a peer that announces
    // more than that one by one will say it again in its bitfield or after the metadata.
    if (std::size_t(piece) < peer_has_.size()) {
      if (!peer_has_[std::size_t(piece)]) {
        peer_has_[std::size_t(piece)] = true;
        ++peer_num_have_;
      }
    } else if (early_haves_.size() < kMaxEarlyHaves) {
      early_haves_.insert(std::uint32_t(piece));
    }
    return;
  }
  if (std::size_t(piece) >= peer_has_.size()) return;
  if (peer_has_[std::size_t(piece)]) return;
  peer_has_[std::size_t(piece)] = true;
  ++peer_num_have_;
  if (torrent_->picker()) torrent_->picker()->inc_availability(PieceIndex(piece));
}

bool PeerConnection::is_seed() const {
  if (peer_have_all_) return true;
  return torrent_ && torrent_->has_metadata() && peer_num_have_ == torrent_->num_pieces();
}

bool PeerConnection::handle_message(const wire::Message& m) {
  if (m.keep_alive) return true;
  using wire::MsgId;
  auto* picker = torrent_->picker();
  switch (m.id) {
    case MsgId::choke:
      peer_choking_ = true;
      abort_all_requests();
      break;
    case MsgId::unchoke:
      peer_choking_ = false;
      last_piece_ = Clock::now();
      break;
    case MsgId::interested:
      peer_interested_ = true;
      torrent_->maybe_unchoke(this);
      break;
    case MsgId::not_interested:
      peer_interested_ = false;
      break;
    case MsgId::have:
      set_peer_has(std::int32_t(m.index));
      update_interest();
      break;
    case MsgId::bitfield: {
      // BEP 3 wants the bitfield first; some clients send allowed_fast or have_none before
      // it. Accept it once more in that case, replacing what we knew.
      if (picker) picker->dec_availability_all(peer_has_);
      std::size_t n = m.payload.size() * 8;
      if (torrent_->has_metadata()) n = std::size_t(torrent_->num_pieces());
      peer_has_.assign(n, false);
      peer_num_have_ = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (m.payload[i / 8] & (0x80 >> (i % 8))) {
          peer_has_[i] = true;
          ++peer_num_have_;
        }
      }
      if (picker) picker->inc_availability_all(peer_has_);
      update_interest();
      break;
    }
    case MsgId::have_all:
    case MsgId::have_none:
      if (!fast_) {
        close("fast message without the fast extension");
        return false;
      }
      if (m.id == MsgId::have_all && !peer_have_all_) {
        peer_have_all_ = true;
        if (torrent_->has_metadata()) {
          if (picker) picker->dec_availability_all(peer_has_);
          peer_has_.assign(std::size_t(torrent_->num_pieces()), true);
          peer_num_have_ = torrent_->num_pieces();
          if (picker) picker->inc_availability_all(peer_has_);
        }
      }
      update_interest();
      break;
    case MsgId::request: {
      BlockRef r{PieceIndex(std::int32_t(m.index)), std::int32_t(m.begin), std::int32_t(m.length)};
      if (am_choking_ || !picker || !picker->have(r.piece) ||
          int(incoming_requests_.size()) >= session_.settings().max_incoming_requests) {
        reject(r);  // a non-fast peer's request while choked is simply dropped
        if (!refused_request()) return false;
        break;
      }
      incoming_requests_.push_back(r);
      break;
    }
    case MsgId::cancel: {
      BlockRef r{PieceIndex(std::int32_t(m.index)), std::int32_t(m.begin), std::int32_t(m.length)};
      auto it = std::find(incoming_requests_.begin(), incoming_requests_.end(), r);
      if (it != incoming_requests_.end()) {
        incoming_requests_.erase(it);
        reject(r);  // BEP 6: a cancelled request is answered with a reject
      }
      break;
    }
    case MsgId::piece: {
      BlockRef b{PieceIndex(std::int32_t(m.index)), std::int32_t(m.begin), std::int32_t(m.length)};
      auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                             [&](const Outstanding& o) { return o.block == b; });
      if (it == outstanding_.end()) {
        // Only blocks we asked this peer for are taken. A block we cancelled or gave up on
        // may still be on its way and is dropped quietly; anything else counts against it.
        down_meter_.add(b.length);
        if (forget_stale(b)) break;
        if (++unrequested_blocks_ > kMaxUnrequestedBlocks) {
          close("sent blocks that were not requested");
          return false;
        }
        break;
      }
      outstanding_.erase(it);
      auto now = Clock::now();
      last_piece_ = now;
      snubbed_ = false;
      down_meter_.add(b.length);
      counters_->payload_down += b.length;
      torrent_->note_payload(0, b.length);
      for (auto& e : plugins_) e->on_payload_received(b.length);
      torrent_->on_block(this, b, m.payload);
      break;
    }
    case MsgId::reject: {
      if (!fast_) {
        close("reject without the fast extension");
        return false;
      }
      BlockRef b{PieceIndex(std::int32_t(m.index)), std::int32_t(m.begin), std::int32_t(m.length)};
      auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                             [&](const Outstanding& o) { return o.block == b; });
      if (it != outstanding_.end()) {
        outstanding_.erase(it);
        rejected_.insert(b);
        if (picker) picker->abort_request(b);
        torrent_->unpin(this, b.piece);  // a piece it will not send goes to the others
      }
      break;
    }
    case MsgId::allowed_fast:
    case MsgId::suggest:
      if (!fast_) {
        close("fast message without the fast extension");
        return false;
      }
      break;  // hints only; we do not need them
    case MsgId::port:
      break;  // DHT is not used
    case MsgId::extended:
      if (!extensions_) {
        close("extension message without the extension bit");
        return false;
      }
      return handle_extended(m.ext_id, m.payload);
    default:
      break;  // unknown messages are ignored
  }
  return !closed_;
}

bool PeerConnection::handle_extended(std::uint8_t id, std::span<const std::uint8_t> body) {
  std::string_view sv(reinterpret_cast<const char*>(body.data()), body.size());
  if (id == 0) {
    std::string error;
    auto hs = ext::parse_handshake(sv, &error);
    if (!hs) {
      close("bad extended handshake: " + error);
      return false;
    }
    for (const auto& [name, peer_id] : hs->ids) {
      if (peer_id == 0) {
        peer_ext_ids_.erase(name);  // 0 disables
      } else {
        peer_ext_ids_[name] = peer_id;
      }
    }
    if (!hs->client.empty()) client_ = hs->client;
    if (hs->listen_port) peer_listen_port_ = hs->listen_port;
    if (hs->reqq) peer_reqq_ = hs->reqq;
    if (!torrent_->has_metadata() && peer_ext_ids_.count("ut_metadata") && hs->metadata_size >= 0) {
      if (torrent_->assembler_ && torrent_->assembler_->set_size(hs->metadata_size)) {
        torrent_->request_metadata(this);
      }
    }
    for (auto& e : plugins_) e->on_handshake(hs->dict.as_dict());
    return true;
  }
  if (id > ext_names_by_local_id_.size()) return true;  // not ours: ignore
  const std::string& name = ext_names_by_local_id_[id - 1];
  if (id == kUtMetadataId) {
    auto msg = metadata::parse(sv);
    if (!msg) {
      close("bad ut_metadata message");
      return false;
    }
    auto peer_id = peer_ext_ids_.find("ut_metadata");
    if (msg->type == metadata::MsgType::request) {
      if (peer_id == peer_ext_ids_.end()) return true;
      std::string reply;
      if (torrent_->has_metadata()) {
        const auto& info = torrent_->metainfo()->info_bytes;
        // Each piece a few times over the connection is plenty for an honest peer.
        std::size_t pieces = (info.size() + metadata::kPieceSize - 1) / metadata::kPieceSize;
        auto part = metadata_served_ < kMetadataServesPerPiece * pieces + kMetadataServesPerPiece
                        ? metadata::slice(info, msg->piece)
                        : std::string_view();
        if (part.empty()) {
          reply = metadata::encode_reject(msg->piece);
          if (!refused_request()) return false;
        } else {
          ++metadata_served_;
          reply = metadata::encode_data(msg->piece, std::int64_t(info.size()), part);
        }
      } else {
        reply = metadata::encode_reject(msg->piece);
        if (!refused_request()) return false;
      }
      wire::Bytes out;
      wire::put_extended(out, peer_id->second,
                         std::span<const std::uint8_t>(
                             reinterpret_cast<const std::uint8_t*>(reply.data()), reply.size()));
      sendq_.append(out.data(), out.size());
    } else if (msg->type == metadata::MsgType::data) {
      if (metadata_requests_in_flight_ > 0) --metadata_requests_in_flight_;
      torrent_->on_metadata_piece(this, msg->piece, msg->total_size, msg->data);
    } else {
      if (metadata_requests_in_flight_ > 0) --metadata_requests_in_flight_;
      if (torrent_->assembler_) torrent_->assembler_->on_reject(msg->piece);
    }
    return !closed_;
  }
  if (id == kUtPexId) {
    if (torrent_->is_private()) return true;
    // BEP 11 asks for one message a minute; a peer that sends more is heard no more often,
    // and only so many new peers are taken from each message.
    auto now = Clock::now();
    if (last_pex_in_ != Clock::time_point{} && now - last_pex_in_ < std::chrono::seconds(30)) {
      return true;
    }
    last_pex_in_ = now;
    if (auto msg = pex::parse(sv)) {
      std::size_t taken = 0;
      for (std::size_t i = 0; i < msg->added.size() && taken < kMaxPexPeersPerMessage; ++i) {
        bool seed = i < msg->added_flags.size() && (msg->added_flags[i] & pex::kFlagSeed);
        if (!torrent_->connect_to_pex(msg->added[i], seed)) break;
        ++taken;
      }
    }
    return true;
  }
  for (auto& e : plugins_) e->on_message(name, sv);
  return !closed_;
}

void PeerConnection::send_metadata_request(std::int64_t piece) {
  auto it = peer_ext_ids_.find("ut_metadata");
  if (it == peer_ext_ids_.end()) return;
  std::string body = metadata::encode_request(piece);
  wire::Bytes out;
  wire::put_extended(out, it->second,
                     std::span<const std::uint8_t>(
                         reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  sendq_.append(out.data(), out.size());
  ++metadata_requests_in_flight_;
  flush();
}

void PeerConnection::send_pex(const std::string& body) {
  auto it = peer_ext_ids_.find("ut_pex");
  if (it == peer_ext_ids_.end() || !handshake_done_) return;
  wire::Bytes out;
  wire::put_extended(out, it->second,
                     std::span<const std::uint8_t>(
                         reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  sendq_.append(out.data(), out.size());
  flush();
}

void PeerConnection::on_metadata_ready() {
  // Bits learnt before the metadata: trim to the piece count (spare bits must be clear).
  std::size_t n = std::size_t(torrent_->num_pieces());
  if (peer_have_all_) {
    peer_has_.assign(n, true);
  } else {
    for (std::size_t i = n; i < peer_has_.size(); ++i) {
      if (peer_has_[i]) return close("peer has pieces beyond the torrent's end");
    }
    peer_has_.resize(n, false);
    for (auto piece : early_haves_) {
      if (piece >= n) return close("peer has pieces beyond the torrent's end");
      peer_has_[piece] = true;
    }
  }
  early_haves_.clear();
  peer_num_have_ = std::int32_t(std::count(peer_has_.begin(), peer_has_.end(), true));
  torrent_->picker()->inc_availability_all(peer_has_);
  update_interest();
  request_blocks();
  flush();
}

void PeerConnection::update_interest() {
  auto* picker = torrent_->picker();
  bool want = false;
  if (picker && !picker->is_seed()) {
    for (std::size_t i = 0; i < peer_has_.size(); ++i) {
      if (peer_has_[i] && !picker->have(PieceIndex(std::int32_t(i)))) {
        want = true;
        break;
      }
    }
  }
  if (want != am_interested_) {
    am_interested_ = want;
    write_simple(want ? wire::MsgId::interested : wire::MsgId::not_interested);
    flush();
  }
  close_if_both_seeds();
}

void PeerConnection::close_if_both_seeds() {
  // Two seeds have nothing to say to each other, once no extension has business left.
  auto* picker = torrent_->picker();
  if (!picker || !picker->is_seed() || !is_seed()) return;
  for (auto& e : plugins_) {
    if (e->wants_connection()) return;
  }
  close("both are seeds");
}

void PeerConnection::choke(bool c) {
  if (closed_ || !handshake_done_) return;
  if (!c && ext_choked_) return;
  if (c == am_choking_) return;
  am_choking_ = c;
  if (!c) refused_requests_ = 0;  // requests sent before it saw our choke were no fault
  write_simple(c ? wire::MsgId::choke : wire::MsgId::unchoke);
  if (c) {
    // Requests not yet served are dropped (a fast peer gets a reject for each).
    auto pending = std::move(incoming_requests_);
    incoming_requests_.clear();
    if (fast_) {
      for (const auto& r : pending) reject(r);
    }
  }
  flush();
}

void PeerConnection::set_choked_by_extension(bool choked) {
  bool lifted = ext_choked_ && !choked;
  ext_choked_ = choked;
  // A peer let go by the extension gets its slot back now, not at the next rechoke.
  if (lifted && am_choking_ && peer_interested_ && handshake_done_ && !closed_) {
    torrent_->maybe_unchoke(this);
  }
  if (choked && !am_choking_) {
    am_choking_ = true;
    write_simple(wire::MsgId::choke);
    auto pending = std::move(incoming_requests_);
    incoming_requests_.clear();
    if (fast_) {
      for (const auto& r : pending) reject(r);
    }
    flush();
  }
}

void PeerConnection::reject(const BlockRef& r) {
  if (!fast_) return;
  wire::Bytes out;
  wire::put_request(out, wire::MsgId::reject, std::uint32_t(r.piece.get()), std::uint32_t(r.offset),
                    std::uint32_t(r.length));
  sendq_.append(out.data(), out.size());
}

void PeerConnection::send_have(PieceIndex p) {
  if (closed_ || !handshake_done_) return;
  wire::Bytes out;
  wire::put_have(out, std::uint32_t(p.get()));
  sendq_.append(out.data(), out.size());
  update_interest();
  request_blocks();  // a piece left the disk queue: requests held back may go out now
  flush();
}

bool PeerConnection::has_requested(const BlockRef& b) const {
  return std::any_of(outstanding_.begin(), outstanding_.end(),
                     [&](const Outstanding& o) { return o.block == b; });
}

void PeerConnection::cancel_block(const BlockRef& b) {
  auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                         [&](const Outstanding& o) { return o.block == b; });
  if (it == outstanding_.end()) return;
  outstanding_.erase(it);
  note_stale(b);
  wire::Bytes out;
  wire::put_request(out, wire::MsgId::cancel, std::uint32_t(b.piece.get()), std::uint32_t(b.offset),
                    std::uint32_t(b.length));
  sendq_.append(out.data(), out.size());
  flush();
}

void PeerConnection::abort_all_requests() {
  if (torrent_ && torrent_->picker()) {
    for (const auto& o : outstanding_) torrent_->picker()->abort_request(o.block);
  }
  // A snubbed peer may still send what it was asked for: those blocks are dropped quietly.
  for (const auto& o : outstanding_) note_stale(o.block);
  outstanding_.clear();
}

void PeerConnection::note_stale(const BlockRef& b) {
  if (stale_.size() >= kMaxStaleBlocks) stale_.pop_front();
  stale_.push_back(b);
}

bool PeerConnection::forget_stale(const BlockRef& b) {
  auto it = std::find(stale_.begin(), stale_.end(), b);
  if (it == stale_.end()) return false;
  stale_.erase(it);
  return true;
}

bool PeerConnection::disk_backlog_full() const {
  // Pieces waiting for the disk thread hold their whole buffer: when the disk is slower than
  // the network, stop asking for more rather than let memory grow with the backlog.
  constexpr std::int64_t kMaxBacklog = 16 << 20;
  constexpr int kMinPieces = 8;
  std::int64_t piece = torrent_->metainfo()->piece_length;
  int pending;
  {
    std::lock_guard lock(torrent_->disk_->mu);
    pending = torrent_->disk_->pending;
  }
  return pending >= kMinPieces && std::int64_t(pending) * piece > kMaxBacklog;
}

void PeerConnection::request_blocks() {
  auto* picker = torrent_ ? torrent_->picker() : nullptr;
  if (closed_ || !handshake_done_ || !picker || peer_choking_ || !am_interested_) return;
  if (picker->is_seed()) return;
  if (disk_backlog_full()) return;  // send_have wakes us when a piece is off the disk queue
  const auto& s = session_.settings();
  int target;
  if (snubbed_) {
    target = 1;
  } else {
    double bytes = down_meter_.rate() * s.request_queue_seconds;
    target = std::max(s.min_request_queue, int(bytes / kBlockSize));
    target = std::min({target, s.max_request_queue, peer_reqq_});
  }
  int have = int(outstanding_.size());
  // Refill in batches so the picker runs less often.
  if (have > target - std::max(1, target / 4)) return;
  std::vector<BlockRef> exclude;
  if (picker->in_endgame()) {
    for (const auto& o : outstanding_) exclude.push_back(o.block);
    for (const auto& r : rejected_) exclude.push_back(r);
  }
  const std::vector<bool>* has = &peer_has_;
  std::vector<bool> masked;
  if (torrent_->has_pinned_pieces()) {
    masked = peer_has_;
    for (const auto& [piece, key] : torrent_->pinned_) {
      if (std::size_t(piece) < masked.size() && key != endpoint_str_) masked[piece] = false;
    }
    has = &masked;
  }
  auto blocks = picker->pick(*has, target - have, exclude);
  if (blocks.empty()) return;
  wire::Bytes out;
  out.reserve(blocks.size() * 17);
  auto now = Clock::now();
  for (const auto& b : blocks) {
    if (rejected_.count(b)) {
      picker->abort_request(b);
      continue;
    }
    wire::put_request(out, wire::MsgId::request, std::uint32_t(b.piece.get()),
                      std::uint32_t(b.offset), std::uint32_t(b.length));
    outstanding_.push_back({b, now});
  }
  if (outstanding_.size() == std::size_t(have)) return;
  if (have == 0) last_piece_ = now;  // the snub clock starts with the first request
  sendq_.append(out.data(), out.size());
  flush();
}

void PeerConnection::fill_uploads() {
  if (closed_ || !handshake_done_ || am_choking_) return;
  auto* storage = torrent_->storage();
  if (!storage) return;
  auto& bucket = session_.up_bucket();
  std::size_t watermark = session_.settings().send_buffer_watermark;
  while (!incoming_requests_.empty() && sendq_.size() < watermark) {
    if (!session_.may_upload(upload_priority_)) {
      if (!write_waiting_bw_) {
        write_waiting_bw_ = true;
        session_.wait_for_bandwidth(weak_from_this(), true, upload_priority_);
      }
      break;
    }
    BlockRef r = incoming_requests_.front();
    incoming_requests_.pop_front();
    // The block goes from the page cache straight into the bytes that go to the socket.
    std::uint8_t* hdr = sendq_.grow(wire::kPieceHeaderSize + std::size_t(r.length));
    wire::write_piece_header(hdr, std::uint32_t(r.piece.get()), std::uint32_t(r.offset),
                             std::uint32_t(r.length));
    try {
      storage->read(r.piece, r.offset,
                    std::span<std::uint8_t>(hdr + wire::kPieceHeaderSize, std::size_t(r.length)));
    } catch (const std::exception& e) {
      sendq_.shrink_by(wire::kPieceHeaderSize + std::size_t(r.length));
      torrent_->fail(std::string("read failed: ") + e.what());
      return;
    }
    bucket.consume(r.length);
    session_.note_upload(upload_priority_, r.length);
    up_meter_.add(r.length);
    counters_->payload_up += r.length;
    torrent_->note_payload(r.length, 0);
    for (auto& e : plugins_) e->on_payload_sent(r.length);
  }
}

void PeerConnection::flush() {
  if (closed_ || write_in_flight_ || sendq_.empty()) return;
  if (!socket_.is_open()) return;
  if (!handshake_sent_ && !incoming_) return;
  writing_.swap(sendq_);
  write_in_flight_ = true;
  last_sent_ = Clock::now();
  boost::asio::async_write(
      socket_, boost::asio::buffer(writing_.data(), writing_.size()),
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
        self->write_in_flight_ = false;
        self->writing_.clear();
        if (self->closed_) return;
        if (ec) return self->close("write failed: " + ec.message());
        self->fill_uploads();
        self->flush();
        if (self->read_paused_ && !self->send_queue_full()) {
          self->read_paused_ = false;
          self->process_messages();
          if (self->closed_) return;
        }
        self->release_idle_buffers(false);
      });
  // Read the next blocks from disk while this batch is on the wire.
  fill_uploads();
}

void PeerConnection::release_idle_buffers(bool idle_tick) {
  // Small buffers go as soon as everything is sent (cheap to get again); the large ones a
  // busy upload grew keep serving it until a tick finds nothing sent for a while, so a
  // stream of blocks does not allocate and fault in fresh memory for every batch.
  constexpr std::size_t kKeepWhileBusy = 64 * 1024;
  if (!sendq_.empty() || !incoming_requests_.empty()) return;
  if (!write_in_flight_ && (idle_tick || writing_.capacity() <= kKeepWhileBusy)) {
    writing_.release();
  }
  if (idle_tick || sendq_.capacity() <= kKeepWhileBusy) sendq_.release();
}

void PeerConnection::tick(Clock::time_point now) {
  if (closed_ || !handshake_done_) return;
  if (now - last_sent_ > std::chrono::seconds(2)) release_idle_buffers(true);
  down_meter_.tick(std::chrono::seconds(1));
  up_meter_.tick(std::chrono::seconds(1));
  const auto& s = session_.settings();
  if (now - last_received_ > s.inactivity_timeout) return close("inactive");
  if (!outstanding_.empty() && now - last_piece_ > s.snub_time) {
    // The peer sits on our requests: give them to others and ask it for one at a time.
    snubbed_ = true;
    abort_all_requests();
    last_piece_ = now;
  }
  if (now - last_sent_ > s.keepalive_interval) {
    wire::Bytes out;
    wire::put_keep_alive(out);
    sendq_.append(out.data(), out.size());
  }
  request_blocks();
  fill_uploads();
  flush();
  close_if_both_seeds();
}

PeerStats PeerConnection::stats() const {
  PeerStats st;
  st.endpoint = endpoint_str_;
  st.peer_id = peer_id_;
  st.client = client_;
  st.incoming = incoming_;
  st.fast = fast_;
  st.extensions = extensions_;
  st.am_choking = am_choking_;
  st.am_interested = am_interested_;
  st.peer_choking = peer_choking_;
  st.peer_interested = peer_interested_;
  st.snubbed = snubbed_;
  st.seed = is_seed();
  st.download_rate = down_meter_.rate();
  st.upload_rate = up_meter_.rate();
  st.send_queue = queued_bytes();
  if (counters_) st.counters = *counters_;
  return st;
}

bool PeerConnection::peer_supports(std::string_view message) const {
  return peer_ext_ids_.find(message) != peer_ext_ids_.end();
}

bool PeerConnection::send_extension_message(std::string_view message, std::string_view body) {
  auto it = peer_ext_ids_.find(message);
  if (it == peer_ext_ids_.end() || closed_) return false;
  wire::Bytes out;
  wire::put_extended(out, it->second,
                     std::span<const std::uint8_t>(
                         reinterpret_cast<const std::uint8_t*>(body.data()), body.size()));
  sendq_.append(out.data(), out.size());
  flush();
  return true;
}

void PeerConnection::ban(const std::string& reason, int) {
  if (torrent_) torrent_->ban(this, reason);
}

std::optional<PeerConnection::tcp::endpoint> PeerConnection::listen_endpoint() const {
  if (!incoming_) return remote_;
  if (peer_listen_port_) return tcp::endpoint(remote_.address(), peer_listen_port_);
  return std::nullopt;
}

}  // namespace p2p
