#pragma once

namespace p2p {

// The client id used in peer ids and the BEP 10 handshake ("v").
inline constexpr const char* kClientName = "bttnode";
inline constexpr const char* kPeerIdPrefix = "-BN0010-";

}  // namespace p2p
