// Drives the peer protocol core with arbitrary bytes after a valid handshake, interleaving the
// events a torrent would send (choke, unchoke, disk reads completing, ticks). The first byte
// picks the torrent (seed, leecher or magnet) and whether the peer has the fast bit.
#include <cstddef>
#include <cstdint>

#include "p2p/peer/peer_protocol.hpp"
#include "tests/p2p/protocol_host.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::uint8_t mode = data[0];
  ++data;
  --size;
  protocol_test::TestHost host(4, 32 * 1024, 1000, (mode & 3) != 2);
  if ((mode & 3) == 1) host.make_seed();
  p2p::ProtocolSettings s;
  s.our_peer_id.fill(0x55);
  s.max_refused_requests = 50;
  p2p::PeerProtocol proto(host, s, true);

  p2p::wire::Handshake hs;
  hs.set_fast(mode & 4);
  hs.set_extensions(mode & 8);
  hs.info_hash = host.ih;
  hs.peer_id.fill(0xaa);
  std::uint8_t hb[p2p::wire::kHandshakeSize];
  p2p::wire::write_handshake(hs, hb);
  proto.on_bytes(hb);
  if (mode & 16) proto.choke(false);

  auto now = p2p::PeerProtocol::Clock::now();
  std::size_t pos = 0;
  int step = 0;
  while (pos < size && !proto.closed()) {
    // Chunks of 1..64 bytes, so messages are split across reads.
    std::size_t n = std::min<std::size_t>(size - pos, 1 + (data[pos] & 63));
    proto.on_bytes(std::span<const std::uint8_t>(data + pos, n));
    pos += n;
    switch (++step % 7) {
      case 1:
        host.complete_reads();
        break;
      case 2:
        proto.choke(step % 3 == 0);
        break;
      case 3:
        proto.tick(now + std::chrono::seconds(step));
        break;
      case 4:
        proto.send_extension_message("ut_metadata", "x");
        break;
      case 5:
        if (host.pieces && !host.pieces->have(p2p::PieceIndex(0))) {
          host.pieces->set_have(p2p::PieceIndex(0));
          proto.send_have(p2p::PieceIndex(0));
        }
        break;
      default:
        break;
    }
    while (true) {
      auto b = proto.begin_write();
      if (b.empty()) break;
      proto.on_write_done();
    }
  }
  host.complete_reads();
  proto.on_closed();
  return 0;
}
