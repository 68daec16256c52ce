#include "node/daemon/watch_folder.hpp"

#include <algorithm>
#include <vector>

#include "node/daemon/state_store.hpp"

namespace bttnode::daemon {

namespace fs = std::filesystem;

WatchFolder::WatchFolder(boost::asio::io_context& io, fs::path dir, std::chrono::seconds interval,
                         Add add, Print print)
    : dir_(std::move(dir)),
      interval_(interval),
      add_(std::move(add)),
      print_(std::move(print)),
      timer_(io) {}

void WatchFolder::start() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) print_("watch folder " + dir_.string() + ": " + ec.message());
  scan();
  schedule();
}

void WatchFolder::schedule() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    scan();
    schedule();
  });
}

int WatchFolder::scan() {
  std::error_code ec;
  std::vector<fs::path> found;
  // Bounded: a folder flooded with files is worked through a thousand per round.
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const auto ext = it->path().extension();
    if (ext != ".torrent" && ext != ".magnet") continue;
    std::error_code fec;
    if (!it->is_regular_file(fec)) continue;
    found.push_back(it->path());
    if (found.size() >= 1000) break;
  }
  std::sort(found.begin(), found.end());
  int taken = 0;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& path : found) {
    std::error_code fec;
    auto mtime = fs::last_write_time(path, fec);
    if (fec) continue;
    if (mtime > now - std::chrono::seconds(1)) continue;  // may still be being written
    auto size = fs::file_size(path, fec);
    if (fec) continue;
    std::string error;
    if (size > kMaxFileSize) {
      error = "over 64 MiB";
    } else if (auto data = read_file(path, kMaxFileSize)) {
      AddRequest req;
      if (path.extension() == ".magnet") {
        auto b = data->find_first_not_of(" \t\r\n");
        auto e = data->find_last_not_of(" \t\r\n");
        req.magnet = b == std::string::npos ? "" : data->substr(b, e - b + 1);
      } else {
        req.metainfo = std::move(*data);
      }
      try {
        add_(std::move(req));
      } catch (const std::exception& e) {
        error = e.what();
      }
    } else {
      error = "cannot read it";
    }
    ++taken;
    fs::path to = path.string() + (error.empty() ? ".added" : ".invalid");
    fs::rename(path, to, fec);
    if (!error.empty()) {
      print_("watch folder: " + path.filename().string() + " is invalid: " + error);
    } else {
      print_("watch folder: added " + path.filename().string());
    }
    if (fec) {
      // It could not be renamed: remove it rather than add it again every round.
      fs::remove(path, fec);
    }
  }
  return taken;
}

}  // namespace bttnode::daemon
