#pragma once
// Magnet links as BEP 9 defines them: xt=urn:btih:<40 hex | 32 base32>, dn, tr (several),
// x.pe (peer addresses).
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/wire/core_types.hpp"

namespace p2p {

class MagnetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MagnetLink {
  InfoHash info_hash{};
  std::string display_name;           // dn
  std::vector<std::string> trackers;  // tr, in order
  std::vector<std::string> peers;     // x.pe: "host:port" or "[v6]:port"
};

bool is_magnet_uri(std::string_view s);
MagnetLink parse_magnet(std::string_view uri);    // throws MagnetError
std::string make_magnet(const MagnetLink& link);  // hex info-hash, url-encoded values

}  // namespace p2p
