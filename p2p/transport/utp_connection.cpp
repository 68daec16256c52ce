#include "p2p/transport/utp_connection.hpp"

#include <algorithm>
#include <cstring>

namespace p2p::utp {

namespace {
std::uint32_t clock32(std::uint64_t now) {
  return static_cast<std::uint32_t>(now);
}
std::size_t payload_of(const std::vector<std::uint8_t>& d) {
  return d.size() - kHeaderSize;
}
bool wrap_less(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) < 0;
}
}  // namespace

Connection::Connection(Config c, Output out)
    : cfg_(c), out_(std::move(out)), out_ring_(kRing), in_ring_(kRing) {
  cfg_.max_payload = std::clamp<std::size_t>(cfg_.max_payload, 64, 65000);
  cwnd_ = double(10 * cfg_.max_payload);
  peer_wnd_ = cfg_.max_payload;
}

Header Connection::header(Type t, std::uint64_t now) const {
  Header h;
  h.type = t;
  h.conn_id = send_id_;
  h.timestamp = clock32(now);
  h.timestamp_diff = reply_micro_;
  h.wnd = advertised_window();
  h.seq = seq_nr_;
  h.ack = ack_nr_;
  return h;
}

std::uint32_t Connection::advertised_window() const {
  std::size_t used = readable() + ooo_bytes_;
  return used >= cfg_.recv_buffer ? 0 : std::uint32_t(cfg_.recv_buffer - used);
}

std::size_t Connection::send_space() const {
  std::size_t u = unacked();
  return u >= cfg_.send_buffer ? 0 : cfg_.send_buffer - u;
}

std::size_t Connection::window() const {
  return std::min(std::size_t(cwnd_), peer_wnd_);
}

std::uint32_t Connection::base_delay_us() const {
  if (base_prev_ == UINT32_MAX) return base_cur_;
  if (base_cur_ == UINT32_MAX) return base_prev_;
  return wrap_less(base_cur_, base_prev_) ? base_cur_ : base_prev_;
}

void Connection::connect(std::uint16_t recv_id, std::uint16_t first_seq, std::uint64_t now) {
  recv_id_ = recv_id;
  send_id_ = std::uint16_t(recv_id + 1);
  seq_nr_ = oldest_ = first_seq;
  state_ = State::syn_sent;
  base_rotate_at_ = now + cfg_.base_delay_window_us / 2;
  std::uint16_t s = queue_packet(Type::syn, {});
  timeout_at_ = now + cfg_.syn_timeout_us;
  transmit(s, now);
}

void Connection::accept(const Packet& syn, std::uint16_t first_seq, std::uint64_t now) {
  recv_id_ = std::uint16_t(syn.h.conn_id + 1);
  send_id_ = syn.h.conn_id;
  ack_nr_ = syn.h.seq;
  seq_nr_ = oldest_ = first_seq;
  last_ack_ = std::uint16_t(first_seq - 1);
  state_ = State::connected;
  last_recv_ = now;
  base_rotate_at_ = now + cfg_.base_delay_window_us / 2;
  reply_micro_ = clock32(now) - syn.h.timestamp;
  peer_wnd_ = syn.h.wnd;
  send_state(now, false);
}

std::uint16_t Connection::queue_packet(Type t, std::span<const std::uint8_t> payload) {
  std::uint16_t s = seq_nr_++;
  Out& o = out_ring_[s % kRing];
  o.datagram.resize(kHeaderSize + payload.size());
  o.datagram[0] = std::uint8_t(std::uint8_t(t) << 4 | kVersion);
  if (!payload.empty())
    std::memcpy(o.datagram.data() + kHeaderSize, payload.data(), payload.size());
  o.used = true;
  o.transmissions = 0;
  o.need_resend = true;  // transmit() sends it
  o.fast_resent = false;
  ++resend_count_;
  inflight_payload_ += payload.size();
  return s;
}

void Connection::transmit(std::uint16_t seq, std::uint64_t now) {
  Out& o = out_ring_[seq % kRing];
  Type t = Type(o.datagram[0] >> 4);
  Header h = header(t, now);
  h.seq = seq;
  if (t == Type::syn) h.conn_id = recv_id_;
  write_header(h, {}, o.datagram.data());
  if (o.need_resend) {
    o.need_resend = false;
    --resend_count_;
    inflight_bytes_ += payload_of(o.datagram);
  }
  if (o.transmissions > 0) ++retransmits_;
  ++o.transmissions;
  o.sent_at = now;
  last_sent_ = now;
  ++packets_sent_;
  ack_owed_ = false;
  unacked_packets_ = 0;
  window_closed_sent_ = h.wnd < cfg_.recv_buffer / 2;
  if (!timeout_at_) timeout_at_ = now + rto_;
  out_(o.datagram);
}

void Connection::pump(std::uint64_t now) {
  if (state_ != State::connected) return;
  std::size_t win = window();
  for (std::uint16_t s = oldest_; resend_count_ > 0 && s != seq_nr_; ++s) {
    Out& o = out_ring_[s % kRing];
    if (!o.used || !o.need_resend) continue;
    if (inflight_bytes_ > 0 && inflight_bytes_ + payload_of(o.datagram) > win) return;
    transmit(s, now);
  }
  while (pending_at_ < pending_.size()) {
    std::size_t n = std::min(cfg_.max_payload, pending_.size() - pending_at_);
    if (std::uint16_t(seq_nr_ - oldest_) >= kMaxInflightPackets) return;
    if (inflight_bytes_ > 0 && inflight_bytes_ + n > win) return;
    std::uint16_t s = queue_packet(Type::data, {pending_.data() + pending_at_, n});
    pending_at_ += n;
    transmit(s, now);
  }
  if (pending_at_ > 0 && pending_at_ == pending_.size()) {
    pending_.clear();
    pending_at_ = 0;
  }
  if (shutdown_ && !fin_sent_ && std::uint16_t(seq_nr_ - oldest_) < kMaxInflightPackets) {
    fin_sent_ = true;
    fin_seq_ = queue_packet(Type::fin, {});
    transmit(fin_seq_, now);
  }
}

std::size_t Connection::write(std::span<const std::uint8_t> data, std::uint64_t now) {
  if (state_ == State::closed || state_ == State::idle || shutdown_) return 0;
  std::size_t n = std::min(data.size(), send_space());
  if (n == 0) return 0;
  if (pending_at_ > 0 && pending_at_ >= pending_.size() / 2) {
    pending_.erase(pending_.begin(), pending_.begin() + std::ptrdiff_t(pending_at_));
    pending_at_ = 0;
  }
  pending_.insert(pending_.end(), data.begin(), data.begin() + std::ptrdiff_t(n));
  pump(now);
  return n;
}

std::size_t Connection::read(std::span<std::uint8_t> buf, std::uint64_t now) {
  std::size_t n = std::min(buf.size(), readable());
  if (n == 0) return 0;
  std::memcpy(buf.data(), recv_.data() + recv_at_, n);
  recv_at_ += n;
  if (recv_at_ == recv_.size()) {
    recv_.clear();
    recv_at_ = 0;
  }
  if (window_closed_sent_ && state_ == State::connected &&
      advertised_window() >= cfg_.recv_buffer / 2) {
    send_state(now, ooo_count_ > 0);
  }
  return n;
}

void Connection::shutdown(std::uint64_t now) {
  if (shutdown_) return;
  shutdown_ = true;
  pump(now);
}

void Connection::abort() {
  if (state_ == State::connected || state_ == State::syn_sent) send_reset();
  fail(Error::reset);
}

void Connection::fail(Error e) {
  state_ = State::closed;
  error_ = e;
  timeout_at_ = 0;
}

void Connection::send_reset() {
  Header h;
  h.type = Type::reset;
  h.conn_id = send_id_;
  h.seq = seq_nr_;
  h.ack = ack_nr_;
  std::uint8_t buf[kHeaderSize];
  write_header(h, {}, buf);
  out_(std::span<const std::uint8_t>(buf, kHeaderSize));
}

void Connection::send_state(std::uint64_t now, bool with_sack) {
  std::uint8_t mask[kMaxSackBytes] = {};
  std::size_t len = 0;
  if (with_sack && ooo_count_ > 0) {
    for (std::size_t i = 0; i < kMaxSackBytes * 8; ++i) {
      std::uint16_t s = std::uint16_t(ack_nr_ + 2 + i);
      const In& in = in_ring_[s % kRing];
      if (in.used && in.seq == s) {
        mask[i / 8] |= std::uint8_t(1u << (i % 8));
        len = i / 8 + 1;
      }
    }
  }
  Header h = header(Type::state, now);
  scratch_.resize(kHeaderSize + 2 + kMaxSackBytes);
  std::size_t n = write_header(h, {mask, len}, scratch_.data());
  ack_owed_ = false;
  unacked_packets_ = 0;
  window_closed_sent_ = h.wnd < cfg_.recv_buffer / 2;
  ++packets_sent_;
  last_sent_ = now;
  out_(std::span<const std::uint8_t>(scratch_.data(), n));
}

void Connection::flush_ack(std::uint64_t now) {
  if (ack_owed_ && state_ == State::connected) send_state(now, ooo_count_ > 0);
}

void Connection::on_packet(const Packet& p, std::uint64_t now) {
  if (state_ == State::closed || state_ == State::idle) return;
  if (p.h.type == Type::reset) {
    fail(state_ == State::syn_sent ? Error::refused : Error::reset);
    return;
  }
  if (p.h.type == Type::syn) {
    // Our answer to it was lost: the peer sends the same SYN again.
    if (state_ == State::connected && p.h.seq == ack_nr_ && recv_id_ == p.h.conn_id + 1)
      send_state(now, false);
    return;
  }
  if (state_ == State::syn_sent) {
    if (p.h.ack != oldest_) return;
    state_ = State::connected;
    last_recv_ = now;
    ack_nr_ = std::uint16_t(p.h.seq - 1);
    last_ack_ = std::uint16_t(oldest_ - 1);
  }
  last_recv_ = std::max(last_recv_, now);
  reply_micro_ = clock32(now) - p.h.timestamp;
  peer_wnd_ = p.h.wnd;
  on_ack(p, now);
  if (p.h.type == Type::data || p.h.type == Type::fin) on_data(p, now);
  pump(now);
}

void Connection::ack_packet(std::uint16_t seq, std::uint64_t now, std::size_t& bytes,
                            bool& sampled) {
  Out& o = out_ring_[seq % kRing];
  if (!o.used) return;
  std::size_t n = payload_of(o.datagram);
  if (o.need_resend) {
    --resend_count_;
  } else {
    inflight_bytes_ -= n;
  }
  inflight_payload_ -= n;
  bytes += n;
  if (o.transmissions == 1 && !sampled) {
    rtt_sample(now - o.sent_at);
    sampled = true;
  }
  o.used = false;
  if (fin_sent_ && seq == fin_seq_) fin_acked_ = true;
}

void Connection::on_loss(std::uint16_t seq) {
  Out& o = out_ring_[seq % kRing];
  if (!o.used || o.need_resend || o.fast_resent) return;
  o.fast_resent = true;
  o.need_resend = true;
  ++resend_count_;
  inflight_bytes_ -= payload_of(o.datagram);
  if (!loss_seen_ || !seq_less(seq, loss_seq_)) {
    cwnd_ = std::max(cwnd_ / 2, double(cfg_.max_payload));
    ssthresh_ = std::size_t(cwnd_);
    slow_start_ = false;
    loss_seq_ = seq_nr_;
    loss_seen_ = true;
  }
}

void Connection::on_ack(const Packet& p, std::uint64_t now) {
  std::uint16_t ack = p.h.ack;
  // Only acks of what we sent count: [oldest_ - 1, seq_nr_ - 1].
  if (seq_less(ack, std::uint16_t(oldest_ - 1)) || !seq_less(ack, seq_nr_)) return;
  std::uint16_t before = oldest_;
  std::size_t bytes = 0;
  bool sampled = false;
  for (std::uint16_t s = oldest_; s != std::uint16_t(ack + 1); ++s)
    ack_packet(s, now, bytes, sampled);
  if (seq_less(oldest_, std::uint16_t(ack + 1))) oldest_ = std::uint16_t(ack + 1);
  if (p.sack_len > 0) {
    int above = 0;
    for (std::size_t i = p.sack_len * 8; i-- > 0;) {
      std::uint16_t s = std::uint16_t(ack + 2 + i);
      if (!seq_less(s, seq_nr_)) continue;
      if (p.sacked(i)) {
        ack_packet(s, now, bytes, sampled);
        ++above;
      } else if (above >= 3) {
        on_loss(s);
      }
    }
    if (above >= 3) on_loss(std::uint16_t(ack + 1));
  }
  while (oldest_ != seq_nr_ && !out_ring_[oldest_ % kRing].used) ++oldest_;
  bool progress = oldest_ != before || bytes > 0;
  if (!progress && ack == last_ack_ && p.h.type == Type::state && oldest_ != seq_nr_) {
    if (++dup_acks_ == 3) on_loss(std::uint16_t(ack + 1));
  } else if (progress) {
    dup_acks_ = 0;
  }
  last_ack_ = ack;
  if (progress) {
    timeouts_ = 0;
    timeout_at_ = oldest_ != seq_nr_ ? now + rto_ : 0;
  }
  if (bytes > 0) congestion(bytes, p.h.timestamp_diff, now);
}

void Connection::congestion(std::size_t bytes, std::uint32_t sample, std::uint64_t now) {
  double queuing = 0;
  if (sample != 0) {
    if (now >= base_rotate_at_) {
      base_prev_ = base_cur_;
      base_cur_ = UINT32_MAX;
      base_rotate_at_ = now + cfg_.base_delay_window_us / 2;
    }
    if (base_cur_ == UINT32_MAX || wrap_less(sample, base_cur_)) base_cur_ = sample;
    std::uint32_t base = base_delay_us();
    std::int32_t q = std::int32_t(sample - base);
    queuing = q > 0 ? q : 0;
  }
  double target = cfg_.target_delay_us;
  double off = std::clamp((target - queuing) / target, -1.0, 1.0);
  if (slow_start_ && queuing > target / 2) slow_start_ = false;
  if (slow_start_) {
    cwnd_ += double(bytes);
    if (cwnd_ >= double(ssthresh_)) slow_start_ = false;
  } else if (off >= 0) {
    cwnd_ += cfg_.gain * off * double(bytes) * double(cfg_.max_payload) / cwnd_;
  } else {
    // Over the target: shrink by the window times how far over, at most half, per RTT (the
    // multiplicative decrease of LEDBAT++). RFC 6817's one packet per RTT took 20 s and more
    // to give way to a TCP flow from a window of a fast link.
    double per_rtt = std::max(-cwnd_ * (queuing / target - 1.0), -cwnd_ / 2);
    cwnd_ += per_rtt * double(bytes) / cwnd_;
  }
  double cap = double(2 * cfg_.send_buffer);
  cwnd_ = std::clamp(cwnd_, double(cfg_.max_payload), std::max(cap, double(cfg_.max_payload)));
}

void Connection::rtt_sample(std::uint64_t s) {
  if (srtt_ == 0) {
    srtt_ = std::max<std::uint64_t>(s, 1);
    rttvar_ = s / 2;
  } else {
    std::uint64_t d = srtt_ > s ? srtt_ - s : s - srtt_;
    rttvar_ = (3 * rttvar_ + d) / 4;
    srtt_ = (7 * srtt_ + s) / 8;
  }
  rto_ = std::clamp(srtt_ + 4 * rttvar_, cfg_.min_rto_us, cfg_.max_rto_us);
}

bool Connection::fits(std::size_t n) const {
  // One packet of slack over the buffer, so a reader that drains it always gets the next.
  return readable() + ooo_bytes_ + n <= cfg_.recv_buffer + cfg_.max_payload;
}

void Connection::deliver(std::span<const std::uint8_t> payload) {
  if (payload.empty()) return;
  if (recv_at_ > 0 && recv_at_ >= recv_.size() / 2) {
    recv_.erase(recv_.begin(), recv_.begin() + std::ptrdiff_t(recv_at_));
    recv_at_ = 0;
  }
  recv_.insert(recv_.end(), payload.begin(), payload.end());
}

void Connection::on_data(const Packet& p, std::uint64_t now) {
  if (state_ != State::connected || got_fin_) {
    if (got_fin_) send_state(now, false);
    return;
  }
  std::uint16_t s = p.h.seq;
  if (fin_seen_ && seq_less(eof_seq_, s)) return;
  if (!seq_less(ack_nr_, s)) {
    send_state(now, ooo_count_ > 0);  // a duplicate: our ack was lost or is late
    return;
  }
  std::uint16_t dist = std::uint16_t(s - ack_nr_);
  if (dist > kMaxReorder) return;
  bool fin = p.h.type == Type::fin;
  if (dist == 1) {
    if (!fits(p.payload.size())) return;
    deliver(p.payload);
    ack_nr_ = s;
    if (fin) got_fin_ = true;
    bool filled = false;
    while (!got_fin_) {
      std::uint16_t next = std::uint16_t(ack_nr_ + 1);
      In& in = in_ring_[next % kRing];
      if (!in.used || in.seq != next) break;
      deliver(in.payload);
      ooo_bytes_ -= in.payload.size();
      --ooo_count_;
      in.used = false;
      ack_nr_ = next;
      if (in.fin) got_fin_ = true;
      filled = true;
    }
    if (fin) {
      fin_seen_ = true;
      eof_seq_ = s;
    }
    ack_owed_ = true;
    if (filled || got_fin_ || ++unacked_packets_ >= 8) send_state(now, ooo_count_ > 0);
    return;
  }
  In& in = in_ring_[s % kRing];
  if (in.used && in.seq == s) {
    send_state(now, true);
    return;
  }
  if (in.used || !fits(p.payload.size())) return;
  in.payload.assign(p.payload.begin(), p.payload.end());
  in.seq = s;
  in.used = true;
  in.fin = fin;
  if (fin) {
    fin_seen_ = true;
    eof_seq_ = s;
  }
  ooo_bytes_ += p.payload.size();
  ++ooo_count_;
  send_state(now, true);
}

void Connection::tick(std::uint64_t now) {
  if (state_ == State::connected) {
    if (cfg_.idle_timeout_us && now >= last_recv_ + cfg_.idle_timeout_us)
      return fail(Error::idle_timeout);
    if (cfg_.keepalive_us && now >= last_sent_ + cfg_.keepalive_us) send_state(now, false);
  }
  if (state_ == State::closed || !timeout_at_ || now < timeout_at_) return;
  if (state_ == State::syn_sent) {
    if (syn_retries_ >= cfg_.max_syn_retries) return fail(Error::timed_out);
    ++syn_retries_;
    Out& o = out_ring_[oldest_ % kRing];
    o.need_resend = true;
    ++resend_count_;
    timeout_at_ = now + (cfg_.syn_timeout_us << syn_retries_);
    transmit(oldest_, now);
    return;
  }
  if (oldest_ == seq_nr_) {
    timeout_at_ = 0;
    return;
  }
  if (++timeouts_ > cfg_.max_timeouts) return fail(Error::timed_out);
  rto_ = std::min(rto_ * 2, cfg_.max_rto_us);
  for (std::uint16_t s = oldest_; s != seq_nr_; ++s) {
    Out& o = out_ring_[s % kRing];
    if (!o.used || o.need_resend) continue;
    o.need_resend = true;
    ++resend_count_;
    inflight_bytes_ -= payload_of(o.datagram);
  }
  ssthresh_ = std::max(std::size_t(cwnd_) / 2, 2 * cfg_.max_payload);
  cwnd_ = double(cfg_.max_payload);
  slow_start_ = true;
  loss_seq_ = seq_nr_;
  loss_seen_ = true;
  timeout_at_ = now + rto_;
  pump(now);
}

}  // namespace p2p::utp
