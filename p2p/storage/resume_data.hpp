#pragma once
// Resume data: enough to skip the full recheck on restart when the files have not changed.
// Stored as a small bencoded file, written atomically (temp file + rename).
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/wire/core_types.hpp"
#include "p2p/storage/storage.hpp"

namespace p2p {

struct ResumeData {
  InfoHash info_hash{};
  std::vector<FileStamp> files;
  std::vector<bool> have;  // one per piece
};

std::string encode_resume_data(const ResumeData& rd);
// Throws std::runtime_error on malformed data.
ResumeData decode_resume_data(std::string_view bytes);

void save_resume_data(const std::filesystem::path& file, const ResumeData& rd);  // StorageError
// nullopt if the file is absent or malformed (a recheck will follow).
std::optional<ResumeData> load_resume_data(const std::filesystem::path& file);

// Where resume files live when the caller has no better place:
// $BTTNODE_STATE_DIR, else $XDG_STATE_HOME/bttnode, else $HOME/.local/state/bttnode;
// the file is resume/<info-hash hex>.resume under it.
std::filesystem::path default_resume_path(const InfoHash& ih);
// The folder that holds the resume folder (BTTNODE_STATE_DIR, else the XDG state folder).
std::filesystem::path default_state_dir();

}  // namespace p2p
