#pragma once
// Maps a torrent's pieces onto its files and does the disk I/O: sparse file creation, block
// reads and writes with pread/pwrite through a small LRU cache of open descriptors, piece
// hashing, full recheck, and resume data (no rehash on restart when files are unchanged).
//
// Every failure (ENOSPC, EACCES, a missing file, a short read) is thrown as StorageError,
// naming the file and the errno; nothing is silently dropped. All public member functions are
// safe to call from several threads at once.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "p2p/metainfo/metainfo.hpp"
#include "p2p/storage/disk_pool.hpp"
#include "p2p/wire/core_types.hpp"

namespace p2p {

struct ResumeData;

class StorageError : public std::system_error {
 public:
  StorageError(std::error_code ec, const std::filesystem::path& path, const std::string& what);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One contiguous run of bytes inside one file.
struct FileSlice {
  FileIndex file;
  ByteCount offset;  // within the file
  ByteCount size;
};

struct StorageOptions {
  std::size_t max_open_files = 32;  // LRU of descriptors
  bool read_only = false;           // seeding: open files O_RDONLY and never create them
  // Writes whose file offset and length are whole 4 KiB pages bypass the page cache
  // (O_DIRECT) where the file system allows it; the rest, and file systems that refuse it,
  // go through the page cache as usual. A download then costs no copy into freshly
  // allocated cache pages, and does not push other files out of the cache.
  bool direct_writes = true;
  // Where write_and_hash writes while the caller hashes (the session's writer threads);
  // none: the write is done first, on the calling thread.
  DiskPool* writers = nullptr;
};

// Size and modification time of a file on disk, as recorded in resume data.
struct FileStamp {
  ByteCount size = -1;  // -1: missing
  std::int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

class Storage {
 public:
  // save_path is the folder that holds the torrent's file or top folder (libtorrent's
  // save_path). The metainfo must outlive the Storage.
  Storage(const Metainfo& meta, std::filesystem::path save_path, StorageOptions opts = {});
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  const Metainfo& metainfo() const { return meta_; }
  const std::filesystem::path& save_path() const { return save_path_; }
  // The files now live under `save_path` (they were moved): closes the descriptors. No other
  // call may run meanwhile.
  void set_save_path(std::filesystem::path save_path);
  std::filesystem::path file_path(FileIndex f) const;

  // Creates folders and every file (zero-length ones too), extending short files sparsely
  // with ftruncate. Existing data is kept; a file longer than expected is left alone.
  void create_files();

  // The file runs covering [offset, offset+size) of piece p.
  std::vector<FileSlice> map_block(PieceIndex p, std::int32_t offset, std::int64_t size) const;

  // Reads/writes exactly out.size() bytes at offset in piece p (one pread/pwrite per file
  // touched; a block inside one file costs one system call). Throws StorageError; a read
  // past the end of a file that is too short is an error, never zero-filled silently.
  void read(PieceIndex p, std::int32_t offset, std::span<std::uint8_t> out);
  void write(PieceIndex p, std::int32_t offset, std::span<const std::uint8_t> data);

  // Writes a whole downloaded piece and returns its SHA-1, hashing while the write is in
  // flight (the write runs on a helper thread; both are done when this returns, and a write
  // error is thrown here). The bytes are written whatever the digest: a piece that fails its
  // check is not ours yet and is simply written again when fetched again.
  Sha1Digest write_and_hash(PieceIndex p, std::span<const std::uint8_t> data);

  // The same without waiting for the write: it is queued to StorageOptions::writers and
  // this thread hashes, so the caller can go on to hash the next piece while the disk still
  // writes this one, and two writes can be in flight (a disk with a queue stays busy). `done`
  // gets the digest and the write's error (null when none) from whichever thread finishes
  // last; `data` must stay alive and unchanged until then.
  using PieceDone = std::function<void(const Sha1Digest& digest, std::exception_ptr error)>;
  void write_and_hash_async(PieceIndex p, std::span<const std::uint8_t> data, PieceDone done);

  Sha1Digest hash_piece(PieceIndex p);
  // True when the piece on disk matches its hash; false if it differs or a file is missing or
  // short (the piece is simply not there yet). Other I/O errors throw.
  bool verify_piece(PieceIndex p);

  // Hashes every piece. progress(piece, ok) is called after each one; when it returns false
  // the check stops there (the pieces not reached count as missing).
  using Progress = std::function<bool(PieceIndex, bool)>;
  std::vector<bool> recheck(const Progress& progress = {});

  // Sizes and mtimes of the files now.
  std::vector<FileStamp> stat_files() const;
  ResumeData make_resume_data(const std::vector<bool>& have) const;
  // The have-bitfield from resume data if it belongs to this torrent and every file's size
  // and mtime still match; nullopt means a recheck is needed.
  std::optional<std::vector<bool>> check_resume_data(const ResumeData& rd) const;

  // Loads resume data from resume_file when valid, else rechecks everything; then writes
  // fresh resume data to resume_file. The usual start-up path of a seeder.
  std::vector<bool> load_or_recheck(const std::filesystem::path& resume_file,
                                    const Progress& progress = {});

  // Flushes written data to disk (fdatasync on every open file) and closes descriptors.
  void flush();
  void close_files();

 private:
  struct OpenFile;
  // The cached descriptor of file f, opened for writing when asked. Shared so that a
  // descriptor evicted by another thread stays open until this I/O is done.
  std::shared_ptr<OpenFile> open_file(FileIndex f, bool for_write);
  void io(PieceIndex p, std::int32_t offset, std::uint8_t* buf, std::int64_t size, bool write);
  // Writes n bytes at file_off of file i, the page-aligned part unbuffered when possible.
  void write_slice(std::size_t i, OpenFile& of, const std::uint8_t* buf, ByteCount n,
                   ByteCount file_off);
  void pwrite_all(std::size_t i, int fd, const std::uint8_t* buf, ByteCount n, ByteCount off);

  const Metainfo& meta_;
  std::filesystem::path save_path_;
  StorageOptions opts_;
  std::vector<std::filesystem::path> paths_;
  std::vector<ByteCount> file_ends_;  // offset + length of each file, for lookup
  std::mutex mu_;
  std::list<std::shared_ptr<OpenFile>> lru_;  // front = most recently used
};

}  // namespace p2p
