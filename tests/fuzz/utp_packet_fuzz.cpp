// Feeds datagrams to the uTP codec and to a connection in each role: the input is a series of
// [2-byte length][datagram] records; each that parses goes to the connection, with the clock
// advancing and timers ticking between them. Writes and reads keep data moving both ways.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "p2p/transport/utp_connection.hpp"
#include "p2p/transport/utp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace utp = p2p::utp;
  if (size < 1) return 0;
  bool initiator = data[0] & 1;
  ++data;
  --size;
  utp::Config cfg;
  cfg.recv_buffer = 64 * 1024;
  cfg.send_buffer = 64 * 1024;
  std::size_t out_bytes = 0;
  utp::Connection c(cfg, [&](std::span<const std::uint8_t> d) { out_bytes += d.size(); });
  std::uint64_t now = 1000000;
  if (initiator) {
    c.connect(0x1234, 100, now);
  } else {
    utp::Header h;
    h.type = utp::Type::syn;
    h.conn_id = 0x1233;
    h.seq = 500;
    h.wnd = 1 << 20;
    std::uint8_t buf[64];
    auto syn = utp::parse({buf, utp::write_header(h, {}, buf)});
    c.accept(*syn, 65000, now);
  }
  std::vector<std::uint8_t> payload(3000, 0x5a);
  std::uint8_t sink[4096];
  while (size >= 2) {
    std::size_t n = std::size_t(data[0]) << 8 | data[1];
    data += 2;
    size -= 2;
    if (n > size) n = size;
    std::span<const std::uint8_t> d(data, n);
    data += n;
    size -= n;
    utp::looks_like_utp(d);
    if (auto p = utp::parse(d)) {
      if (p->payload.size() > d.size()) __builtin_trap();
      c.on_packet(*p, now);
    }
    now += 1000 + (n & 0xff) * 5000;
    c.tick(now);
    c.write(payload, now);
    while (c.read(sink, now)) {
    }
    c.flush_ack(now);
    if (c.unacked() > cfg.send_buffer) __builtin_trap();
    if (c.readable() > cfg.recv_buffer + cfg.max_payload) __builtin_trap();
  }
  return 0;
}
