#include "wallet/process_hardening.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace wallet {

std::string harden_process() {
  std::string problems;
  rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) {
    problems += std::string("cannot disable core files: ") + std::strerror(errno);
  }
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    if (!problems.empty()) problems += "; ";
    problems += std::string("cannot make the process non-dumpable: ") + std::strerror(errno);
  }
  return problems;
}

}  // namespace wallet
