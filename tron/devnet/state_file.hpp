#pragma once
// State files: written atomically (temporary file, fsync, rename), so a crash leaves either
// the old file or the new one, never a torn one.
#include <optional>
#include <string>

namespace tron::devnet {

// Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::string& path, const std::string& data);
// nullopt if the file does not exist; throws std::runtime_error if it cannot be read.
std::optional<std::string> read_file_if_exists(const std::string& path);

}  // namespace tron::devnet
