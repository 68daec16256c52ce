// libFuzzer target: UDP tracker (BEP 15) replies, read as IPv4 and as IPv6.
#include <cstdlib>
#include <string_view>

#include "p2p/tracker/tracker_udp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (bool v6 : {false, true}) {
    auto r = p2p::udp_tracker::parse_reply(in, v6);
    if (r.malformed && !r.error) std::abort();
    if (r.announce && (r.error || r.action != p2p::udp_tracker::kAnnounce)) std::abort();
    if (r.announce && r.announce->peers.size() > size / 6) std::abort();
    if (r.scrape && (r.error || r.action != p2p::udp_tracker::kScrape)) std::abort();
  }
  return 0;
}
