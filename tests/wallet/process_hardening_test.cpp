// A process that may hold a key leaves no core file and cannot be dumped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "wallet/process_hardening.hpp"

namespace {

// Runs harden_process in a child and reports what the child saw: bit 0 dumpable, bit 1 a
// core limit above zero.
int child_after_hardening() {
  pid_t pid = ::fork();
  if (pid == 0) {
    // Start from the permissive state a shell may give.
    rlimit some{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_CORE, &some);
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    if (!wallet::harden_process().empty()) ::_exit(100);
    rlimit core{};
    ::getrlimit(RLIMIT_CORE, &core);
    int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    ::_exit((dumpable != 0 ? 1 : 0) | (core.rlim_cur != 0 || core.rlim_max != 0 ? 2 : 0));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ProcessHardening, ChildIsNotDumpableAndHasNoCoreLimit) {
  EXPECT_EQ(child_after_hardening(), 0) << "1: still dumpable, 2: core limit above 0";
}

std::string limits_line(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) return line;
  }
  return {};
}

// `bttnode wallet import` waits for the key on stdin: the running program is already hardened.
TEST(ProcessHardening, BttnodeRunsWithoutCoreFiles) {
  int in[2];
  ASSERT_EQ(::pipe(in), 0);
  auto keystore = std::filesystem::temp_directory_path() /
                  ("hardening-" + std::to_string(::getpid()) + ".json");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::close(in[1]);
    rlimit some{RLIM_INFINITY, RLIM_INFINITY};
    ::setrlimit(RLIMIT_CORE, &some);
    ::execl(BTTNODE_BINARY, BTTNODE_BINARY, "wallet", "import", "--keystore", keystore.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  // "Max core file size        0                    0                    bytes", once the
  // program runs (before that, the limits are the forked child's: unlimited).
  std::string line, soft, hard;
  for (int i = 0; i < 200; ++i) {
    line = limits_line(pid, "Max core file size");
    std::istringstream fields(line.substr(std::min(line.size(), std::size_t{18})));
    fields >> soft >> hard;
    if (soft == "0" && hard == "0") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::close(in[1]);  // no key: the program exits
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::filesystem::remove(keystore);
  EXPECT_EQ(soft, "0") << line;
  EXPECT_EQ(hard, "0") << line;
}

}  // namespace
