#pragma once
// Byte counters the incentive layer reads: per torrent and per remote peer, payload bytes
// uploaded, payload bytes downloaded, and verified bytes downloaded (blocks of pieces that
// passed their hash, credited to the peer that sent each block).
#include <chrono>
#include <cstdint>
#include <string>

#include "p2p/wire/core_types.hpp"

namespace p2p {

struct TransferCounters {
  ByteCount payload_up = 0;
  ByteCount payload_down = 0;
  ByteCount verified_down = 0;
  ByteCount failed_down = 0;  // bytes of pieces that failed the hash, credited to the sender
  void add(const TransferCounters& o) {
    payload_up += o.payload_up;
    payload_down += o.payload_down;
    verified_down += o.verified_down;
    failed_down += o.failed_down;
  }
};

// An exponentially smoothed byte rate.
class RateMeter {
 public:
  void add(ByteCount bytes) { pending_ += bytes; }
  // Call about once a second with the time since the last call.
  void tick(std::chrono::duration<double> dt) {
    if (dt.count() <= 0) return;
    double instant = double(pending_) / dt.count();
    rate_ = rate_ == 0 ? instant : rate_ * 0.6 + instant * 0.4;
    pending_ = 0;
  }
  double rate() const { return rate_; }

 private:
  ByteCount pending_ = 0;
  double rate_ = 0;
};

// What the engine reports about one remote peer.
struct PeerStats {
  std::string endpoint;  // "ip:port" or "[ip6]:port"
  PeerId peer_id{};
  std::string client;  // "v" of its extended handshake, if any
  bool incoming = false;
  bool utp = false;         // over uTP (BEP 29), else TCP
  bool encrypted = false;   // MSE with RC4
  bool fast = false;        // BEP 6
  bool extensions = false;  // BEP 10
  bool am_choking = true;
  bool am_interested = false;
  bool peer_choking = true;
  bool peer_interested = false;
  bool snubbed = false;
  bool seed = false;
  double progress = 0;  // share of the pieces it has, from its bitfield and HAVEs
  double download_rate = 0;
  double upload_rate = 0;
  std::size_t send_queue = 0;  // bytes queued for the peer, on the wire included
  TransferCounters counters;
};

}  // namespace p2p
