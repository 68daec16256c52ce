#include "p2p/session/events.hpp"

#include <algorithm>

namespace p2p {

const char* to_string(CloseReason r) {
  switch (r) {
    case CloseReason::LocalStop: return "local stop";
    case CloseReason::RemoteClosed: return "remote closed";
    case CloseReason::NetworkError: return "network error";
    case CloseReason::ConnectFailed: return "connect failed";
    case CloseReason::HandshakeTimeout: return "handshake timeout";
    case CloseReason::Inactive: return "inactive";
    case CloseReason::ProtocolError: return "protocol error";
    case CloseReason::WrongTorrent: return "wrong torrent";
    case CloseReason::SelfConnection: return "self connection";
    case CloseReason::Duplicate: return "duplicate";
    case CloseReason::Banned: return "banned";
    case CloseReason::TooManyPeers: return "too many peers";
    case CloseReason::TooManyRequests: return "too many requests";
    case CloseReason::UselessPeer: return "useless peer";
    case CloseReason::Extension: return "extension";
  }
  return "unknown";
}

const char* to_string(TorrentState s) {
  switch (s) {
    case TorrentState::Queued: return "queued";
    case TorrentState::Checking: return "checking";
    case TorrentState::FetchingMetadata: return "fetching metadata";
    case TorrentState::Downloading: return "downloading";
    case TorrentState::Seeding: return "seeding";
    case TorrentState::Paused: return "paused";
    case TorrentState::Error: return "error";
  }
  return "unknown";
}

EventBus::Subscription EventBus::subscribe(Listener l) {
  auto shared = std::make_shared<Listener>(std::move(l));
  listeners_.push_back(shared);
  return Subscription(std::move(shared));
}

void EventBus::publish(const Event& e) {
  // Listeners may subscribe or drop their handle while called: walk a copy of the list.
  auto current = listeners_;
  for (auto& weak : current) {
    if (auto l = weak.lock()) (*l)(e);
  }
  std::erase_if(listeners_, [](const std::weak_ptr<Listener>& w) { return w.expired(); });
}

std::size_t EventBus::num_listeners() const {
  return std::count_if(listeners_.begin(), listeners_.end(),
                       [](const std::weak_ptr<Listener>& w) { return !w.expired(); });
}

}  // namespace p2p
