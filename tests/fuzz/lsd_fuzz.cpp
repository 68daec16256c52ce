// libFuzzer target: local service discovery (BEP 14) announces.
#include <cstdlib>
#include <string_view>

#include "p2p/lsd/lsd_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto a = p2p::lsd::parse_announce(in);
  if (!a) return 0;
  if (size > p2p::lsd::kMaxMessage || a->port == 0 || a->info_hashes.empty() ||
      a->info_hashes.size() > p2p::lsd::kMaxHashes || a->cookie.size() > 64) {
    std::abort();
  }
  // What we build from it reads back the same.
  auto again = p2p::lsd::parse_announce(p2p::lsd::build_announce("239.192.152.143:6771", *a));
  if (!again || again->port != a->port || again->info_hashes != a->info_hashes) std::abort();
  return 0;
}
