#include "p2p/storage/storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <new>

#include "p2p/metainfo/sha1.hpp"
#include "p2p/storage/resume_data.hpp"

namespace p2p {

namespace fs = std::filesystem;

StorageError::StorageError(std::error_code ec, const fs::path& path, const std::string& what)
    : std::system_error(ec, what + " " + path.string()), path_(path) {}

namespace {

[[noreturn]] void throw_errno(int err, const fs::path& path, const std::string& what) {
  throw StorageError(std::error_code(err, std::generic_category()), path, what);
}

constexpr std::size_t kDirectAlign = 4096;

// Opens root/rel walking rel one component at a time with openat and O_NOFOLLOW, so a
// symbolic link planted inside the save folder (by another user, or an earlier torrent) is
// never followed out of it. root itself is the user's choice and may be a link. Missing
// folders are made when make_dirs. Returns -1 with errno set (ELOOP for a link).
int open_beneath(const fs::path& root, const fs::path& rel, int flags, bool make_dirs) {
  int dir = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0 && errno == ENOENT && make_dirs) {
    std::error_code ec;
    fs::create_directories(root, ec);
    dir = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  }
  if (dir < 0) return -1;
  std::vector<std::string> parts;
  for (const auto& c : rel) parts.push_back(c.string());
  if (parts.empty()) {
    ::close(dir);
    errno = EINVAL;
    return -1;
  }
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const int dflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int next = ::openat(dir, parts[i].c_str(), dflags);
    if (next < 0 && errno == ENOENT && make_dirs) {
      if (::mkdirat(dir, parts[i].c_str(), 0755) == 0 || errno == EEXIST) {
        next = ::openat(dir, parts[i].c_str(), dflags);
      }
    }
    if (next < 0) {
      int err = errno;
      struct stat st {};
      // O_NOFOLLOW with O_DIRECTORY may say ENOTDIR for a link: say what it is.
      if (::fstatat(dir, parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        err = ELOOP;
      }
      ::close(dir);
      errno = err;
      return -1;
    }
    ::close(dir);
    dir = next;
  }
  int fd = ::openat(dir, parts.back().c_str(), flags | O_NOFOLLOW, 0644);
  int err = errno;
  ::close(dir);
  errno = err;
  return fd;
}

[[noreturn]] void throw_open_error(int err, const fs::path& path) {
  if (err == ELOOP) {
    throw_errno(err, path, "refusing to follow a symbolic link inside the save folder:");
  }
  throw_errno(err, path, "cannot open");
}

// A page-aligned buffer per thread for unbuffered writes from unaligned memory.
std::uint8_t* aligned_scratch(std::size_t n) {
  struct Scratch {
    std::uint8_t* p = nullptr;
    std::size_t cap = 0;
    ~Scratch() { std::free(p); }
  };
  thread_local Scratch s;
  if (s.cap < n) {
    std::free(s.p);
    s.p = nullptr;
    s.cap = 0;
    void* q = nullptr;
    if (::posix_memalign(&q, kDirectAlign, n) != 0) throw std::bad_alloc();
    s.p = static_cast<std::uint8_t*>(q);
    s.cap = n;
  }
  return s.p;
}

}  // namespace

struct Storage::OpenFile {
  FileIndex file;
  int fd = -1;
  bool writable = false;
  int direct_fd = -1;          // the same file opened O_DIRECT, on first aligned write
  bool direct_failed = false;  // the file system refused it: buffered only
  std::mutex direct_mu;
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
    if (direct_fd >= 0) ::close(direct_fd);
  }
};

Storage::Storage(const Metainfo& meta, fs::path save_path, StorageOptions opts)
    : meta_(meta), save_path_(std::move(save_path)), opts_(opts) {
  if (opts_.max_open_files == 0) opts_.max_open_files = 1;
  paths_.reserve(meta_.files.size());
  file_ends_.reserve(meta_.files.size());
  for (const auto& f : meta_.files) {
    paths_.push_back(save_path_ / f.relative_path);
    file_ends_.push_back(f.offset + f.length);
  }
}

Storage::~Storage() = default;

void Storage::set_save_path(fs::path save_path) {
  std::lock_guard lock(mu_);
  lru_.clear();
  save_path_ = std::move(save_path);
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    paths_[i] = save_path_ / meta_.files[i].relative_path;
  }
}

fs::path Storage::file_path(FileIndex f) const {
  return paths_.at(static_cast<std::size_t>(f.get()));
}

std::shared_ptr<Storage::OpenFile> Storage::open_file(FileIndex f, bool for_write) {
  std::lock_guard lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    if ((*it)->file != f) continue;
    if (for_write && !(*it)->writable) {
      lru_.erase(it);  // reopened below for writing
      break;
    }
    if (it != lru_.begin()) lru_.splice(lru_.begin(), lru_, it);
    return lru_.front();
  }
  const fs::path& path = paths_[static_cast<std::size_t>(f.get())];
  if (for_write && opts_.read_only) throw_errno(EROFS, path, "storage is read-only, cannot write");
  int flags = O_CLOEXEC | (opts_.read_only ? O_RDONLY : O_RDWR);
  if (for_write) flags |= O_CREAT;
  const fs::path& rel = meta_.files[static_cast<std::size_t>(f.get())].relative_path;
  // Seeding only reads (links into a media library are common there, and data that does not
  // hash is never served); anything that may write refuses links.
  int fd = opts_.read_only ? ::open(path.c_str(), flags, 0644)
                           : open_beneath(save_path_, rel, flags, for_write);
  bool writable = !opts_.read_only;
  if (fd < 0 && !for_write && writable && (errno == EACCES || errno == EROFS)) {
    // A file we may only read can still be seeded; a later write reopens it and fails then.
    fd = open_beneath(save_path_, rel, O_CLOEXEC | O_RDONLY, false);
    writable = false;
  }
  if (fd < 0) throw_open_error(errno, path);
  auto of = std::make_shared<OpenFile>();
  of->file = f;
  of->fd = fd;
  of->writable = writable;
  lru_.push_front(of);
  while (lru_.size() > opts_.max_open_files) lru_.pop_back();
  return of;
}

void Storage::create_files() {
  if (opts_.read_only) return;
  std::error_code ec;
  fs::create_directories(save_path_, ec);
  if (ec) throw StorageError(ec, save_path_, "cannot create folder");
  for (std::size_t i = 0; i < meta_.files.size(); ++i) {
    const FileEntry& fe = meta_.files[i];
    if (fe.pad) continue;
    auto of = open_file(FileIndex(static_cast<std::int32_t>(i)), true);
    struct stat st {};
    if (::fstat(of->fd, &st) != 0) throw_errno(errno, paths_[i], "cannot stat");
    if (st.st_size < fe.length && ::ftruncate(of->fd, fe.length) != 0) {
      throw_errno(errno, paths_[i], "cannot set the size of");
    }
  }
}

std::vector<FileSlice> Storage::map_block(PieceIndex p, std::int32_t offset,
                                          std::int64_t size) const {
  std::vector<FileSlice> out;
  ByteCount pos = static_cast<ByteCount>(p.get()) * meta_.piece_length + offset;
  ByteCount end = pos + size;
  if (p.get() < 0 || p.get() >= meta_.num_pieces() || offset < 0 || size < 0 ||
      end > meta_.total_size) {
    throw std::out_of_range("block outside the torrent");
  }
  // First file whose end lies beyond pos (skips zero-length files at pos).
  auto it = std::upper_bound(file_ends_.begin(), file_ends_.end(), pos);
  for (auto i = static_cast<std::size_t>(it - file_ends_.begin());
       pos < end && i < meta_.files.size(); ++i) {
    const FileEntry& fe = meta_.files[i];
    if (fe.length == 0) continue;
    ByteCount n = std::min(end, fe.offset + fe.length) - pos;
    out.push_back(FileSlice{FileIndex(static_cast<std::int32_t>(i)), pos - fe.offset, n});
    pos += n;
  }
  return out;
}

void Storage::io(PieceIndex p, std::int32_t offset, std::uint8_t* buf, std::int64_t size,
                 bool write) {
  ByteCount pos = static_cast<ByteCount>(p.get()) * meta_.piece_length + offset;
  ByteCount end = pos + size;
  if (p.get() < 0 || p.get() >= meta_.num_pieces() || offset < 0 || size < 0 ||
      offset + size > meta_.piece_size(p) || end > meta_.total_size) {
    throw std::out_of_range("block outside piece " + std::to_string(p.get()));
  }
  auto it = std::upper_bound(file_ends_.begin(), file_ends_.end(), pos);
  for (auto i = static_cast<std::size_t>(it - file_ends_.begin()); pos < end; ++i) {
    const FileEntry& fe = meta_.files[i];
    if (fe.length == 0) continue;
    ByteCount n = std::min(end, fe.offset + fe.length) - pos;
    ByteCount file_off = pos - fe.offset;
    if (fe.pad) {
      if (!write) std::memset(buf, 0, static_cast<std::size_t>(n));
    } else {
      auto of = open_file(FileIndex(static_cast<std::int32_t>(i)), write);
      if (write) {
        write_slice(i, *of, buf, n, file_off);
      } else {
        ByteCount done = 0;
        while (done < n) {
          ssize_t r =
              ::pread(of->fd, buf + done, static_cast<std::size_t>(n - done), file_off + done);
          if (r < 0) {
            if (errno == EINTR) continue;
            throw_errno(errno, paths_[i], "cannot read from");
          }
          // EOF: the file is shorter than the torrent says.
          if (r == 0) throw_errno(ENODATA, paths_[i], "file is shorter than expected:");
          done += r;
        }
      }
    }
    buf += n;
    pos += n;
  }
}

void Storage::pwrite_all(std::size_t i, int fd, const std::uint8_t* buf, ByteCount n,
                         ByteCount off) {
  ByteCount done = 0;
  while (done < n) {
    ssize_t r = ::pwrite(fd, buf + done, static_cast<std::size_t>(n - done), off + done);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, paths_[i], "cannot write to");
    }
    if (r == 0) throw_errno(EIO, paths_[i], "wrote nothing to");
    done += r;
  }
}

void Storage::write_slice(std::size_t i, OpenFile& of, const std::uint8_t* buf, ByteCount n,
                          ByteCount file_off) {
  // The whole pages of the slice go unbuffered; a head or tail that is not a whole page
  // goes through the page cache (it never shares a page with the unbuffered part).
  ByteCount head = 0;
  if (file_off % ByteCount(kDirectAlign) != 0) {
    head = std::min(n, ByteCount(kDirectAlign) - file_off % ByteCount(kDirectAlign));
  }
  ByteCount body = (n - head) / ByteCount(kDirectAlign) * ByteCount(kDirectAlign);
  if (!opts_.direct_writes || body == 0) return pwrite_all(i, of.fd, buf, n, file_off);
  int dfd = -1;
  {
    std::lock_guard lock(of.direct_mu);
    if (!of.direct_failed && of.direct_fd < 0) {
      of.direct_fd = open_beneath(save_path_, meta_.files[i].relative_path,
                                  O_CLOEXEC | O_WRONLY | O_DIRECT, false);
      if (of.direct_fd < 0) of.direct_failed = true;
    }
    if (!of.direct_failed) dfd = of.direct_fd;
  }
  if (dfd < 0) return pwrite_all(i, of.fd, buf, n, file_off);
  if (head) pwrite_all(i, of.fd, buf, head, file_off);
  const std::uint8_t* src = buf + head;
  ByteCount off = file_off + head;
  ByteCount left = body;
  // Unaligned memory goes through a page-aligned bounce buffer, a piece-sized bite at a time.
  constexpr ByteCount kBite = 4 << 20;
  while (left > 0) {
    ByteCount m = std::min(left, kBite);
    const std::uint8_t* from = src;
    if (reinterpret_cast<std::uintptr_t>(src) % kDirectAlign != 0) {
      std::uint8_t* tmp = aligned_scratch(static_cast<std::size_t>(m));
      std::memcpy(tmp, src, static_cast<std::size_t>(m));
      from = tmp;
    }
    ssize_t r = ::pwrite(dfd, from, static_cast<std::size_t>(m), off);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EINVAL) {
      // Alignment rules stricter than a page (or none at all): stay buffered for this file.
      std::lock_guard lock(of.direct_mu);
      of.direct_failed = true;
      break;
    }
    if (r < 0) throw_errno(errno, paths_[i], "cannot write to");
    if (r == 0) throw_errno(EIO, paths_[i], "wrote nothing to");
    // A short unbuffered write leaves an unaligned rest: finish it buffered.
    if (r % ByteCount(kDirectAlign) != 0) {
      src += r;
      off += r;
      left -= r;
      break;
    }
    src += r;
    off += r;
    left -= r;
  }
  ByteCount rest = left + (n - head - body);
  if (rest > 0) pwrite_all(i, of.fd, src, rest, off);
}

void Storage::read(PieceIndex p, std::int32_t offset, std::span<std::uint8_t> out) {
  io(p, offset, out.data(), static_cast<std::int64_t>(out.size()), false);
}

void Storage::write(PieceIndex p, std::int32_t offset, std::span<const std::uint8_t> data) {
  io(p, offset, const_cast<std::uint8_t*>(data.data()), static_cast<std::int64_t>(data.size()),
     true);
}

Sha1Digest Storage::write_and_hash(PieceIndex p, std::span<const std::uint8_t> data) {
  std::promise<Sha1Digest> result;
  auto ready = result.get_future();
  write_and_hash_async(p, data, [&result](const Sha1Digest& digest, std::exception_ptr error) {
    if (error) {
      result.set_exception(error);
    } else {
      result.set_value(digest);
    }
  });
  return ready.get();
}

void Storage::write_and_hash_async(PieceIndex p, std::span<const std::uint8_t> data,
                                   PieceDone done) {
  // Below this a handoff costs more than the overlap saves.
  constexpr std::size_t kOverlapMin = 256 * 1024;
  auto write_error = [this, p, data]() -> std::exception_ptr {
    try {
      write(p, 0, data);
      return nullptr;
    } catch (...) {
      return std::current_exception();
    }
  };
  if (data.size() < kOverlapMin || !opts_.writers) {
    std::exception_ptr error = write_error();
    done(error ? Sha1Digest{} : sha1(data), error);
    return;
  }
  struct Shared {
    std::atomic<int> left{2};
    Sha1Digest digest{};
    std::exception_ptr error;
    PieceDone done;
  };
  auto shared = std::make_shared<Shared>();
  shared->done = std::move(done);
  auto finish = [](Shared& s) {
    if (s.left.fetch_sub(1, std::memory_order_acq_rel) == 1) s.done(s.digest, s.error);
  };
  opts_.writers->post([shared, write_error, finish] {
    shared->error = write_error();
    finish(*shared);
  });
  try {
    shared->digest = sha1(data);
  } catch (...) {
    // A digest of zeros fails the check: the piece is fetched again, nothing hangs.
  }
  finish(*shared);
}

Sha1Digest Storage::hash_piece(PieceIndex p) {
  thread_local std::vector<std::uint8_t> buf;
  buf.resize(static_cast<std::size_t>(meta_.piece_size(p)));
  read(p, 0, buf);
  return sha1(std::span<const std::uint8_t>(buf));
}

bool Storage::verify_piece(PieceIndex p) {
  try {
    return hash_piece(p) == meta_.piece_hash(p);
  } catch (const StorageError& e) {
    if (e.code() == std::errc::no_such_file_or_directory ||
        e.code() == std::errc::no_message_available) {
      return false;
    }
    throw;
  }
}

std::vector<bool> Storage::recheck(const Progress& progress) {
  std::vector<bool> have(static_cast<std::size_t>(meta_.num_pieces()));
  for (PieceIndex p(0); p.get() < meta_.num_pieces(); ++p) {
    bool ok = verify_piece(p);
    have[static_cast<std::size_t>(p.get())] = ok;
    if (progress && !progress(p, ok)) break;
  }
  return have;
}

std::vector<FileStamp> Storage::stat_files() const {
  std::vector<FileStamp> out;
  out.reserve(paths_.size());
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    FileStamp s;
    struct stat st {};
    bool found = opts_.read_only ? ::stat(paths_[i].c_str(), &st) == 0
                                 : ::lstat(paths_[i].c_str(), &st) == 0 && S_ISREG(st.st_mode);
    if (!meta_.files[i].pad && found) {
      s.size = st.st_size;
      s.mtime_ns =
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    }
    out.push_back(s);
  }
  return out;
}

ResumeData Storage::make_resume_data(const std::vector<bool>& have) const {
  ResumeData rd;
  rd.info_hash = meta_.info_hash;
  rd.files = stat_files();
  rd.have = have;
  return rd;
}

std::optional<std::vector<bool>> Storage::check_resume_data(const ResumeData& rd) const {
  if (rd.info_hash != meta_.info_hash) return std::nullopt;
  if (rd.have.size() != static_cast<std::size_t>(meta_.num_pieces())) return std::nullopt;
  if (rd.files != stat_files()) return std::nullopt;
  return rd.have;
}

std::vector<bool> Storage::load_or_recheck(const fs::path& resume_file, const Progress& progress) {
  if (auto rd = load_resume_data(resume_file)) {
    if (auto have = check_resume_data(*rd)) return *have;
  }
  std::vector<bool> have = recheck(progress);
  close_files();  // an idle torrent should hold no descriptors (many torrents, one process)
  try {
    save_resume_data(resume_file, make_resume_data(have));
  } catch (const StorageError&) {
    // Resume data only saves time on the next start; an unwritable state folder must not
    // stop the torrent.
  }
  return have;
}

void Storage::flush() {
  std::vector<std::shared_ptr<OpenFile>> files;
  {
    std::lock_guard lock(mu_);
    files.assign(lru_.begin(), lru_.end());
  }
  for (const auto& of : files) {
    if (of->writable && ::fdatasync(of->fd) != 0) {
      throw_errno(errno, paths_[static_cast<std::size_t>(of->file.get())], "cannot sync");
    }
  }
}

void Storage::close_files() {
  std::lock_guard lock(mu_);
  lru_.clear();
}

}  // namespace p2p
