#pragma once
// One uTP connection without I/O: the state machine (SYN, connected, FIN, RESET, timeouts),
// 16-bit sequence and ack numbers, bounded send and receive buffers, retransmission on
// timeout, on three duplicate acks and on selective acks, RTT/RTO estimation and LEDBAT
// congestion control. Datagrams go out through the output function; time is given by the
// caller in microseconds, so a test can run it on a simulated link.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "p2p/transport/utp_packet.hpp"

namespace p2p::utp {

struct Config {
  std::size_t max_payload = 1400 - kHeaderSize;  // bytes of data per packet
  std::size_t send_buffer = 1 << 20;             // bytes written and not yet acked
  std::size_t recv_buffer = 1 << 20;             // bytes received and not yet read
  std::uint32_t target_delay_us = 100000;        // LEDBAT target queuing delay
  double gain = 1.0;                             // LEDBAT: cwnd change per RTT, in packets
  std::uint64_t min_rto_us = 300000;
  std::uint64_t max_rto_us = 30000000;
  std::uint64_t syn_timeout_us = 1000000;  // first SYN retry; doubles
  int max_syn_retries = 2;
  int max_timeouts = 6;  // consecutive data timeouts before the connection is given up
  std::uint64_t base_delay_window_us = 120000000;  // the 2-minute base delay history
  // A connected peer heard from not at all (no data, ack or keep-alive) this long is gone.
  std::uint64_t idle_timeout_us = 60000000;  // 0: never
  // After this long with nothing sent, a STATE tells the peer we are still here; well under
  // the idle timeout of the other side (ours and the common clients' are about 60 s).
  std::uint64_t keepalive_us = 25000000;  // 0: never
};

enum class State { idle, syn_sent, connected, closed };
enum class Error { none, refused, reset, timed_out, idle_timeout };

class Connection {
 public:
  using Output = std::function<void(std::span<const std::uint8_t>)>;
  Connection(Config c, Output out);

  // Initiator: recv_id is ours, send_id = recv_id + 1; sends the SYN.
  void connect(std::uint16_t recv_id, std::uint16_t first_seq, std::uint64_t now);
  // Acceptor of `syn`: recv_id = syn id + 1, send_id = syn id; answers with STATE.
  void accept(const Packet& syn, std::uint16_t first_seq, std::uint64_t now);

  void on_packet(const Packet& p, std::uint64_t now);
  // Sends the ack owed for data received since the last packet we sent, if any.
  void flush_ack(std::uint64_t now);
  void tick(std::uint64_t now);

  // Takes up to the free send buffer; returns the bytes taken.
  std::size_t write(std::span<const std::uint8_t> data, std::uint64_t now);
  std::size_t read(std::span<std::uint8_t> buf, std::uint64_t now);
  // No more writes: a FIN follows the data written so far.
  void shutdown(std::uint64_t now);
  // Ends at once with a RESET to the peer.
  void abort();

  State state() const { return state_; }
  Error error() const { return error_; }
  std::uint16_t recv_id() const { return recv_id_; }
  std::uint16_t send_id() const { return send_id_; }
  std::size_t readable() const { return recv_.size() - recv_at_; }
  // The peer sent FIN and every byte before it has been read.
  bool eof() const { return got_fin_ && readable() == 0; }
  std::size_t send_space() const;
  // Written bytes not yet acked (0: everything delivered).
  std::size_t unacked() const { return pending_.size() - pending_at_ + inflight_payload_; }
  // Our FIN was acked (or the connection is closed): nothing more to send.
  bool finished() const { return state_ == State::closed || (fin_sent_ && fin_acked_); }

  std::size_t cwnd() const { return std::size_t(cwnd_); }
  std::uint64_t rtt_us() const { return srtt_; }
  std::uint64_t rto_us() const { return rto_; }
  std::uint32_t base_delay_us() const;
  std::uint64_t retransmits() const { return retransmits_; }
  std::uint64_t packets_sent() const { return packets_sent_; }

 private:
  struct Out {
    std::vector<std::uint8_t> datagram;  // header + payload, header patched on each send
    std::uint64_t sent_at = 0;
    int transmissions = 0;
    bool used = false;
    bool need_resend = false;
    bool fast_resent = false;
  };
  struct In {
    std::vector<std::uint8_t> payload;
    std::uint16_t seq = 0;
    bool used = false;
    bool fin = false;
  };
  static constexpr std::size_t kRing = 2048;
  static constexpr std::uint16_t kMaxInflightPackets = 1024;
  static constexpr std::uint16_t kMaxReorder = 1024;

  Header header(Type t, std::uint64_t now) const;
  std::uint32_t advertised_window() const;
  void send_state(std::uint64_t now, bool with_sack);
  void send_reset();
  void transmit(std::uint16_t seq, std::uint64_t now);
  void pump(std::uint64_t now);
  std::uint16_t queue_packet(Type t, std::span<const std::uint8_t> payload);
  void on_ack(const Packet& p, std::uint64_t now);
  void ack_packet(std::uint16_t seq, std::uint64_t now, std::size_t& bytes, bool& sampled);
  void on_loss(std::uint16_t seq);
  void on_data(const Packet& p, std::uint64_t now);
  void deliver(std::span<const std::uint8_t> payload);
  bool fits(std::size_t n) const;
  void congestion(std::size_t bytes_acked, std::uint32_t delay_sample, std::uint64_t now);
  void rtt_sample(std::uint64_t sample);
  void fail(Error e);
  std::size_t window() const;

  Config cfg_;
  Output out_;
  State state_ = State::idle;
  Error error_ = Error::none;
  std::uint16_t recv_id_ = 0, send_id_ = 0;

  // Sending.
  std::uint16_t seq_nr_ = 0;  // next sequence number to use
  std::uint16_t oldest_ = 0;  // oldest unacked sequence number (== seq_nr_ when none)
  std::vector<Out> out_ring_;
  std::vector<std::uint8_t> pending_;  // written, not yet in a packet
  std::size_t pending_at_ = 0;
  std::size_t inflight_bytes_ = 0;    // payload of sent packets not acked or marked for resend
  std::size_t inflight_payload_ = 0;  // payload of every unacked packet
  std::size_t resend_count_ = 0;
  std::size_t peer_wnd_ = 1400;
  double cwnd_ = 0;
  std::size_t ssthresh_ = SIZE_MAX;
  bool slow_start_ = true;
  std::uint16_t loss_seq_ = 0;  // no cwnd cut again for losses before this
  bool loss_seen_ = false;
  int dup_acks_ = 0;
  std::uint16_t last_ack_ = 0;
  bool shutdown_ = false, fin_sent_ = false, fin_acked_ = false;
  std::uint16_t fin_seq_ = 0;

  // Timers.
  std::uint64_t srtt_ = 0, rttvar_ = 0, rto_ = 1000000;
  std::uint64_t timeout_at_ = 0;  // 0: no timer
  int timeouts_ = 0;
  int syn_retries_ = 0;
  std::uint64_t last_recv_ = 0, last_sent_ = 0;  // for the idle timeout and keep-alive

  // Receiving.
  std::uint16_t ack_nr_ = 0;  // last sequence number received in order
  std::vector<In> in_ring_;
  std::size_t ooo_bytes_ = 0;
  std::size_t ooo_count_ = 0;
  std::vector<std::uint8_t> recv_;
  std::size_t recv_at_ = 0;
  bool got_fin_ = false;
  bool fin_seen_ = false;
  std::uint16_t eof_seq_ = 0;
  bool ack_owed_ = false;
  int unacked_packets_ = 0;          // received in order since our last packet
  bool window_closed_sent_ = false;  // we advertised less than a packet: tell when it opens
  std::uint32_t reply_micro_ = 0;    // our clock minus the peer's timestamp, last packet

  // LEDBAT base delay: minimum per half window, two halves.
  std::uint32_t base_cur_ = UINT32_MAX, base_prev_ = UINT32_MAX;
  std::uint64_t base_rotate_at_ = 0;

  std::uint64_t retransmits_ = 0, packets_sent_ = 0;
  std::vector<std::uint8_t> scratch_;
};

}  // namespace p2p::utp
