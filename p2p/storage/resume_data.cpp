#include "p2p/storage/resume_data.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "p2p/wire/bencode.hpp"
#include "base/hex.hpp"

namespace p2p {

namespace be = bencode;
namespace fs = std::filesystem;

std::string encode_resume_data(const ResumeData& rd) {
  be::Dict d;
  d["file-format"] = "bttnode resume 1";
  d["info-hash"] =
      std::string(reinterpret_cast<const char*>(rd.info_hash.data()), rd.info_hash.size());
  be::List files;
  for (const auto& f : rd.files) {
    be::List entry;
    entry.emplace_back(f.size);
    entry.emplace_back(f.mtime_ns);
    files.emplace_back(std::move(entry));
  }
  d["files"] = std::move(files);
  std::string bits((rd.have.size() + 7) / 8, '\0');
  for (std::size_t i = 0; i < rd.have.size(); ++i) {
    if (rd.have[i]) bits[i / 8] = static_cast<char>(bits[i / 8] | (0x80 >> (i % 8)));
  }
  d["pieces"] = static_cast<be::Integer>(rd.have.size());
  d["have"] = std::move(bits);
  return be::encode(be::Value(std::move(d)));
}

ResumeData decode_resume_data(std::string_view bytes) {
  auto bad = [](const std::string& what) { return std::runtime_error("resume data: " + what); };
  be::Value v = be::decode(bytes);
  const be::Value* fmt = v.find("file-format");
  if (!fmt || !fmt->is_string() || fmt->as_string() != "bttnode resume 1")
    throw bad("unknown format");
  ResumeData rd;
  const be::Value* ih = v.find("info-hash");
  if (!ih || !ih->is_string() || ih->as_string().size() != 20) throw bad("bad info-hash");
  std::copy_n(ih->as_string().data(), 20, reinterpret_cast<char*>(rd.info_hash.data()));
  const be::Value* files = v.find("files");
  if (!files || !files->is_list()) throw bad("bad files");
  for (const auto& f : files->as_list()) {
    if (!f.is_list() || f.as_list().size() != 2 || !f.as_list()[0].is_int() ||
        !f.as_list()[1].is_int()) {
      throw bad("bad file entry");
    }
    rd.files.push_back(FileStamp{f.as_list()[0].as_int(), f.as_list()[1].as_int()});
  }
  const be::Value* pieces = v.find("pieces");
  const be::Value* have = v.find("have");
  if (!pieces || !pieces->is_int() || !have || !have->is_string()) throw bad("bad have");
  auto n = pieces->as_int();
  // Compared without n + 7, which overflows for a piece count near the integer's limit.
  std::size_t have_bytes = have->as_string().size();
  if (n < 0 || static_cast<std::uint64_t>(n) > std::uint64_t(have_bytes) * 8 ||
      static_cast<std::uint64_t>(n) + 7 < std::uint64_t(have_bytes) * 8) {
    throw bad("have length does not match the piece count");
  }
  rd.have.resize(static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < rd.have.size(); ++i) {
    rd.have[i] = (static_cast<unsigned char>(have->as_string()[i / 8]) >> (7 - i % 8)) & 1;
  }
  return rd;
}

void save_resume_data(const fs::path& file, const ResumeData& rd) {
  std::error_code ec;
  if (file.has_parent_path()) {
    fs::create_directories(file.parent_path(), ec);
    if (ec) throw StorageError(ec, file.parent_path(), "cannot create folder");
  }
  std::string data = encode_resume_data(rd);
  fs::path tmp = file;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw StorageError(std::error_code(errno, std::generic_category()), tmp, "cannot create");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::write(fd, data.data() + done, data.size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      int err = r < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw StorageError(std::error_code(err, std::generic_category()), tmp, "cannot write");
    }
    done += static_cast<std::size_t>(r);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw StorageError(std::error_code(err, std::generic_category()), tmp, "cannot write");
  }
  fs::rename(tmp, file, ec);
  if (ec) {
    ::unlink(tmp.c_str());
    throw StorageError(ec, file, "cannot replace");
  }
}

std::optional<ResumeData> load_resume_data(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return decode_resume_data(ss.str());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

fs::path default_resume_path(const InfoHash& ih) {
  return default_state_dir() / "resume" / (base::to_hex(ih) + ".resume");
}

fs::path default_state_dir() {
  fs::path base;
  if (const char* s = std::getenv("BTTNODE_STATE_DIR"); s && *s) {
    base = s;
  } else if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    base = fs::path(x) / "bttnode";
  } else if (const char* h = std::getenv("HOME"); h && *h) {
    base = fs::path(h) / ".local" / "state" / "bttnode";
  } else {
    base = fs::temp_directory_path() / "bttnode-state";
  }
  return base;
}

}  // namespace p2p
