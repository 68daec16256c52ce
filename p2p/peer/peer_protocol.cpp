#include "p2p/peer/peer_protocol.hpp"

#include <algorithm>
#include <cstring>

#include "p2p/wire/bencode.hpp"
#include "p2p/wire/extension_handshake.hpp"
#include "p2p/wire/metadata_exchange.hpp"
#include "p2p/wire/pex.hpp"

namespace p2p {

namespace {

// Receive buffer: small for idle connections (hundreds of them per process), doubled up to the
// larger size while reads keep filling it.
constexpr std::size_t kMinReadBuffer = 1024;
constexpr std::size_t kMaxReadBuffer = 256 * 1024;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

BlockRef block_of(const wire::Message& m) {
  return {PieceIndex(std::int32_t(m.index)), std::int32_t(m.begin), std::int32_t(m.length)};
}

}  // namespace

PeerProtocol::PeerProtocol(Host& host, ProtocolSettings settings, bool incoming)
    : host_(host), s_(std::move(settings)), incoming_(incoming) {
  last_received_ = last_sent_ = last_piece_ = Clock::now();
}

PeerProtocol::~PeerProtocol() {
  *alive_ = false;
}

void PeerProtocol::start() {
  if (!incoming_) send_handshake();
}

void PeerProtocol::close(CloseReason r, const std::string& detail) {
  if (closed_) return;
  host_.on_close(r, detail);
  on_closed();
}

void PeerProtocol::on_closed() {
  if (closed_) return;
  closed_ = true;
  abort_all_requests();
  incoming_requests_.clear();
  serving_.clear();
  serving_bytes_ = 0;
  for (auto& e : plugins_) e->on_disconnect();
  if (handshake_done_) {
    if (auto* picker = host_.picker()) picker->dec_availability_all(peer_has_);
  }
}

void PeerProtocol::send_handshake() {
  wire::Handshake hs;
  hs.set_extensions(true);
  hs.set_fast(true);
  if (s_.dht_port && !host_.is_private()) hs.reserved[7] |= 0x01;
  hs.info_hash = host_.info_hash();
  hs.peer_id = s_.our_peer_id;
  std::uint8_t buf[wire::kHandshakeSize];
  wire::write_handshake(hs, buf);
  sendq_.append(buf, sizeof buf);
  handshake_sent_ = true;
}

std::span<std::uint8_t> PeerProtocol::read_buffer() {
  if (rbuf_.empty()) rbuf_.resize(kMinReadBuffer);
  if (last_read_full_ && rbuf_.size() < kMaxReadBuffer) {
    // The last read filled the buffer, so the stream held more: a busy link gets bigger
    // reads, while idle connections keep the small buffer they started with.
    rbuf_.resize(std::min(rbuf_.size() * 2, kMaxReadBuffer));
    last_read_full_ = false;
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
  return {rbuf_.data() + rend_, rbuf_.size() - rend_};
}

void PeerProtocol::on_received(std::size_t n, bool filled_buffer) {
  if (closed_) return;
  rend_ += std::min(n, rbuf_.size() - rend_);
  last_read_full_ = filled_buffer;
  last_received_ = Clock::now();
  if (!handshake_done_) {
    if (rend_ - rpos_ < wire::kHandshakeSize) return;
    if (!handle_handshake()) return;
  }
  process_messages();
}

void PeerProtocol::on_bytes(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty() && !closed_) {
    auto buf = read_buffer();
    std::size_t n = std::min(buf.size(), bytes.size());
    std::memcpy(buf.data(), bytes.data(), n);
    bytes = bytes.subspan(n);
    on_received(n, false);
  }
}

bool PeerProtocol::handle_handshake() {
  auto hs = wire::parse_handshake(
      std::span<const std::uint8_t>(rbuf_.data() + rpos_, wire::kHandshakeSize));
  if (!hs) {
    close(CloseReason::ProtocolError, "not a BitTorrent handshake");
    return false;
  }
  rpos_ += wire::kHandshakeSize;
  if (hs->peer_id == s_.our_peer_id) {
    close(CloseReason::SelfConnection, "connected to ourselves");
    return false;
  }
  peer_id_ = hs->peer_id;
  fast_ = hs->supports_fast();
  extensions_ = hs->supports_extensions();
  if (!host_.on_handshake(*hs)) {
    if (!closed_) close(CloseReason::WrongTorrent, "refused at the handshake");
    return false;
  }
  if (closed_) return false;
  handshake_done_ = true;
  if (!handshake_sent_) send_handshake();
  if (handle_) {
    if (auto* exts = host_.extensions()) {
      for (auto& te : *exts) {
        if (auto pe = te->new_peer(*handle_)) plugins_.push_back(std::move(pe));
      }
    }
  }
  if (extensions_) send_extended_handshake();
  send_initial_bitfield();
  if (s_.dht_port && !host_.is_private() && (hs->reserved[7] & 0x01)) {
    wire::Bytes out;
    wire::put_port(out, s_.dht_port);
    append(out);
  }
  if (host_.picker()) peer_has_.assign(std::size_t(host_.num_pieces()), false);
  return true;
}

void PeerProtocol::send_extended(std::uint8_t id, std::string_view body) {
  wire::Bytes out;
  wire::put_extended(out, id, as_bytes(body));
  append(out);
}

void PeerProtocol::send_extended_handshake() {
  bencode::Dict m;
  ext_names_by_local_id_.clear();
  m["ut_metadata"] = bencode::Integer(kUtMetadataId);
  ext_names_by_local_id_.push_back("ut_metadata");
  if (!host_.is_private() && s_.enable_pex) m["ut_pex"] = bencode::Integer(kUtPexId);
  ext_names_by_local_id_.push_back("ut_pex");
  std::uint8_t next = kFirstExtensionId;
  if (auto* exts = host_.extensions()) {
    for (auto& te : *exts) {
      for (auto& name : te->message_names()) {
        if (next == 255) break;
        m[name] = bencode::Integer(next++);
        ext_names_by_local_id_.push_back(name);
      }
    }
  }
  bencode::Dict d;
  d["m"] = bencode::Value(std::move(m));
  d["v"] = s_.client_version;
  d["reqq"] = bencode::Integer(s_.max_incoming_requests);
  if (s_.listen_port) d["p"] = bencode::Integer(s_.listen_port);
  if (const auto* info = host_.info_bytes())
    d["metadata_size"] = bencode::Integer(std::int64_t(info->size()));
  for (auto& e : plugins_) e->add_handshake(d);
  send_extended(0, bencode::encode(bencode::Value(std::move(d))));
}

void PeerProtocol::send_initial_bitfield() {
  auto* picker = host_.picker();
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
  append(out);
}

void PeerProtocol::write_simple(wire::MsgId id) {
  wire::Bytes out;
  wire::put_simple(out, id);
  append(out);
}

bool PeerProtocol::refused_request() {
  if (++refused_requests_ <= s_.max_refused_requests) return true;
  close(CloseReason::TooManyRequests, "too many requests refused");
  return false;
}

void PeerProtocol::process_messages() {
  if (processing_) return;  // a handler below fed us again: the outer loop goes on
  processing_ = true;
  while (!closed_) {
    if (send_queue_full()) {
      // What it asked for waits in the receive buffer; on_write_done resumes us.
      read_paused_ = true;
      break;
    }
    auto r = wire::parse_message(std::span<const std::uint8_t>(rbuf_.data() + rpos_, rend_ - rpos_),
                                 host_.geometry());
    if (r.status == wire::ParseStatus::error) {
      processing_ = false;
      close(CloseReason::ProtocolError, "protocol error: " + r.error);
      return;
    }
    if (r.status == wire::ParseStatus::need_more) {
      std::size_t have = rend_ - rpos_;
      if (r.needed > rbuf_.size() - rpos_) {
        std::memmove(rbuf_.data(), rbuf_.data() + rpos_, have);
        rpos_ = 0;
        rend_ = have;
        if (r.needed > rbuf_.size()) rbuf_.resize(r.needed);
      }
      break;
    }
    bool ok = handle_message(r.msg);
    rpos_ += r.consumed;
    if (!ok || closed_) break;
  }
  processing_ = false;
  if (closed_) return;
  if (rpos_ == rend_) rpos_ = rend_ = 0;
  // Shrink a buffer grown past the streaming size for a large bitfield or extension message.
  if (rpos_ == 0 && rend_ == 0 && rbuf_.size() > kMaxReadBuffer) {
    rbuf_.resize(kMinReadBuffer);
    rbuf_.shrink_to_fit();
  }
  request_blocks();
  serve_requests();
}

void PeerProtocol::set_peer_has(std::int32_t piece) {
  if (piece < 0) return;
  if (!host_.has_metadata()) {
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
  if (auto* picker = host_.picker()) picker->inc_availability(PieceIndex(piece));
}

bool PeerProtocol::is_seed() const {
  if (peer_have_all_) return true;
  return handshake_done_ && host_.has_metadata() && peer_num_have_ == host_.num_pieces();
}

double PeerProtocol::progress() const {
  if (is_seed()) return 1.0;
  const std::int32_t n = host_.has_metadata() ? host_.num_pieces() : 0;
  return n > 0 ? double(peer_num_have_) / double(n) : 0.0;
}

bool PeerProtocol::handle_message(const wire::Message& m) {
  if (m.keep_alive) return true;
  using wire::MsgId;
  auto* picker = host_.picker();
  switch (m.id) {
    case MsgId::choke:
      peer_choking_ = true;
      abort_all_requests();
      break;
    case MsgId::unchoke:
      peer_choking_ = false;
      last_piece_ = Clock::now();
      rejected_.clear();  // a new round: what it refused before may be served now
      break;
    case MsgId::interested:
      peer_interested_ = true;
      host_.on_wants_unchoke();
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
      if (host_.has_metadata()) n = std::size_t(host_.num_pieces());
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
        close(CloseReason::ProtocolError, "fast message without the fast extension");
        return false;
      }
      if (m.id == MsgId::have_all && !peer_have_all_) {
        peer_have_all_ = true;
        if (host_.has_metadata()) {
          if (picker) picker->dec_availability_all(peer_has_);
          peer_has_.assign(std::size_t(host_.num_pieces()), true);
          peer_num_have_ = host_.num_pieces();
          if (picker) picker->inc_availability_all(peer_has_);
        }
      }
      update_interest();
      break;
    case MsgId::request: {
      BlockRef r = block_of(m);
      if (am_choking_ || !picker || !picker->have(r.piece) ||
          int(incoming_requests_.size() + serving_.size()) >= s_.max_incoming_requests) {
        reject(r);  // a non-fast peer's request while choked is simply dropped
        if (!refused_request()) return false;
        break;
      }
      incoming_requests_.push_back(r);
      break;
    }
    case MsgId::cancel: {
      BlockRef r = block_of(m);
      auto it = std::find(incoming_requests_.begin(), incoming_requests_.end(), r);
      if (it != incoming_requests_.end()) {
        incoming_requests_.erase(it);
        reject(r);  // BEP 6: a cancelled request is answered with a reject
        break;
      }
      for (auto& s : serving_) {
        if (s.block == r && !s.dropped) {
          s.dropped = true;  // being read: it is not sent
          reject(r);
          break;
        }
      }
      break;
    }
    case MsgId::piece: {
      BlockRef b = block_of(m);
      auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                             [&](const Outstanding& o) { return o.block == b; });
      down_meter_.add(b.length);
      if (it == outstanding_.end()) {
        // Only blocks we asked this peer for are taken. A block we cancelled or gave up on
        // may still be on its way and is dropped quietly; anything else counts against it.
        if (forget_stale(b)) {
          forget_cancel(b);
          break;
        }
        if (++unrequested_blocks_ > kMaxUnrequestedBlocks) {
          close(CloseReason::ProtocolError, "sent blocks that were not requested");
          return false;
        }
        break;
      }
      outstanding_.erase(it);
      // Asked for again after a cancel: this may be the cancel's answer, and the new
      // request's may follow; the stale entry the cancel left drops that one quietly.
      forget_cancel(b);
      last_piece_ = Clock::now();
      snubbed_ = false;
      counters_->payload_down += b.length;
      host_.on_payload(0, b.length);
      for (auto& e : plugins_) e->on_payload_received(b.length);
      host_.on_block(b, m.payload);
      break;
    }
    case MsgId::reject: {
      if (!fast_) {
        close(CloseReason::ProtocolError, "reject without the fast extension");
        return false;
      }
      BlockRef b = block_of(m);
      if (forget_cancel(b)) {
        forget_stale(b);  // the cancel is answered: a request made since is still open
        break;
      }
      auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                             [&](const Outstanding& o) { return o.block == b; });
      if (it != outstanding_.end()) {
        outstanding_.erase(it);
        rejected_[b] = Clock::now();
        if (picker) picker->abort_request(b);
        host_.on_block_rejected(b);  // a piece it will not send goes to the others
      }
      break;
    }
    case MsgId::allowed_fast:
    case MsgId::suggest:
      if (!fast_) {
        close(CloseReason::ProtocolError, "fast message without the fast extension");
        return false;
      }
      break;  // hints only; we do not need them
    case MsgId::port:
      if (s_.dht_port && !host_.is_private() && m.port != 0) host_.on_dht_port(remote_, m.port);
      break;
    case MsgId::extended:
      if (!extensions_) {
        close(CloseReason::ProtocolError, "extension message without the extension bit");
        return false;
      }
      return handle_extended(m.ext_id, m.payload);
    default:
      break;  // unknown messages are ignored
  }
  return !closed_;
}

bool PeerProtocol::handle_extended(std::uint8_t id, std::span<const std::uint8_t> body) {
  std::string_view sv(reinterpret_cast<const char*>(body.data()), body.size());
  if (id == 0) {
    std::string error;
    auto hs = ext::parse_handshake(sv, &error);
    if (!hs) {
      close(CloseReason::ProtocolError, "bad extended handshake: " + error);
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
    if (hs->listen_port && hs->listen_port != peer_listen_port_) {
      peer_listen_port_ = hs->listen_port;
      host_.on_listen_port();
      if (closed_) return false;
    }
    if (hs->reqq) peer_reqq_ = hs->reqq;
    if (!host_.has_metadata() && peer_ext_ids_.count("ut_metadata") && hs->metadata_size >= 0) {
      host_.on_metadata_size(hs->metadata_size);
      if (closed_) return false;
    }
    for (auto& e : plugins_) e->on_handshake(hs->dict.as_dict());
    return !closed_;
  }
  if (id > ext_names_by_local_id_.size()) return true;  // not ours: ignore
  const std::string name = ext_names_by_local_id_[id - 1];
  if (id == kUtMetadataId) {
    auto msg = metadata::parse(sv);
    if (!msg) {
      close(CloseReason::ProtocolError, "bad ut_metadata message");
      return false;
    }
    auto peer_id = peer_ext_ids_.find("ut_metadata");
    if (msg->type == metadata::MsgType::request) {
      if (peer_id == peer_ext_ids_.end()) return true;
      std::string reply;
      if (const auto* info = host_.info_bytes()) {
        // Each piece a few times over the connection is plenty for an honest peer.
        std::size_t pieces = (info->size() + metadata::kPieceSize - 1) / metadata::kPieceSize;
        auto part = metadata_served_ < kMetadataServesPerPiece * pieces + kMetadataServesPerPiece
                        ? metadata::slice(*info, msg->piece)
                        : std::string_view();
        if (part.empty()) {
          reply = metadata::encode_reject(msg->piece);
          if (!refused_request()) return false;
        } else {
          ++metadata_served_;
          reply = metadata::encode_data(msg->piece, std::int64_t(info->size()), part);
        }
      } else {
        reply = metadata::encode_reject(msg->piece);
        if (!refused_request()) return false;
      }
      send_extended(peer_id->second, reply);
    } else if (msg->type == metadata::MsgType::data) {
      if (metadata_requests_in_flight_ > 0) --metadata_requests_in_flight_;
      host_.on_metadata_piece(msg->piece, msg->total_size, msg->data);
    } else {
      if (metadata_requests_in_flight_ > 0) --metadata_requests_in_flight_;
      host_.on_metadata_reject(msg->piece);
    }
    return !closed_;
  }
  if (id == kUtPexId) {
    if (host_.is_private()) return true;
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
        if (!host_.on_pex_peer(PeerAddress(msg->added[i]), seed)) break;
        ++taken;
      }
    }
    return !closed_;
  }
  for (auto& e : plugins_) {
    e->on_message(name, sv);
    if (closed_) break;
  }
  return !closed_;
}

void PeerProtocol::send_metadata_request(std::int64_t piece) {
  auto it = peer_ext_ids_.find("ut_metadata");
  if (it == peer_ext_ids_.end() || closed_) return;
  send_extended(it->second, metadata::encode_request(piece));
  ++metadata_requests_in_flight_;
}

void PeerProtocol::send_pex(std::string_view body) {
  auto it = peer_ext_ids_.find("ut_pex");
  if (it == peer_ext_ids_.end() || !handshake_done_ || closed_) return;
  send_extended(it->second, body);
}

bool PeerProtocol::send_extension_message(std::string_view name, std::string_view body) {
  auto it = peer_ext_ids_.find(name);
  if (it == peer_ext_ids_.end() || closed_) return false;
  send_extended(it->second, body);
  return true;
}

bool PeerProtocol::peer_supports(std::string_view message) const {
  return peer_ext_ids_.find(message) != peer_ext_ids_.end();
}

void PeerProtocol::on_metadata_ready() {
  if (closed_ || !handshake_done_) return;
  // Bits learnt before the metadata: trim to the piece count (spare bits must be clear).
  std::size_t n = std::size_t(host_.num_pieces());
  if (peer_have_all_) {
    peer_has_.assign(n, true);
  } else {
    for (std::size_t i = n; i < peer_has_.size(); ++i) {
      if (peer_has_[i])
        return close(CloseReason::ProtocolError, "peer has pieces beyond the torrent's end");
    }
    peer_has_.resize(n, false);
    for (auto piece : early_haves_) {
      if (piece >= n)
        return close(CloseReason::ProtocolError, "peer has pieces beyond the torrent's end");
      peer_has_[piece] = true;
    }
  }
  early_haves_.clear();
  peer_num_have_ = std::int32_t(std::count(peer_has_.begin(), peer_has_.end(), true));
  if (auto* picker = host_.picker()) picker->inc_availability_all(peer_has_);
  update_interest();
  request_blocks();
}

void PeerProtocol::update_interest() {
  if (closed_) return;
  auto* picker = host_.picker();
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
  }
  close_if_both_seeds();
}

void PeerProtocol::close_if_both_seeds() {
  // Two seeds have nothing to say to each other, once no extension has business left.
  if (closed_ || !handshake_done_) return;
  auto* picker = host_.picker();
  if (!picker || !picker->is_seed() || !is_seed()) return;
  for (auto& e : plugins_) {
    if (e->wants_connection()) return;
  }
  close(CloseReason::UselessPeer, "both are seeds");
}

void PeerProtocol::drop_requests() {
  // Requests not yet served are dropped (a fast peer gets a reject for each).
  auto pending = std::move(incoming_requests_);
  incoming_requests_.clear();
  for (const auto& r : pending) reject(r);
  for (auto& s : serving_) {
    if (s.dropped) continue;
    s.dropped = true;
    reject(s.block);
  }
}

void PeerProtocol::choke(bool c) {
  if (closed_ || !handshake_done_) return;
  if (!c && ext_choked_) return;
  if (c == am_choking_) return;
  am_choking_ = c;
  if (!c) refused_requests_ = 0;  // requests sent before it saw our choke were no fault
  write_simple(c ? wire::MsgId::choke : wire::MsgId::unchoke);
  if (c) drop_requests();
}

void PeerProtocol::set_choked_by_extension(bool choked) {
  bool lifted = ext_choked_ && !choked;
  ext_choked_ = choked;
  if (closed_ || !handshake_done_) return;
  // A peer let go by the extension gets its slot back now, not at the next rechoke.
  if (lifted && am_choking_ && peer_interested_) host_.on_wants_unchoke();
  if (choked && !am_choking_) {
    am_choking_ = true;
    write_simple(wire::MsgId::choke);
    drop_requests();
  }
}

void PeerProtocol::reject(const BlockRef& r) {
  if (!fast_) return;
  wire::Bytes out;
  wire::put_request(out, wire::MsgId::reject, std::uint32_t(r.piece.get()), std::uint32_t(r.offset),
                    std::uint32_t(r.length));
  append(out);
}

void PeerProtocol::send_have(PieceIndex p) {
  if (closed_ || !handshake_done_) return;
  wire::Bytes out;
  wire::put_have(out, std::uint32_t(p.get()));
  append(out);
  update_interest();
  request_blocks();  // a piece left the disk queue: requests held back may go out now
}

bool PeerProtocol::has_requested(const BlockRef& b) const {
  return std::any_of(outstanding_.begin(), outstanding_.end(),
                     [&](const Outstanding& o) { return o.block == b; });
}

void PeerProtocol::cancel_block(const BlockRef& b) {
  auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                         [&](const Outstanding& o) { return o.block == b; });
  if (it == outstanding_.end() || closed_) return;
  outstanding_.erase(it);
  note_stale(b);
  if (fast_) {
    if (cancels_unanswered_.size() >= kMaxStaleBlocks) cancels_unanswered_.pop_front();
    cancels_unanswered_.push_back(b);
  }
  wire::Bytes out;
  wire::put_request(out, wire::MsgId::cancel, std::uint32_t(b.piece.get()), std::uint32_t(b.offset),
                    std::uint32_t(b.length));
  append(out);
}

void PeerProtocol::abort_all_requests() {
  if (auto* picker = handshake_done_ ? host_.picker() : nullptr) {
    for (const auto& o : outstanding_) picker->abort_request(o.block);
  }
  // A snubbed peer may still send what it was asked for: those blocks are dropped quietly.
  for (const auto& o : outstanding_) note_stale(o.block);
  outstanding_.clear();
}

void PeerProtocol::note_stale(const BlockRef& b) {
  if (stale_.size() >= kMaxStaleBlocks) stale_.pop_front();
  stale_.push_back(b);
}

bool PeerProtocol::forget_stale(const BlockRef& b) {
  auto it = std::find(stale_.begin(), stale_.end(), b);
  if (it == stale_.end()) return false;
  stale_.erase(it);
  return true;
}

bool PeerProtocol::forget_cancel(const BlockRef& b) {
  auto it = std::find(cancels_unanswered_.begin(), cancels_unanswered_.end(), b);
  if (it == cancels_unanswered_.end()) return false;
  cancels_unanswered_.erase(it);
  return true;
}

void PeerProtocol::request_blocks() {
  auto* picker = handshake_done_ ? host_.picker() : nullptr;
  if (closed_ || !picker || peer_choking_ || !am_interested_) return;
  if (picker->is_seed()) return;
  if (host_.disk_backlog_full()) return;  // send_have wakes us when a piece is off the disk
  int target;
  if (snubbed_) {
    target = 1;
  } else {
    double bytes = down_meter_.rate() * s_.request_queue_seconds;
    target = std::max(s_.min_request_queue, int(bytes / kBlockSize));
    target = std::min({target, s_.max_request_queue, peer_reqq_});
  }
  int have = int(outstanding_.size());
  // Refill in batches so the picker runs less often.
  if (have > target - std::max(1, target / 4)) return;
  std::vector<BlockRef> exclude;
  if (picker->in_endgame()) {
    for (const auto& o : outstanding_) exclude.push_back(o.block);
    for (const auto& [r, when] : rejected_) exclude.push_back(r);
  }
  const std::vector<bool>* has = &peer_has_;
  std::vector<bool> masked;
  if (host_.has_masked_pieces()) {
    masked = peer_has_;
    host_.mask_pieces(masked);
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
  append(out);
}

void PeerProtocol::serve_requests() {
  if (closed_ || !handshake_done_ || am_choking_) return;
  if (reads_in_flight_ >= kMaxReadsInFlight) return;
  // Blocks being read count as queued: the watermark bounds both.
  std::size_t queued = sendq_.size() + serving_bytes_;
  std::vector<BlockRef> batch;
  while (!incoming_requests_.empty() && queued < s_.send_buffer_watermark &&
         int(batch.size()) < std::max(1, s_.blocks_per_read)) {
    if (!host_.may_upload()) break;
    BlockRef r = incoming_requests_.front();
    incoming_requests_.pop_front();
    host_.consume_upload(r.length);
    queued += wire::kPieceHeaderSize + std::size_t(r.length);
    batch.push_back(r);
  }
  if (batch.empty()) return;
  std::uint64_t job = next_job_++;
  for (const auto& b : batch) {
    serving_.push_back({b, job, false});
    serving_bytes_ += wire::kPieceHeaderSize + std::size_t(b.length);
  }
  ++reads_in_flight_;
  host_.async_read_blocks(std::move(batch), [this, alive = std::weak_ptr<bool>(alive_), job](
                                                DiskBufferPtr data, const std::string& error) {
    if (alive.expired()) return;
    on_blocks_read(job, data, error);
  });
}

void PeerProtocol::on_blocks_read(std::uint64_t job, const DiskBufferPtr& buffer,
                                  const std::string& error) {
  std::span<const std::uint8_t> data = buffer ? buffer->bytes() : std::span<const std::uint8_t>();
  if (reads_in_flight_ > 0) --reads_in_flight_;
  // Jobs may finish in any order (the peer takes blocks in any order too).
  std::vector<Serving> done;
  for (auto it = serving_.begin(); it != serving_.end();) {
    if (it->job != job) {
      ++it;
      continue;
    }
    done.push_back(*it);
    it = serving_.erase(it);
  }
  std::size_t off = 0;
  for (const Serving& s : done) {
    std::size_t len = std::size_t(s.block.length);
    serving_bytes_ -= std::min(serving_bytes_, wire::kPieceHeaderSize + len);
    if (!error.empty() || off + len > data.size()) continue;  // the host failed the torrent
    auto block = data.subspan(off, len);
    off += len;
    if (s.dropped || closed_) continue;
    // An extension told of the last block may have choked the peer just now: what is left
    // of the batch is no longer served (BEP 3), and is rejected for a fast peer.
    if (am_choking_) {
      reject(s.block);
      continue;
    }
    std::uint8_t hdr[wire::kPieceHeaderSize];
    wire::write_piece_header(hdr, std::uint32_t(s.block.piece.get()), std::uint32_t(s.block.offset),
                             std::uint32_t(len));
    sendq_.append(hdr, sizeof hdr);
    sendq_.append_shared(buffer, block);  // sent from where the disk put it
    up_meter_.add(s.block.length);
    counters_->payload_up += s.block.length;
    host_.on_payload(s.block.length, 0);
    for (auto& e : plugins_) e->on_payload_sent(s.block.length);
  }
  if (!error.empty()) return;
  serve_requests();
}

std::span<const std::span<const std::uint8_t>> PeerProtocol::begin_write() {
  if (closed_ || write_in_flight_ || sendq_.empty()) return {};
  if (!handshake_sent_ && !incoming_) return {};
  writing_.swap(sendq_);
  write_in_flight_ = true;
  last_sent_ = Clock::now();
  // Read the next blocks while this batch is on the wire.
  serve_requests();
  return writing_.buffers();
}

void PeerProtocol::on_write_done() {
  write_in_flight_ = false;
  writing_.clear();
  if (closed_) return;
  serve_requests();
  if (read_paused_ && !send_queue_full()) {
    read_paused_ = false;
    process_messages();
    if (closed_) return;
  }
  release_idle_buffers(false);
}

void PeerProtocol::release_idle_buffers(bool idle_tick) {
  // Small buffers go as soon as everything is sent (cheap to get again); the large ones a
  // busy upload grew keep serving it until a tick finds nothing sent for a while, so a
  // stream of blocks does not allocate and fault in fresh memory for every batch.
  constexpr std::size_t kKeepWhileBusy = 64 * 1024;
  if (!sendq_.empty() || !incoming_requests_.empty() || !serving_.empty()) return;
  if (!write_in_flight_ && (idle_tick || writing_.capacity() <= kKeepWhileBusy)) {
    writing_.release();
  }
  if (idle_tick || sendq_.capacity() <= kKeepWhileBusy) sendq_.release();
}

void PeerProtocol::tick(Clock::time_point now) {
  if (closed_ || !handshake_done_) return;
  if (now - last_sent_ > std::chrono::seconds(2)) release_idle_buffers(true);
  down_meter_.tick(std::chrono::seconds(1));
  up_meter_.tick(std::chrono::seconds(1));
  if (now - last_received_ > s_.inactivity_timeout) return close(CloseReason::Inactive, "inactive");
  std::erase_if(rejected_, [&](const auto& r) { return now - r.second >= kRejectMemory; });
  if (!outstanding_.empty() && now - last_piece_ > s_.snub_time) {
    // The peer sits on our requests: give them to others and ask it for one at a time.
    snubbed_ = true;
    abort_all_requests();
    last_piece_ = now;
  }
  if (now - last_sent_ > s_.keepalive_interval && sendq_.empty()) {
    wire::Bytes out;
    wire::put_keep_alive(out);
    append(out);
  }
  request_blocks();
  serve_requests();
  close_if_both_seeds();
}

}  // namespace p2p
