#pragma once
// The watch folder: every `interval`, a new NAME.torrent (metainfo) or NAME.magnet (a text
// file holding a magnet link) is handed to `add`, then renamed NAME.torrent.added, or
// NAME.torrent.invalid when it could not be added (the reason is printed). Files over 64 MiB
// are refused unread; a file changed within the last second is left for the next round (it
// may still be being written).
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "node/daemon/daemon.hpp"

namespace bttnode::daemon {

class WatchFolder {
 public:
  static constexpr std::uintmax_t kMaxFileSize = 64u << 20;
  using Add = std::function<void(AddRequest)>;  // throws (DaemonError) to refuse
  using Print = std::function<void(const std::string&)>;

  WatchFolder(boost::asio::io_context& io, std::filesystem::path dir, std::chrono::seconds interval,
              Add add, Print print);
  void start();
  void stop() { timer_.cancel(); }
  // One pass over the folder now; returns how many files were taken (added or refused).
  int scan();

 private:
  void schedule();

  std::filesystem::path dir_;
  std::chrono::seconds interval_;
  Add add_;
  Print print_;
  boost::asio::steady_timer timer_;
};

}  // namespace bttnode::daemon
