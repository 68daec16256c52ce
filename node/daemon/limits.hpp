#pragma once
// The seeding limits of a torrent (Transmission's): a ratio of uploaded bytes to the
// torrent's size, and a time seeding with nothing uploaded; each from the session (Global),
// the torrent's own (Single) or none (Unlimited).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "node/daemon/daemon.hpp"

namespace bttnode::daemon {

// The limit a seeding torrent has reached ("ratio limit", "idle seeding limit"), if any.
std::optional<std::string> reached_limit(const TorrentOptions& options, const DaemonConfig& session,
                                         std::int64_t uploaded_ever, std::int64_t total_size,
                                         std::chrono::seconds idle_for);

}  // namespace bttnode::daemon
