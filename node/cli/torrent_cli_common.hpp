#pragma once
// Pieces shared by the seed and download commands: their settings, option parsing helpers and
// the progress display.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "p2p/session/events.hpp"
#include "node/runtime/settings.hpp"

namespace p2p {
class Session;
class Torrent;
}  // namespace p2p

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

// What the commands want to hear about their torrent, from the session's events.
struct TorrentWatch {
  std::function<void()> on_checked;  // its data checked: downloading or seeding now
  std::function<void()> on_complete;
  std::function<void(const std::string&)> on_error;
  std::function<void(const std::string& who, const std::string& why)> on_ban;
  std::function<void()> on_metadata;
};
[[nodiscard]] p2p::EventBus::Subscription watch_torrent(p2p::Session& session,
                                                        const p2p::InfoHash& ih, TorrentWatch w);

}  // namespace bttnode
