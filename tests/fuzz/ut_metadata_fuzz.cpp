// libFuzzer target: BEP 9 (ut_metadata) messages and the metadata assembler a magnet
// download runs them through. Input: 3 bytes of announced metadata size, then messages as
// [2-byte length][body] as they would arrive from peers.
#include <chrono>
#include <cstdlib>
#include <string_view>

#include "p2p/wire/metadata_exchange.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace md = p2p::metadata;
  if (size < 3) return 0;
  std::int64_t announced = (std::int64_t(data[0]) << 16 | std::int64_t(data[1]) << 8 | data[2]) *
                           (data[0] & 0x80 ? 64 : 1);
  p2p::InfoHash ih{};
  md::Assembler a(ih);
  a.set_size(announced);
  auto now = std::chrono::steady_clock::now();
  std::size_t pos = 3;
  while (pos + 2 <= size) {
    std::size_t len = std::size_t(data[pos]) << 8 | data[pos + 1];
    pos += 2;
    if (len > size - pos) len = size - pos;
    std::string_view body(reinterpret_cast<const char*>(data + pos), len);
    pos += len;
    auto m = md::parse(body);
    if (!m) continue;
    if (m->piece < 0 || m->piece > md::kMaxMetadataSize / md::kPieceSize) std::abort();
    switch (m->type) {
      case md::MsgType::request: {
        // Encode what we would answer and parse it back.
        auto again = md::parse(md::encode_reject(m->piece));
        if (!again || again->type != md::MsgType::reject || again->piece != m->piece) std::abort();
        (void)a.next_request(now);
        break;
      }
      case md::MsgType::reject:
        a.on_reject(m->piece);
        break;
      case md::MsgType::data:
        if (a.on_data(m->piece, m->total_size, m->data)) {
          auto info = a.finish();  // the hash is all zeros: never matches
          if (info) std::abort();
        }
        break;
    }
    now += std::chrono::seconds(11);
  }
  return 0;
}
