#pragma once
// Reading a password from a file: the first line, without its line ending.
#include <filesystem>
#include <string>

namespace wallet {

// Throws std::runtime_error naming the file if it cannot be read.
std::string read_password_file(const std::filesystem::path& path);

}  // namespace wallet
