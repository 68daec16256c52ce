// libFuzzer target: HTTP tracker announce replies.
#include <cstdlib>
#include <string_view>

#include "p2p/tracker/tracker_http.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    auto r = p2p::parse_http_announce_response(in);
    if (r.interval.count() <= 0) std::abort();
    for (const auto& p : r.peers) {
      if (p.endpoint.port() == 0) std::abort();
    }
  } catch (const p2p::TrackerResponseError&) {
  }
  return 0;
}
