// libFuzzer target: keystore files. Reading the address and opening with a password either
// succeed or throw KeystoreError; a file never costs more than the scrypt bound.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "wallet/keystore.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = [] {
    std::string dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return dir + "/keystore-fuzz-" + std::to_string(::getpid()) + ".json";
  }();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) std::abort();
  if (size > 0 && ::write(fd, data, size) != static_cast<ssize_t>(size)) std::abort();
  ::close(fd);
  bool readable = false;
  try {
    wallet::keystore_address(path);
    readable = true;
  } catch (const wallet::KeystoreError&) {
  }
  // Opening derives a key: only for files that ask for little work, so the fuzzer stays fast
  // (the limits themselves are checked by the unit tests).
  if (readable && size < 4096 &&
      std::string_view(reinterpret_cast<const char*>(data), size).find("\"n\":1024") !=
          std::string_view::npos) {
    try {
      wallet::open_keystore(path, "fuzz");
    } catch (const wallet::KeystoreError&) {
    }
  }
  return 0;
}
