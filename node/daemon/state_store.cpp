#include "node/daemon/state_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "p2p/torrent/torrent.hpp"

namespace bttnode::daemon {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

[[noreturn]] void io_error(const std::string& what, const fs::path& p) {
  throw DaemonError(what + " " + p.string() + ": " + std::strerror(errno));
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

const char* mode_name(LimitMode m) {
  switch (m) {
    case LimitMode::Single:
      return "single";
    case LimitMode::Unlimited:
      return "unlimited";
    case LimitMode::Global:
      break;
  }
  return "global";
}

LimitMode mode_from(const json& v, const char* key) {
  if (!v.is_string()) throw DaemonError(std::string("record: ") + key + ": want a mode");
  const auto s = v.get<std::string>();
  if (s == "global") return LimitMode::Global;
  if (s == "single") return LimitMode::Single;
  if (s == "unlimited") return LimitMode::Unlimited;
  throw DaemonError(std::string("record: ") + key + ": bad mode " + s);
}

template <typename T>
T field(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw DaemonError(std::string("record: bad ") + key);
  }
}

}  // namespace

void write_file_atomic(const fs::path& file, const std::string& data, fs::perms perms, Sync sync) {
  const fs::path tmp = file.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) io_error("cannot write", tmp);
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = e;
      io_error("cannot write", tmp);
    }
    done += std::size_t(n);
  }
  ::fchmod(fd, static_cast<mode_t>(perms));
  if ((sync == Sync::Durable && ::fsync(fd) != 0) || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    io_error("cannot write", tmp);
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    ::unlink(tmp.c_str());
    io_error("cannot rename to", file);
  }
  if (sync == Sync::Durable) fsync_dir(file.parent_path());
}

void sync_state_folder(const fs::path& folder) {
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::syncfs(fd);
  ::close(fd);
}

std::optional<std::string> read_file(const fs::path& file, std::size_t max_size) {
  std::error_code ec;
  auto size = fs::file_size(file, ec);
  if (ec || size > max_size) return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string out(size, '\0');
  in.read(out.data(), std::streamsize(size));
  out.resize(std::size_t(in.gcount()));
  return out;
}

json options_to_json(const TorrentOptions& o) {
  return {{"upload_limit", o.upload_limit},
          {"download_limit", o.download_limit},
          {"upload_limited", o.upload_limited},
          {"download_limited", o.download_limited},
          {"honors_session_limits", o.honors_session_limits},
          {"ratio_limit", o.ratio_limit},
          {"ratio_mode", mode_name(o.ratio_mode)},
          {"idle_limit", o.idle_limit.count()},
          {"idle_mode", mode_name(o.idle_mode)},
          {"labels", o.labels},
          {"bandwidth_priority", o.bandwidth_priority}};
}

TorrentOptions options_from_json(const json& j) {
  TorrentOptions o;
  if (!j.is_object()) throw DaemonError("record: options: want an object");
  o.upload_limit = field<std::int64_t>(j, "upload_limit", o.upload_limit);
  o.download_limit = field<std::int64_t>(j, "download_limit", o.download_limit);
  o.upload_limited = field<bool>(j, "upload_limited", o.upload_limited);
  o.download_limited = field<bool>(j, "download_limited", o.download_limited);
  o.honors_session_limits = field<bool>(j, "honors_session_limits", o.honors_session_limits);
  o.ratio_limit = field<double>(j, "ratio_limit", o.ratio_limit);
  if (j.contains("ratio_mode")) o.ratio_mode = mode_from(j["ratio_mode"], "ratio_mode");
  o.idle_limit = std::chrono::minutes(field<std::int64_t>(j, "idle_limit", o.idle_limit.count()));
  if (j.contains("idle_mode")) o.idle_mode = mode_from(j["idle_mode"], "idle_mode");
  o.labels = field<std::vector<std::string>>(j, "labels", {});
  o.bandwidth_priority = field<int>(j, "bandwidth_priority", 0);
  if (o.upload_limit < 0 || o.download_limit < 0 || o.ratio_limit < 0 || o.idle_limit.count() < 0) {
    throw DaemonError("record: options: negative limit");
  }
  return o;
}

json record_to_json(const DaemonTorrent& t, const std::string& hex) {
  json j = {
      {"id", t.id},
      {"info_hash", hex},
      {"download_dir", t.download_dir.string()},
      {"options", options_to_json(t.options)},
      {"pay", overrides_to_json(t.pay)},
      {"queue_position", t.queue_position},
      {"paused", t.paused},
      {"magnet", t.magnet},
      {"added_date", t.added_date},
      {"done_date", t.done_date},
      {"activity_date", t.activity_date},
      {"start_date", t.start_date},
      {"uploaded", t.uploaded_ever()},
      {"downloaded", t.downloaded_ever()},
      {"corrupt", t.corrupt_before +
                      (t.entry && t.entry->torrent ? t.entry->torrent->counters().failed_down : 0)},
      {"seconds_seeding", t.seconds_seeding_before},
      {"seconds_downloading", t.seconds_downloading_before}};
  if (t.entry && t.entry->torrent) {
    const auto& p = *t.entry->torrent;
    j["name"] = p.name();
    // For people and tests reading the folder; the resume data is what counts.
    j["pieces"] = p.num_pieces();
    j["pieces_have"] = p.num_have();
  }
  return j;
}

std::string record_from_json(const json& j, DaemonTorrent& t) {
  if (!j.is_object()) throw DaemonError("record: want an object");
  t.id = field<int>(j, "id", 0);
  if (t.id <= 0) throw DaemonError("record: bad id");
  std::string hex = field<std::string>(j, "info_hash", "");
  if (hex.size() != 40) throw DaemonError("record: bad info_hash");
  t.download_dir = field<std::string>(j, "download_dir", "");
  if (t.download_dir.empty()) throw DaemonError("record: no download_dir");
  if (j.contains("options")) t.options = options_from_json(j["options"]);
  if (j.contains("pay")) {
    try {
      t.pay = overrides_from_json(j["pay"]);
    } catch (const std::invalid_argument& e) {
      throw DaemonError(std::string("record: pay: ") + e.what());
    }
  }
  t.queue_position = field<int>(j, "queue_position", 0);
  t.paused = field<bool>(j, "paused", false);
  t.magnet = field<std::string>(j, "magnet", "");
  t.added_date = field<std::int64_t>(j, "added_date", 0);
  t.done_date = field<std::int64_t>(j, "done_date", 0);
  t.activity_date = field<std::int64_t>(j, "activity_date", 0);
  t.start_date = field<std::int64_t>(j, "start_date", 0);
  t.uploaded_before = field<std::int64_t>(j, "uploaded", 0);
  t.downloaded_before = field<std::int64_t>(j, "downloaded", 0);
  t.corrupt_before = field<std::int64_t>(j, "corrupt", 0);
  t.seconds_seeding_before = field<std::int64_t>(j, "seconds_seeding", 0);
  t.seconds_downloading_before = field<std::int64_t>(j, "seconds_downloading", 0);
  return hex;
}

}  // namespace bttnode::daemon
