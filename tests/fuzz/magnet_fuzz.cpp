// libFuzzer target: magnet links. An accepted link must survive make_magnet/parse_magnet.
#include <cstdlib>
#include <string_view>

#include "p2p/metainfo/magnet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    auto m = p2p::parse_magnet(in);
    auto again = p2p::parse_magnet(p2p::make_magnet(m));
    if (again.info_hash != m.info_hash || again.trackers != m.trackers || again.peers != m.peers ||
        again.display_name != m.display_name) {
      std::abort();
    }
  } catch (const p2p::MagnetError&) {
  }
  return 0;
}
