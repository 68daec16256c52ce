#include "p2p/storage/file_moves.hpp"

#include <set>
#include <system_error>

namespace p2p {

namespace fs = std::filesystem;

namespace {

// A relative path that stays under its root: not absolute, no "..", no empty part.
bool contained(const fs::path& rel) {
  if (rel.empty() || rel.is_absolute() || rel.has_root_name()) return false;
  for (const auto& c : rel) {
    if (c == ".." || c == "." || c.empty()) return false;
  }
  return true;
}

// True when no folder between root and the file is a link (root itself may be one).
bool no_folder_links(const fs::path& root, const fs::path& rel) {
  fs::path p = root;
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    if (std::next(it) == rel.end()) break;
    p /= *it;
    std::error_code ec;
    auto st = fs::symlink_status(p, ec);
    if (ec) return true;  // missing: nothing to follow
    if (fs::is_symlink(st)) return false;
  }
  return true;
}

// Removes the empty folders of rel's parents under root, deepest first.
void remove_empty_parents(const std::vector<fs::path>& files, const fs::path& root) {
  std::set<fs::path, std::greater<>> dirs;  // deeper paths sort after their parents
  for (const auto& rel : files) {
    if (!contained(rel)) continue;
    for (fs::path d = rel.parent_path(); !d.empty(); d = d.parent_path()) dirs.insert(d);
  }
  for (const auto& d : dirs) {
    if (!no_folder_links(root, d / "x")) continue;
    std::error_code ec;
    fs::path p = root / d;
    auto st = fs::symlink_status(p, ec);
    if (ec || !fs::is_directory(st)) continue;
    if (fs::is_empty(p, ec) && !ec) fs::remove(p, ec);
  }
}

// Moves one file; copies across file systems.
std::error_code move_one(const fs::path& src, const fs::path& dst) {
  std::error_code ec;
  fs::create_directories(dst.parent_path(), ec);
  if (ec) return ec;
  fs::rename(src, dst, ec);
  if (ec != std::errc::cross_device_link) return ec;
  ec.clear();
  auto mtime = fs::last_write_time(src, ec);
  if (ec) return ec;
  fs::copy_file(src, dst, fs::copy_options::none, ec);
  if (!ec) fs::last_write_time(dst, mtime, ec);
  if (!ec) fs::permissions(dst, fs::status(src).permissions(), ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(dst, ignored);
    return ec;
  }
  fs::remove(src, ec);
  return ec;
}

}  // namespace

std::string move_files(const std::vector<fs::path>& files, const fs::path& from,
                       const fs::path& to) {
  std::vector<fs::path> present;
  for (const auto& rel : files) {
    if (!contained(rel)) return "unsafe path " + rel.string();
    if (!no_folder_links(from, rel) || !no_folder_links(to, rel)) {
      return "a folder link in the way of " + rel.string();
    }
    std::error_code ec;
    auto st = fs::symlink_status(from / rel, ec);
    if (ec || !fs::exists(st)) continue;  // not created yet
    if (!fs::is_regular_file(st)) return (from / rel).string() + " is not a regular file";
    if (fs::exists(fs::symlink_status(to / rel, ec))) return (to / rel).string() + " exists";
    present.push_back(rel);
  }
  std::vector<fs::path> moved;
  for (const auto& rel : present) {
    if (auto ec = move_one(from / rel, to / rel)) {
      std::string err = "cannot move " + (from / rel).string() + ": " + ec.message();
      for (const auto& back : moved) (void)move_one(to / back, from / back);
      remove_empty_parents(moved, to);
      return err;
    }
    moved.push_back(rel);
  }
  remove_empty_parents(present, from);
  return {};
}

std::size_t delete_files(const std::vector<fs::path>& files, const fs::path& root) {
  std::size_t n = 0;
  for (const auto& rel : files) {
    if (!contained(rel) || !no_folder_links(root, rel)) continue;
    std::error_code ec;
    auto st = fs::symlink_status(root / rel, ec);
    if (ec || !(fs::is_regular_file(st) || fs::is_symlink(st))) continue;
    if (fs::remove(root / rel, ec)) ++n;
  }
  remove_empty_parents(files, root);
  return n;
}

}  // namespace p2p
