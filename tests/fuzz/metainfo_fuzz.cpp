// libFuzzer target: .torrent parsing. An accepted torrent must be self-consistent and keep
// its info-hash through encode/parse.
#include <cstdlib>
#include <string_view>

#include "p2p/metainfo/metainfo.hpp"

namespace {

void check(const p2p::Metainfo& m) {
  p2p::ByteCount total = 0;
  for (const auto& f : m.files) {
    if (f.length < 0 || f.offset != total || f.path.empty()) std::abort();
    for (const auto& c : f.path) {
      if (c.empty() || c == "." || c == ".." || c.find('/') != std::string::npos) std::abort();
    }
    total += f.length;
  }
  if (total != m.total_size || total <= 0 || m.piece_length <= 0) std::abort();
  if ((total + m.piece_length - 1) / m.piece_length != m.num_pieces()) std::abort();
  std::int64_t sum = 0;
  for (p2p::PieceIndex p(0); p.get() < m.num_pieces(); ++p) {
    auto s = m.piece_size(p);
    if (s <= 0 || s > m.piece_length) std::abort();
    sum += s;
  }
  if (sum != total) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    p2p::Metainfo m = p2p::parse_metainfo(in);
    check(m);
    p2p::Metainfo again = p2p::parse_metainfo(p2p::encode_metainfo(m));
    if (again.info_hash != m.info_hash || again.trackers != m.trackers) std::abort();
  } catch (const p2p::MetainfoError&) {
  }
  try {
    check(p2p::parse_info_dict(in));
  } catch (const p2p::MetainfoError&) {
  }
  return 0;
}
