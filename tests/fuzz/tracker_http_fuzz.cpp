// libFuzzer target: HTTP tracker announce and scrape replies.
#include <algorithm>
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
  p2p::InfoHash ih{};
  if (size >= 20) std::copy_n(data + size - 20, 20, ih.begin());
  try {
    auto s = p2p::parse_http_scrape_response(in, ih);
    if (s.complete < 0 || s.incomplete < 0 || s.downloaded < 0) std::abort();
  } catch (const p2p::TrackerResponseError&) {
  }
  return 0;
}
