#include "wallet/password_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace wallet {

std::string read_password_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read password file " + path.string() + ": " +
                             std::strerror(errno));
  }
  std::string line;
  std::getline(in, line);
  if (in.bad()) throw std::runtime_error("cannot read password file " + path.string());
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace wallet
