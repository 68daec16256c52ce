#include "p2p/metainfo/create_torrent.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <exception>
#include <thread>

#include "p2p/wire/bencode.hpp"
#include "p2p/metainfo/sha1.hpp"

namespace p2p {

namespace fs = std::filesystem;
namespace be = bencode;

std::int64_t default_piece_length(ByteCount total_size) {
  // Aim for roughly 1000-2000 pieces; powers of two as every client expects.
  std::int64_t pl = 16 * 1024;
  while (pl < 16ll * 1024 * 1024 && total_size / pl > 2000) pl *= 2;
  return pl;
}

namespace {

struct InputFile {
  fs::path source;
  std::vector<std::string> components;  // below the torrent's top folder
  ByteCount length = 0;
  ByteCount offset = 0;
};

[[noreturn]] void io_fail(int err, const fs::path& p, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what + " " + p.string());
}

std::vector<InputFile> list_files(const fs::path& root, bool single) {
  std::vector<InputFile> files;
  if (single) {
    InputFile f;
    f.source = root;
    f.length = static_cast<ByteCount>(fs::file_size(root));
    files.push_back(std::move(f));
    return files;
  }
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) throw std::system_error(ec, "cannot list " + root.string());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw std::system_error(ec, "cannot list " + root.string());
    // Symbolic links are left out: they could point outside the folder or loop.
    if (it->is_symlink() || !it->is_regular_file()) continue;
    InputFile f;
    f.source = it->path();
    for (const auto& c : it->path().lexically_relative(root)) f.components.push_back(c.string());
    f.length = static_cast<ByteCount>(it->file_size());
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(),
            [](const InputFile& a, const InputFile& b) { return a.components < b.components; });
  return files;
}

// Reads the torrent's byte stream [pos, pos+len) from the files; one per hashing thread.
class StreamReader {
 public:
  explicit StreamReader(const std::vector<InputFile>& files) : files_(files) {}
  ~StreamReader() {
    if (fd_ >= 0) ::close(fd_);
  }

  void read(ByteCount pos, std::uint8_t* buf, ByteCount len) {
    auto it =
        std::upper_bound(files_.begin(), files_.end(), pos,
                         [](ByteCount p, const InputFile& f) { return p < f.offset + f.length; });
    for (auto i = static_cast<std::size_t>(it - files_.begin()); len > 0; ++i) {
      const InputFile& f = files_.at(i);
      if (f.length == 0) continue;
      ByteCount n = std::min(len, f.offset + f.length - pos);
      int fd = open_file(i);
      ByteCount done = 0;
      while (done < n) {
        ssize_t r =
            ::pread(fd, buf + done, static_cast<std::size_t>(n - done), pos - f.offset + done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) io_fail(errno, f.source, "cannot read");
        if (r == 0) io_fail(ENODATA, f.source, "file shrank while being hashed:");
        done += r;
      }
      buf += n;
      pos += n;
      len -= n;
    }
  }

 private:
  int open_file(std::size_t i) {
    if (i == index_) return fd_;
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(files_[i].source.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) io_fail(errno, files_[i].source, "cannot open");
    index_ = i;
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    return fd_;
  }

  const std::vector<InputFile>& files_;
  std::size_t index_ = static_cast<std::size_t>(-1);
  int fd_ = -1;
};

}  // namespace

Metainfo create_torrent(const fs::path& input, const CreateTorrentOptions& opts) {
  fs::path path = input.lexically_normal();
  if (path.has_relative_path() && !path.has_filename()) path = path.parent_path();  // "dir/"
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec) throw std::system_error(ec, "cannot read " + input.string());
  bool single = fs::is_regular_file(status);
  if (!single && !fs::is_directory(status)) {
    throw MetainfoError(input.string() + " is neither a file nor a folder");
  }
  std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..") {
    name = fs::absolute(path).lexically_normal().filename().string();
  }
  if (name.empty() || name == "." || name == "..") {
    throw MetainfoError("cannot name a torrent after " + input.string());
  }

  std::vector<InputFile> files = list_files(path, single);
  if (files.empty()) throw MetainfoError(input.string() + " holds no files");
  ByteCount total = 0;
  for (auto& f : files) {
    f.offset = total;
    total += f.length;
  }
  if (total == 0) throw MetainfoError(input.string() + " holds no data (every file is empty)");

  std::int64_t pl = opts.piece_length ? opts.piece_length : default_piece_length(total);
  if (pl < 16 * 1024 || pl > 128ll * 1024 * 1024 || (pl & (pl - 1)) != 0) {
    throw MetainfoError("piece length must be a power of two from 16 KiB to 128 MiB");
  }
  std::int64_t num_pieces = (total + pl - 1) / pl;
  std::string pieces(static_cast<std::size_t>(num_pieces) * 20, '\0');

  // Each thread hashes a contiguous range of pieces, reading in chunks of whole pieces.
  int threads = std::clamp(opts.threads, 1, 2);
  if (num_pieces < 4) threads = 1;
  std::atomic<ByteCount> hashed{0};
  std::atomic<bool> stop{false};
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads));
  auto work = [&](int t) {
    try {
      std::int64_t first = num_pieces * t / threads;
      std::int64_t last = num_pieces * (t + 1) / threads;
      std::int64_t per_chunk = std::max<std::int64_t>(1, (4ll * 1024 * 1024) / pl);
      std::vector<std::uint8_t> buf(static_cast<std::size_t>(per_chunk * pl));
      StreamReader reader(files);
      for (std::int64_t p = first; p < last && !stop; p += per_chunk) {
        std::int64_t n = std::min(per_chunk, last - p);
        ByteCount begin = p * pl;
        ByteCount len = std::min(total, (p + n) * pl) - begin;
        reader.read(begin, buf.data(), len);
        for (std::int64_t k = 0; k < n; ++k) {
          ByteCount off = k * pl;
          ByteCount plen = std::min(pl, len - off);
          Sha1Digest d =
              sha1(std::span<const std::uint8_t>(buf.data() + off, static_cast<std::size_t>(plen)));
          std::copy(d.begin(), d.end(), pieces.begin() + (p + k) * 20);
        }
        hashed += len;
      }
    } catch (...) {
      errors[static_cast<std::size_t>(t)] = std::current_exception();
      stop = true;
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  if (opts.progress && threads > 1) {
    // The calling thread reports progress while the helpers hash; it hashes range 0 itself
    // only when running alone.
    std::thread self(work, 0);
    while (true) {
      bool done = hashed.load() >= total || stop.load();
      opts.progress(hashed.load(), total);
      if (done) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    self.join();
  } else {
    work(0);
    if (opts.progress) opts.progress(hashed.load(), total);
  }
  for (auto& th : pool) th.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }

  // Files that changed size while hashing would make a torrent that matches nothing.
  for (const auto& f : files) {
    auto now = fs::file_size(f.source, ec);
    if (ec || static_cast<ByteCount>(now) != f.length) {
      throw MetainfoError(f.source.string() + " changed while being hashed");
    }
  }

  be::Dict info;
  info["name"] = name;
  info["piece length"] = pl;
  info["pieces"] = std::move(pieces);
  if (opts.is_private) info["private"] = 1;
  if (single) {
    info["length"] = files[0].length;
  } else {
    be::List list;
    for (const auto& f : files) {
      be::Dict fd;
      fd["length"] = f.length;
      be::List comps;
      for (const auto& c : f.components) comps.emplace_back(c);
      fd["path"] = std::move(comps);
      list.emplace_back(std::move(fd));
    }
    info["files"] = std::move(list);
  }
  Metainfo m = parse_info_dict(be::encode(be::Value(std::move(info))));
  for (const auto& t : opts.trackers) {
    if (!t.empty()) m.trackers.push_back({t});
  }
  m.comment = opts.comment;
  m.created_by = opts.created_by;
  if (!opts.creation_date) {
    m.creation_date = static_cast<std::int64_t>(std::time(nullptr));
  } else if (*opts.creation_date != 0) {
    m.creation_date = opts.creation_date;
  }
  return m;
}

}  // namespace p2p
