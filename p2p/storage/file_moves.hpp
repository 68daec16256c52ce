#pragma once
// Moving and deleting a torrent's files, on a disk thread. Every path is a file's relative
// path (from the metainfo, already sanitised) under a root folder; a folder link met under
// the root is never followed, so nothing outside the root is moved or deleted.
#include <filesystem>
#include <string>
#include <vector>

namespace p2p {

// Moves every file that exists under `from` to the same place under `to` (rename, or copy
// and delete when they are on different file systems; modification times kept), then
// removes the folders of those files left empty under `from`. A file already at the
// target stops the move before anything is moved; on a later failure the files moved so
// far are put back. Returns an error message, empty on success.
std::string move_files(const std::vector<std::filesystem::path>& files,
                       const std::filesystem::path& from, const std::filesystem::path& to);

// Deletes the files under `root`, then their folders under `root` that are left empty
// (never `root` itself). Returns how many files were deleted.
std::size_t delete_files(const std::vector<std::filesystem::path>& files,
                         const std::filesystem::path& root);

}  // namespace p2p
