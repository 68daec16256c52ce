#pragma once
// The project's log: spdlog underneath, one named logger a category ("peer", "torrent",
// "tracker", "pay", "chain", "rpc", ...), each with its level. Messages go to stderr unless
// set_log_file is called. Never log a private key, a password or a keystore's content.
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace base::log {

// The logger of a category, made on first use with the default level.
std::shared_ptr<spdlog::logger> get(std::string_view category);

// "info", "debug", "warn", ...; a spec such as "info,peer=debug,pay=trace" sets the default
// and per-category levels. Throws std::invalid_argument on an unknown level or bad spec.
void configure(std::string_view spec);

// From now on every category writes to this file (appending) instead of stderr.
void set_log_file(const std::string& path);

}  // namespace base::log
