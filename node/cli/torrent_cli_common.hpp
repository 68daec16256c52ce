#pragma once
// Pieces shared by the seed and download commands: their settings, option parsing helpers and
// the progress display.
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "node/runtime/settings.hpp"

namespace p2p {
class Torrent;
}

namespace bttnode {

class Args;

// The defaults, then --config FILE (JSON, the settings table's keys), then the flags of the
// table given on the command line. Throws UsageError naming what is wrong.
NodeSettings node_settings_from(const Args& args);
std::uint16_t parse_port(const std::string& text);
// "HOST:PORT" or "[V6]:PORT" -> endpoints (the host is resolved).
std::vector<boost::asio::ip::tcp::endpoint> resolve_peer(boost::asio::io_context& io,
                                                         const std::string& text);
// One status line: progress, rates, peers.
std::string status_line(const p2p::Torrent& t, bool bar);
std::string human_bytes(double bytes);

}  // namespace bttnode
