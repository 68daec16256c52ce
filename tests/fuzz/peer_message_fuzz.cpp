// libFuzzer target: the peer wire protocol parser, plus the BEP 9 and BEP 11 extension
// message codecs. The first bytes pick the torrent geometry; the rest is a byte stream from
// a peer, parsed message after message as a connection would.
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "p2p/wire/metadata_exchange.hpp"
#include "p2p/wire/pex.hpp"
#include "p2p/wire/wire_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace w = p2p::wire;
  if (size < 6) return 0;
  w::Geometry geo;
  geo.piece_length = 16384u << (data[0] % 6);
  geo.num_pieces = (static_cast<std::uint32_t>(data[1]) << 8 | data[2]) % 5000;
  std::uint32_t last =
      1 + ((static_cast<std::uint32_t>(data[3]) << 8 | data[4]) % geo.piece_length);
  geo.total_size = geo.num_pieces == 0
                       ? 0
                       : static_cast<std::uint64_t>(geo.num_pieces - 1) * geo.piece_length + last;
  bool with_handshake = data[5] & 1;
  std::span<const std::uint8_t> in(data + 6, size - 6);

  if (with_handshake) {
    if (in.size() < w::kHandshakeSize) return 0;
    auto hs = w::parse_handshake(in.first(w::kHandshakeSize));
    if (hs) {
      std::uint8_t out[w::kHandshakeSize];
      w::write_handshake(*hs, out);
      if (std::memcmp(out, in.data(), w::kHandshakeSize) != 0) std::abort();
    }
    in = in.subspan(w::kHandshakeSize);
  }
  while (!in.empty()) {
    auto r = w::parse_message(in, geo);
    if (r.status != w::ParseStatus::ok) break;
    if (r.consumed == 0 || r.consumed > in.size()) std::abort();
    const auto& m = r.msg;
    if (!m.keep_alive) {
      if (m.id == w::MsgId::piece && geo.num_pieces > 0 &&
          (m.index >= geo.num_pieces || m.begin + m.payload.size() > geo.piece_size(m.index))) {
        std::abort();
      }
      if (m.id == w::MsgId::extended) {
        std::string_view body(reinterpret_cast<const char*>(m.payload.data()), m.payload.size());
        (void)p2p::metadata::parse(body);
        (void)p2p::pex::parse(body);
      }
    }
    in = in.subspan(r.consumed);
  }
  return 0;
}
