// libFuzzer target: BEP 11 (ut_pex) messages, with their flags, and a round trip of what
// we would send on.
#include <cstdlib>
#include <string_view>

#include "p2p/wire/pex.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = p2p::pex::parse(in);
  if (!m) return 0;
  if (m->added_flags.size() != m->added.size()) std::abort();
  if (m->added.size() > 1000 || m->dropped.size() > 1000) std::abort();
  p2p::pex::Message out;
  out.added = m->added;
  out.dropped = m->dropped;
  auto back = p2p::pex::parse(p2p::pex::encode(out));
  if (!back) std::abort();
  std::size_t n = std::min(m->added.size(), p2p::pex::kMaxPeersPerMessage);
  if (back->added.size() != n) std::abort();
  for (std::size_t i = 0; i < back->added.size(); ++i) {
    // encode() groups IPv4 before IPv6; compare as sets would be costly: check membership.
    bool found = false;
    for (std::size_t j = 0; j < n && !found; ++j) found = back->added[i] == m->added[j];
    if (!found) std::abort();
  }
  return 0;
}
